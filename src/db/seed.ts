// Demo data for `npm run dev`: symbols with reference prices, two funded trader accounts with
// holdings, and an admin. Idempotent: existing symbols and users are left as they are.
import { eq } from 'drizzle-orm'
import { postCash } from '../accounts/ledger.ts'
import { appendAudit } from '../audit/chain.ts'
import { hashPassword } from '../auth/password.ts'
import type { Db } from './client.ts'
import { positions, symbols, users } from './schema.ts'

export const DEMO_PASSWORD = 'bourse-demo-password'

/** reference prices in cents */
export const DEMO_SYMBOLS = [
  { symbol: 'AAPL', name: 'Apple Inc.', referencePriceCents: 19_000 },
  { symbol: 'MSFT', name: 'Microsoft Corporation', referencePriceCents: 41_500 },
  { symbol: 'NVDA', name: 'NVIDIA Corporation', referencePriceCents: 12_000 },
  { symbol: 'AMZN', name: 'Amazon.com, Inc.', referencePriceCents: 18_500 },
  { symbol: 'GOOGL', name: 'Alphabet Inc. Class A', referencePriceCents: 17_000 },
  { symbol: 'TSLA', name: 'Tesla, Inc.', referencePriceCents: 24_000 },
  { symbol: 'META', name: 'Meta Platforms, Inc.', referencePriceCents: 50_000 },
  { symbol: 'SPY', name: 'SPDR S&P 500 ETF Trust', referencePriceCents: 54_000 },
  { symbol: 'QQQ', name: 'Invesco QQQ Trust', referencePriceCents: 46_000 },
]

export const DEMO_USERS: {
  email: string
  displayName: string
  role?: 'trader' | 'market_maker' | 'admin'
  cashCents: number
  holdings: { symbol: string; qty: number; costCents: number }[]
}[] = [
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
  {
    email: 'admin@demo.bourse.dev',
    displayName: 'Admin Demo',
    role: 'admin',
    cashCents: 0,
    holdings: [],
  },
]

export async function seedDemo(db: Db, pbkdf2Iterations: number): Promise<{ created: string[] }> {
  await db.insert(symbols).values(DEMO_SYMBOLS).onConflictDoNothing()
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
        .values({
          email: demo.email,
          displayName: demo.displayName,
          passwordHash,
          role: demo.role ?? 'trader',
        })
        .returning()
      await appendAudit(tx, user.id, 'user.registered', { email: demo.email, demo: true })
      if (demo.cashCents > 0) {
        const posted = await postCash(tx, {
          userId: user.id,
          kind: 'deposit',
          cashDelta: demo.cashCents,
          refType: 'seed',
        })
        if (!posted.ok) throw new Error(`seed: cannot fund ${demo.email}`)
      }
      for (const h of demo.holdings) {
        await tx.insert(positions).values({ userId: user.id, ...h })
        // in the ledger as a transfer in, so reconciliation finds where the shares came from
        const posted = await postCash(tx, {
          userId: user.id,
          kind: 'transfer_in',
          cashDelta: 0,
          symbol: h.symbol,
          qty: h.qty,
          refType: 'seed',
          action: 'position.adjustment',
          data: { cost_cents: h.costCents, reason: 'demo seed' },
        })
        if (!posted.ok) throw new Error(`seed: cannot record ${demo.email}'s ${h.symbol}`)
      }
    })
    created.push(demo.email)
  }
  return { created }
}
