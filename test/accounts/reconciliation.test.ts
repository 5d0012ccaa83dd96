// Position reconciliation: after trading, every stored balance and position equals what the
// ledger, the fills, the transfers and the open orders add up to; a row changed behind the
// write paths' back is found, named with its sources, stored with the run.
import { beforeAll, describe, expect, test } from 'bun:test'
import { and, eq, sql } from 'drizzle-orm'
import { differences, reconcilePositions, recentRuns } from '../../src/accounts/reconciliation.ts'
import type { Difference } from '../../src/accounts/reconciliation.ts'
import type { Db } from '../../src/db/client.ts'
import { positions, users } from '../../src/db/schema.ts'
import { applyFills } from '../../src/orders/fills.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'

let d: Db
beforeAll(async () => {
  d = (await testDatabase()).handle.db
}, 60_000)

const { newSymbol, newTrader, giveShares, placeBuy, placeSell } = orderFixtures(() => d)

describe('differences', () => {
  test('a value agreeing with every recomputation is no difference; each disagreeing source is named', () => {
    expect(
      differences([
        { account: 1, field: 'cash', stored: 100, expected: { ledger: 100 } },
        { account: 1, field: 'reserved_cash', stored: 5, expected: { ledger: 5, orders: 4 } },
        { account: 2, symbol: 'A', field: 'qty', stored: 3, expected: { fills_and_transfers: 2 } },
      ]).map((x) => [x.account, x.field, x.sources]),
    ).toEqual([
      [1, 'reserved_cash', ['orders']],
      [2, 'qty', ['fills_and_transfers']],
    ])
  })
})

describe('reconcilePositions', () => {
  test('trading leaves nothing to report; a position or balance changed behind its back is found', async () => {
    const symbol = await newSymbol()
    const seller = await newTrader(50_000)
    const buyer = await newTrader(10_000_000)
    await giveShares(seller, symbol, 30, 420_000)
    const sell = await placeSell(seller, symbol, 30, 15_000)
    const buy = await placeBuy(buyer, symbol, 20, 15_100)
    await applyFills(d, symbol, [
      { fillSeq: 1, seq: 2, taker: buy, maker: sell, side: 'buy', price: 15_000, qty: 20, ts: Date.now() },
    ])
    const mine = (run: { details: unknown }) =>
      (run.details as Difference[]).filter((x) => x.account === seller || x.account === buyer)

    const clean = await reconcilePositions(d, 'test')
    expect(mine(clean)).toEqual([])
    expect(clean.accounts).toBeGreaterThanOrEqual(2)

    // a phantom share, and a cent that no ledger entry explains (audit_seq moved to get past the
    // trigger that otherwise refuses it)
    await d
      .update(positions)
      .set({ qty: sql`${positions.qty} + 1` })
      .where(and(eq(positions.userId, buyer), eq(positions.symbol, symbol)))
    await d
      .update(users)
      .set({ cashCents: sql`${users.cashCents} + 1`, auditSeq: sql`${users.auditSeq} + 1` })
      .where(eq(users.id, seller))
    const dirty = await reconcilePositions(d, 'test')
    expect(mine(dirty)).toEqual(
      expect.arrayContaining([
        { account: buyer, symbol, field: 'qty', stored: 21, expected: { fills_and_transfers: 20 }, sources: ['fills_and_transfers'] },
        { account: seller, field: 'cash', stored: 50_000 + 300_000 + 1, expected: { ledger: 350_000 }, sources: ['ledger'] },
      ]),
    )
    expect(mine(dirty)).toHaveLength(2)
    expect(dirty.differences).toBeGreaterThanOrEqual(2)
    expect((await recentRuns(d, 1))[0].id).toBe(dirty.id)

    // put back, so the shared database reconciles for the tests after this one
    await d
      .update(positions)
      .set({ qty: sql`${positions.qty} - 1` })
      .where(and(eq(positions.userId, buyer), eq(positions.symbol, symbol)))
    await d
      .update(users)
      .set({ cashCents: sql`${users.cashCents} - 1`, auditSeq: sql`${users.auditSeq} + 1` })
      .where(eq(users.id, seller))
    expect(mine(await reconcilePositions(d, 'test'))).toEqual([])
  })
})
