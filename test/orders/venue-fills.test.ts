// Fills at an external venue through the same outbox and drain as the book's: one order of ours
// per fill (the street on the other side), applied exactly once to the order, the position, the
// cash and its ledger, recorded with the venue and its ExecID, and reconciled like any fill.
import { beforeAll, describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { reconcilePositions } from '../../src/accounts/reconciliation.ts'
import type { Difference } from '../../src/accounts/reconciliation.ts'
import { verifyAuditChain } from '../../src/audit/chain.ts'
import { tradePage } from '../../src/compliance/service.ts'
import type { Db } from '../../src/db/client.ts'
import { fills } from '../../src/db/schema.ts'
import { drainOutbox } from '../../src/orders/drain.ts'
import { applyFills } from '../../src/orders/fills.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'
import { newJournal } from '../helpers/sqlite-store.ts'

let d: Db
beforeAll(async () => {
  d = (await testDatabase()).handle.db
}, 60_000)

const { newSymbol, newTrader, giveShares, placeBuy, placeSell, account, position, order } =
  orderFixtures(() => d)

/** the constraint Postgres refused a statement by */
const refusedBy = (statement: Promise<unknown>) =>
  statement.then(
    () => 'accepted',
    (err: { cause?: { constraint?: string } }) => err.cause?.constraint,
  )


describe('venue fills', () => {
  test('a routed buy and a routed sell fill at the venue: orders, positions and cash exact, once', async () => {
    const symbol = await newSymbol()
    const buyer = await newTrader(2_000_000)
    const seller = await newTrader()
    await giveShares(seller, symbol, 50, 700_000)
    const buy = await placeBuy(buyer, symbol, 100, 15_010)
    const sell = await placeSell(seller, symbol, 50, 14_990)
    const book = newJournal()
    book.venueFill({ order: buy, side: 'buy', price: 15_005, qty: 60, venue: 'NSIM', execId: 'E1' })
    book.venueFill({ order: buy, side: 'buy', price: 15_000, qty: 40, venue: 'NSIM', execId: 'E2' })
    book.venueFill({ order: sell, side: 'sell', price: 14_995, qty: 50, venue: 'NSIM', execId: 'E3' })
    // the session hands E1 over again: the journal keeps the first
    expect(book.venueFill({ order: buy, side: 'buy', price: 15_005, qty: 60, venue: 'NSIM', execId: 'E1' }).replayed).toBe(true)

    // the first batch reaches Postgres, then the object dies before it forgets it: sent again
    await applyFills(d, symbol, book.pendingFills(2))
    expect((await drainOutbox(book, d, symbol)).fills).toBe(1)
    expect(book.pendingFills()).toEqual([])

    const paid = 60 * 15_005 + 40 * 15_000
    expect(await account(buyer)).toEqual({ cash: 2_000_000 - paid, reserved: 0 })
    expect(await position(buyer, symbol)).toEqual({ qty: 100, reserved: 0, cost: paid })
    expect(await order(buy)).toMatchObject({ status: 'filled', filledQty: 100, avgPriceCents: Math.round(paid / 100) })
    expect(await account(seller)).toEqual({ cash: 50 * 14_995, reserved: 0 })
    expect(await position(seller, symbol)).toEqual({ qty: 0, reserved: 0, cost: 0 })
    expect((await order(sell)).status).toBe('filled')

    const rows = await d.select().from(fills).where(eq(fills.symbol, symbol))
    expect(rows.map((r) => [r.seq, r.orderId, r.counterpartyOrderId, r.venue, r.execId, r.side, r.taker]).sort()).toEqual(
      [
        [1, buy, null, 'NSIM', 'E1', 'buy', true],
        [2, buy, null, 'NSIM', 'E2', 'buy', true],
        [3, sell, null, 'NSIM', 'E3', 'sell', true],
      ].sort(),
    )
    for (const user of [buyer, seller]) expect((await verifyAuditChain(d, user)).valid).toBe(true)

    // the trade report: each venue execution once, our side named, the street's empty
    const window = { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) }
    const reported = (await tradePage(d, window, undefined, 1000)).trades.filter((t) => t.symbol === symbol)
    expect(reported.map((t) => [t.venue, t.buy?.orderId ?? null, t.sell?.orderId ?? null, t.qty, t.aggressor])).toEqual([
      ['NSIM', buy, null, 60, 'buy'],
      ['NSIM', buy, null, 40, 'buy'],
      ['NSIM', null, sell, 50, 'sell'],
    ])
    const run = await reconcilePositions(d, 'test')
    expect((run.details as Difference[]).filter((x) => x.account === buyer || x.account === seller)).toEqual([])
  })

  test('the database keeps a venue fill one-sided and its ExecID unique', async () => {
    const symbol = await newSymbol()
    const buyer = await newTrader(1_000_000)
    const buy = await placeBuy(buyer, symbol, 2, 15_000)
    const book = newJournal()
    book.venueFill({ order: buy, side: 'buy', price: 15_000, qty: 1, venue: 'NSIM', execId: `X-${symbol}` })
    await drainOutbox(book, d, symbol)
    const [row] = await d.select().from(fills).where(and(eq(fills.symbol, symbol), eq(fills.orderId, buy)))
    const { id: _, createdAt: __, ...copy } = row
    // the same ExecID for the same order at the same venue again, even as another fill number:
    // refused (for another order it is another execution: ExecIDs are unique per order)
    expect(await refusedBy(d.insert(fills).values({ ...copy, seq: 99 }).execute())).toBe('fills_venue_order_exec_key')
    // our own book's fill must name its counterparty; a venue's must not
    expect(await refusedBy(d.insert(fills).values({ ...copy, seq: 98, execId: null }).execute())).toBe('fills_venue_side')
  })
})
