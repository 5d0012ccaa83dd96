// The whole fill path outside workerd: orders placed in Postgres as the gateway does, matched by
// the real engine behind its journal (bun:sqlite standing in for the Durable Object's SQLite),
// then drained into Postgres.
import { beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import type { Db } from '../../src/db/client.ts'
import { orders, positions } from '../../src/db/schema.ts'
import { positionView } from '../../src/accounts/routes.ts'
import { getAccountSummary, getPosition } from '../../src/accounts/service.ts'
import type { AccountEvent } from '../../src/accounts/stream.ts'
import { drainOutbox } from '../../src/orders/drain.ts'
import { applyFills } from '../../src/orders/fills.ts'
import { applyOrderEvents } from '../../src/orders/order-events.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'
import { newJournal } from '../helpers/sqlite-store.ts'

let d: Db
beforeAll(async () => {
  d = (await testDatabase()).handle.db
}, 60_000)

const { newSymbol, newTrader, giveShares, placeBuy, placeSell, sellerAndBuyer, account, position, order } =
  orderFixtures(() => d)


describe('drainOutbox', () => {
  test('the seed scenario, from the book to both accounts, exact to the cent', async () => {
    const { symbol, seller, buyer, sell, buy } =
      await sellerAndBuyer({ shares: 100, costBasis: 1_400_000, buyerCash: 2_000_000, price: 15_000 })
    const book = newJournal()
    book.submit({ id: sell, user: seller, side: 'sell', type: 'limit', qty: 100, price: 15_000, tif: 'GTC' })
    const ack = book.submit({ id: buy, user: buyer, side: 'buy', type: 'limit', qty: 100, price: 15_000, tif: 'GTC' })
    expect(ack.fills).toHaveLength(1)

    expect((await drainOutbox(book, d, symbol)).fills).toBe(1)
    expect(book.pendingFills()).toEqual([])
    expect(await account(buyer)).toEqual({ cash: 500_000, reserved: 0 })
    expect(await account(seller)).toEqual({ cash: 1_500_000, reserved: 0 })
    expect(await position(buyer, symbol)).toEqual({ qty: 100, reserved: 0, cost: 1_500_000 })
    expect(await position(seller, symbol)).toEqual({ qty: 0, reserved: 0, cost: 0 })
    expect((await order(buy)).status).toBe('filled')
    expect((await order(sell)).status).toBe('filled')
    expect((await drainOutbox(book, d, symbol)).fills).toBe(0)
  })

  test('a batch committed but never acknowledged (a crash in between) is re-sent and applied once', async () => {
    const symbol = await newSymbol()
    const seller = await newTrader()
    const buyer = await newTrader(10_000_000)
    await giveShares(seller, symbol, 300, 3_000_000)
    const book = newJournal()
    const sells: number[] = []
    for (const price of [10_000, 10_010, 10_020]) {
      const id = await placeSell(seller, symbol, 100, price)
      sells.push(id)
      book.submit({ id, user: seller, side: 'sell', type: 'limit', qty: 100, price, tif: 'GTC' })
    }
    const buy = await placeBuy(buyer, symbol, 250, 10_020)
    book.submit({ id: buy, user: buyer, side: 'buy', type: 'limit', qty: 250, price: 10_020, tif: 'GTC' })

    // The first two fills reach Postgres, then the object dies before it forgets them.
    await applyFills(d, symbol, book.pendingFills(2))
    expect(book.pendingFills()).toHaveLength(3)
    const published: AccountEvent[] = []
    const publish = async (events: AccountEvent[]) => void published.push(...events)
    expect((await drainOutbox(book, d, symbol, { batchSize: 2, publish })).fills).toBe(1)
    // the two fills sent again are published again (the stream shows each key once), the third
    // for the first time: each order's update under its fill's key, in fill order
    const fillKeys = published.filter((e) => e.type === 'order').map((e) => e.key)
    expect(fillKeys.map((k) => k.split(':').slice(2, 3)[0])).toEqual(['1', '1', '2', '2', '3', '3'])
    const last = published.filter((e) => e.type === 'order' && e.userId === buyer).at(-1)
    expect(last).toMatchObject({ event: 'fill', order: { id: buy, status: 'filled', filled_qty: 250 } })

    const paid = 100 * 10_000 + 100 * 10_010 + 50 * 10_020
    expect(await account(buyer)).toEqual({ cash: 10_000_000 - paid, reserved: 0 })
    expect(await account(seller)).toEqual({ cash: paid, reserved: 0 })
    expect(await position(buyer, symbol)).toEqual({ qty: 250, reserved: 0, cost: paid })
    expect(await position(seller, symbol)).toEqual({ qty: 50, reserved: 50, cost: 500_000 })
    expect((await order(sells[2])).filledQty).toBe(50)
  })

  test('positions and equity are marked at the last trade, or the reference price before any', async () => {
    const symbol = await newSymbol() // reference price 150.00
    const holder = await newTrader()
    await giveShares(holder, symbol, 10, 120_000)
    expect(positionView(await getPosition(d, holder, symbol))).toMatchObject({
      last_price: '150.00',
      market_value: '1500.00',
      unrealized_pnl: '300.00',
    })

    const seller = await newTrader()
    const buyer = await newTrader(1_000_000)
    await giveShares(seller, symbol, 5, 50_000)
    const sell = await placeSell(seller, symbol, 5, 9_950)
    const buy = await placeBuy(buyer, symbol, 5, 9_950)
    const book = newJournal()
    book.submit({ id: sell, user: seller, side: 'sell', type: 'limit', qty: 5, price: 9_950, tif: 'GTC' })
    book.submit({ id: buy, user: buyer, side: 'buy', type: 'limit', qty: 5, price: 9_950, tif: 'GTC' })
    await drainOutbox(book, d, symbol)

    expect(positionView(await getPosition(d, holder, symbol))).toMatchObject({
      last_price: '99.50',
      market_value: '995.00',
      unrealized_pnl: '-205.00',
    })
    expect((await getAccountSummary(d, holder)).positionsValueCents).toBe(99_500)
  })
})

describe('order events through the outbox', () => {
  test('a cancel the gateway never recorded (a crash): the drain releases it, exactly once', async () => {
    const symbol = await newSymbol()
    const buyer = await newTrader(1_000_000)
    const buy = await placeBuy(buyer, symbol, 10, 15_000)
    const book = newJournal()
    book.submit({ id: buy, user: buyer, side: 'buy', type: 'limit', qty: 10, price: 15_000, tif: 'GTC' })
    book.cancel(buy)
    const events = book.pendingOrderEvents()
    expect(await drainOutbox(book, d, symbol)).toEqual({ fills: 0, orderEvents: 1 })
    expect(await order(buy)).toMatchObject({ status: 'canceled', reservedCashCents: 0, reason: 'user' })
    expect(await account(buyer)).toEqual({ cash: 1_000_000, reserved: 0 })
    // re-sent (a crash before the outbox forgot it): nothing more
    expect((await applyOrderEvents(d, symbol, events)).applied).toBe(0)
    expect(await account(buyer)).toEqual({ cash: 1_000_000, reserved: 0 })
  })

  test('an amend after fills: the cut counts the fills made before it', async () => {
    const { symbol, seller, buyer, sell, buy } =
      await sellerAndBuyer({ shares: 10, costBasis: 100_000, buyerCash: 1_000_000, price: 15_000, buyQty: 4 })
    const book = newJournal()
    book.submit({ id: sell, user: seller, side: 'sell', type: 'limit', qty: 10, price: 15_000, tif: 'GTC' })
    book.submit({ id: buy, user: buyer, side: 'buy', type: 'limit', qty: 4, price: 15_000, tif: 'GTC' })
    book.amend(sell, 2) // 6 open → 2: 4 shares cut
    expect(await drainOutbox(book, d, symbol)).toEqual({ fills: 1, orderEvents: 1 })
    expect(await order(sell)).toMatchObject({ status: 'partial', qty: 6, filledQty: 4, reservedQty: 2 })
    expect(await position(seller, symbol)).toEqual({ qty: 6, reserved: 2, cost: 60_000 })
  })

  test('an amend a previous version of the gateway applied itself (a deploy) is not cut twice', async () => {
    const symbol = await newSymbol()
    const seller = await newTrader()
    await giveShares(seller, symbol, 10, 100_000)
    const sell = await placeSell(seller, symbol, 10, 15_000)
    const book = newJournal()
    book.submit({ id: sell, user: seller, side: 'sell', type: 'limit', qty: 10, price: 15_000, tif: 'GTC' })
    book.amend(sell, 6)
    // what that gateway did: the cut of 4, with no order_events row
    await d.transaction(async (tx) => {
      await tx.update(orders).set({ qty: 6, reservedQty: 6 }).where(eq(orders.id, sell))
      await tx.update(positions).set({ reservedQty: 6 }).where(eq(positions.userId, seller))
    })
    expect(await drainOutbox(book, d, symbol)).toEqual({ fills: 0, orderEvents: 1 })
    expect(await order(sell)).toMatchObject({ qty: 6, reservedQty: 6, status: 'open' })
    expect(await position(seller, symbol)).toEqual({ qty: 10, reserved: 6, cost: 100_000 })
  })

  test('the close expires DAY orders: reservations released, GTC orders stay', async () => {
    const symbol = await newSymbol()
    const trader = await newTrader(1_000_000)
    await giveShares(trader, symbol, 5, 50_000)
    const dayBuy = await placeBuy(trader, symbol, 10, 14_000)
    const gtcBuy = await placeBuy(trader, symbol, 1, 14_000)
    const daySell = await placeSell(trader, symbol, 5, 16_000)
    const book = newJournal()
    book.submit({ id: dayBuy, user: trader, side: 'buy', type: 'limit', qty: 10, price: 14_000, tif: 'DAY' })
    book.submit({ id: gtcBuy, user: trader, side: 'buy', type: 'limit', qty: 1, price: 14_000, tif: 'GTC' })
    book.submit({ id: daySell, user: trader, side: 'sell', type: 'limit', qty: 5, price: 16_000, tif: 'DAY' })
    book.close()
    expect(await drainOutbox(book, d, symbol)).toEqual({ fills: 0, orderEvents: 2 })
    expect((await order(dayBuy)).status).toBe('expired')
    expect((await order(daySell)).status).toBe('expired')
    expect((await order(gtcBuy)).status).toBe('open')
    expect(await account(trader)).toEqual({ cash: 1_000_000, reserved: 14_000 })
    expect(await position(trader, symbol)).toEqual({ qty: 5, reserved: 0, cost: 50_000 })
  })
})
