// The data layer's rules live in Postgres, not only in code: checks, foreign keys, unique keys.
// Each case writes straight to the database (no app code in between) and expects a refusal.
import { beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { CHECK_VIOLATION, UNIQUE_VIOLATION, pgErrorCode } from '../../src/db/pg-errors.ts'
import { cashLedger, fills, orders, positions, symbols, users } from '../../src/db/schema.ts'
import { DEMO_SYMBOLS } from '../../src/db/seed.ts'
import { testDatabase } from '../helpers/db.ts'
import type { TestDatabase } from '../helpers/db.ts'
import { uniqueEmail } from '../helpers/app.ts'

const FOREIGN_KEY_VIOLATION = '23503'
const INVALID_ENUM = '22P02'

let db: TestDatabase
let alice: number
let bob: number
beforeAll(async () => {
  db = await testDatabase()
  await db.handle.db.insert(symbols).values(DEMO_SYMBOLS).onConflictDoNothing()
  const made = await db.handle.db
    .insert(users)
    .values([
      { email: uniqueEmail('ca'), displayName: 'a', passwordHash: 'x' },
      { email: uniqueEmail('cb'), displayName: 'b', passwordHash: 'x' },
    ])
    .returning({ id: users.id })
  // no cash: the ledger-equals-cash check (test/accounts/contract.test.ts) covers every user
  ;[alice, bob] = made.map((u) => u.id)
}, 60_000)

async function refused(p: Promise<unknown>, code: string) {
  let err: unknown
  try {
    await p
  } catch (e) {
    err = e
  }
  expect(err).toBeDefined()
  expect(pgErrorCode(err)).toBe(code)
}

const order = (userId: number, extra: Partial<typeof orders.$inferInsert> = {}) =>
  db.handle.db
    .insert(orders)
    .values({
      userId,
      symbol: 'AAPL',
      side: 'buy',
      type: 'limit',
      timeInForce: 'GTC',
      qty: 10,
      priceCents: 19_000,
      ...extra,
    })
    .returning()

describe('database constraints', () => {
  test('cash, reserved cash and positions never go negative (retail accounts: all of them)', async () => {
    const d = db.handle.db
    await refused(
      d.update(users).set({ cashCents: -1, auditSeq: sql`${users.auditSeq} + 1` }).where(eq(users.id, alice)),
      CHECK_VIOLATION,
    )
    await refused(
      d.update(users).set({ reservedCashCents: 1, auditSeq: sql`${users.auditSeq} + 1` }).where(eq(users.id, alice)),
      CHECK_VIOLATION,
    )
    await refused(
      d.insert(positions).values({ userId: alice, symbol: 'AAPL', qty: -1 }),
      CHECK_VIOLATION,
    )
    // a money change must come with an audit entry (audit_seq moves): the reservation relies on it
    await refused(
      d.update(users).set({ cashCents: 5 }).where(eq(users.id, alice)),
      CHECK_VIOLATION,
    )
    const [tier] = await d.select({ tier: users.tier }).from(users).where(eq(users.id, alice))
    expect(tier.tier).toBe('retail')
  })

  test('no phantom shares: free shares stay within the short limit, which only market makers have', async () => {
    const d = db.handle.db
    await refused(
      d.insert(positions).values({ userId: alice, symbol: 'MSFT', qty: 5, reservedQty: 6 }),
      CHECK_VIOLATION,
    )
    await refused(
      d.update(users).set({ shortLimitQty: 10 }).where(eq(users.id, bob)),
      CHECK_VIOLATION,
    )
    const [mm] = await d
      .insert(users)
      .values({ email: uniqueEmail('mm'), displayName: 'mm', passwordHash: 'x', role: 'market_maker', shortLimitQty: 10 })
      .returning({ id: users.id })
    await d.insert(positions).values({ userId: mm.id, symbol: 'MSFT', qty: -10, costCents: -415_000 })
    await refused(
      d.update(positions).set({ reservedQty: 1 }).where(eq(positions.userId, mm.id)),
      CHECK_VIOLATION,
    )
    const [p] = await d.select().from(positions).where(eq(positions.userId, mm.id))
    expect([p.qty, p.avgCostCents]).toEqual([-10, 41_500])
  })

  test('foreign keys: positions and orders need a listed symbol and a user', async () => {
    const d = db.handle.db
    await refused(
      d.insert(positions).values({ userId: alice, symbol: 'NOPE', qty: 1 }),
      FOREIGN_KEY_VIOLATION,
    )
    await refused(order(2_000_000_000), FOREIGN_KEY_VIOLATION)
  })

  test('client_order_id is unique per user, not across users', async () => {
    const id = `coid-${Date.now()}`
    await order(alice, { clientOrderId: id })
    await refused(order(alice, { clientOrderId: id }), UNIQUE_VIOLATION)
    const [other] = await order(bob, { clientOrderId: id })
    expect(other.clientOrderId).toBe(id)
    // without one, any number of orders
    await order(alice)
    await order(alice)
  })

  test('order status is the issue’s set: partial, not partially_filled', async () => {
    const [o] = await order(alice)
    const [p] = await db.handle.db
      .update(orders)
      .set({ status: 'partial', filledQty: 4, avgPriceCents: 18_990 })
      .where(eq(orders.id, o.id))
      .returning()
    expect(p.status).toBe('partial')
    await refused(
      db.handle.db.execute(sql`UPDATE orders SET status = 'partially_filled' WHERE id = ${o.id}`),
      INVALID_ENUM,
    )
    await refused(
      db.handle.db.update(orders).set({ filledQty: 11 }).where(eq(orders.id, o.id)),
      CHECK_VIOLATION,
    )
  })

  test('a fill is unique per engine event and order: applying it twice is refused', async () => {
    const [buy] = await order(alice)
    const [sell] = await order(bob, { side: 'sell' })
    const seq = Date.now()
    const fill = (orderId: number, counterparty: number, userId: number, side: 'buy' | 'sell') => ({
      orderId,
      counterpartyOrderId: counterparty,
      userId,
      symbol: 'AAPL',
      seq,
      side,
      taker: side === 'buy',
      qty: 5,
      priceCents: 19_000,
      ts: new Date(),
    })
    await db.handle.db
      .insert(fills)
      .values([fill(buy.id, sell.id, alice, 'buy'), fill(sell.id, buy.id, bob, 'sell')])
    await refused(
      db.handle.db.insert(fills).values(fill(buy.id, sell.id, alice, 'buy')),
      UNIQUE_VIOLATION,
    )
    const inserted = await db.handle.db
      .insert(fills)
      .values(fill(buy.id, sell.id, alice, 'buy'))
      .onConflictDoNothing()
      .returning()
    expect(inserted).toEqual([])
  })

  test('the ledger keeps symbol and qty together; positions derive their average cost', async () => {
    await refused(
      db.handle.db.insert(cashLedger).values({
        userId: alice,
        kind: 'transfer_in',
        amountCents: 0,
        cashAfterCents: 0,
        reservedAfterCents: 0,
        symbol: 'AAPL',
      }),
      CHECK_VIOLATION,
    )
    const [p] = await db.handle.db
      .insert(positions)
      .values({ userId: bob, symbol: 'TSLA', qty: 3, costCents: 100 })
      .returning()
    expect(p.avgCostCents).toBe(33)
  })
})
