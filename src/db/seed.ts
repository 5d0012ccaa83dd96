// Demo data for `npm run dev`: instruments and two funded accounts with holdings. Idempotent:
// existing instruments and users are left as they are.
import { eq } from 'drizzle-orm'
import { appendAudit } from '../audit/chain.ts'
import { hashPassword } from '../auth/password.ts'
import type { Db } from './client.ts'
import { cashLedger, instruments, positions, users } from './schema.ts'

export const DEMO_PASSWORD = 'bourse-demo-password'

export const DEMO_INSTRUMENTS = [
  { symbol: 'AAPL', name: 'Apple Inc.' },
  { symbol: 'MSFT', name: 'Microsoft Corporation' },
  { symbol: 'NVDA', name: 'NVIDIA Corporation' },
  { symbol: 'AMZN', name: 'Amazon.com, Inc.' },
  { symbol: 'TSLA', name: 'Tesla, Inc.' },
  { symbol: 'GOOGL', name: 'Alphabet Inc. Class A' },
]

export const DEMO_USERS = [
  {
    email: 'alice@demo.bourse.dev',
    displayName: 'Alice Demo',
    cashCents: 10_000_000, // 100,000.00
    holdings: [
      { symbol: 'AAPL', qty: 100, costCents: 1_900_000 },
      { symbol: 'MSFT', qty: 50, costCents: 2_050_000 },
    ],
  },
  {
    email: 'bob@demo.bourse.dev',
    displayName: 'Bob Demo',
    cashCents: 5_000_000, // 50,000.00
    holdings: [
      { symbol: 'AAPL', qty: 200, costCents: 3_700_000 },
      { symbol: 'NVDA', qty: 80, costCents: 960_000 },
    ],
  },
]

export async function seedDemo(db: Db, pbkdf2Iterations: number): Promise<{ created: string[] }> {
  await db.insert(instruments).values(DEMO_INSTRUMENTS).onConflictDoNothing()
  const created: string[] = []
  for (const demo of DEMO_USERS) {
    const [exists] = await db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.email, demo.email))
    if (exists) continue
    const passwordHash = await hashPassword(DEMO_PASSWORD, pbkdf2Iterations)
    await db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({ email: demo.email, displayName: demo.displayName, passwordHash })
        .returning()
      await appendAudit(tx, user.id, 'user.registered', { email: demo.email, demo: true })
      await tx.update(users).set({ cashCents: demo.cashCents }).where(eq(users.id, user.id))
      const [entry] = await tx
        .insert(cashLedger)
        .values({
          userId: user.id,
          kind: 'deposit',
          amountCents: demo.cashCents,
          cashAfterCents: demo.cashCents,
          reservedAfterCents: 0,
          refType: 'seed',
        })
        .returning()
      await appendAudit(tx, user.id, 'cash.deposit', {
        ledger_id: entry.id,
        amount_cents: demo.cashCents,
        cash_after_cents: demo.cashCents,
      })
      for (const h of demo.holdings) {
        await tx.insert(positions).values({ userId: user.id, ...h })
        await appendAudit(tx, user.id, 'position.adjustment', {
          symbol: h.symbol,
          qty: h.qty,
          cost_cents: h.costCents,
          reason: 'demo seed',
        })
      }
    })
    created.push(demo.email)
  }
  return { created }
}
