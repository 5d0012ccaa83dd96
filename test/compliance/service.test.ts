// The trade report against Postgres: executions paired from both sides' fills, in time then trade
// id order however small the pages (ties on one millisecond, or within it, included), only those
// of the range. Fills are written straight into the database, in 2001, where no other test trades.
import { beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { REPORT_FORMATS, reportWindow } from '../../src/compliance/reports.ts'
import { tradeReport } from '../../src/compliance/service.ts'
import type { Db } from '../../src/db/client.ts'
import { fills, orders, users } from '../../src/db/schema.ts'
import { nyDate } from '../../src/settlement/calendar.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'

let d: Db
beforeAll(async () => {
  d = (await testDatabase()).handle.db
}, 60_000)

const { newSymbol, newTrader } = orderFixtures(() => d)

/** one execution: a buy order and a sell order, and the two fill rows */
async function execute(symbol: string, seq: number, ts: string, buyer: number, seller: number) {
  const [buy, sell] = await d
    .insert(orders)
    .values([buyer, seller].map((userId, i) => ({
      userId, symbol, side: i === 0 ? 'buy' as const : 'sell' as const, type: 'limit' as const,
      timeInForce: 'GTC' as const, qty: seq, priceCents: 10_000 + seq, status: 'filled' as const,
      filledQty: seq, avgPriceCents: 10_000 + seq,
    })))
    .returning({ id: orders.id })
  const side = (own: number, other: number, userId: number, s: 'buy' | 'sell') => ({
    orderId: own, counterpartyOrderId: other, userId, symbol, seq, side: s, taker: s === 'sell',
    qty: seq, priceCents: 10_000 + seq, ts: new Date(ts),
    clearingDate: nyDate(new Date(ts)), // long cleared: no submission of another test takes it
  })
  await d.insert(fills).values([side(buy.id, sell.id, buyer, 'buy'), side(sell.id, buy.id, seller, 'sell')])
  return { buy: buy.id, sell: sell.id }
}

describe('the trade report from Postgres', () => {
  test('every execution of the range once, in order, whatever the page size', async () => {
    const a = await newSymbol()
    const b = `${a}B` // sorts after a
    await d.execute(sql`INSERT INTO symbols (symbol, name, reference_price_cents) VALUES (${b}, ${b}, 10000)`)
    const buyer = await newTrader()
    const seller = await newTrader()
    await d.execute(sql`UPDATE ${users} SET role = 'market_maker' WHERE id = ${seller}`)
    const noon = '2001-03-05T17:00:00.000Z' // a Monday
    const e = [
      await execute(a, 1, noon, buyer, seller),
      await execute(b, 1, noon, buyer, seller),
      await execute(a, 2, noon, buyer, seller),
      await execute(a, 3, noon, buyer, seller),
      await execute(b, 2, '2001-03-06T17:00:00.000Z', buyer, seller),
      await execute(b, 3, '2001-03-07T17:00:00.000Z', buyer, seller), // after the range
    ]
    // 500 µs into the same millisecond: after the other three at noon
    await d.execute(sql`UPDATE ${fills} SET ts = ts + interval '500 microseconds' WHERE symbol = ${a} AND seq = 3`)

    const window = reportWindow('2001-03-05', '2001-03-06')
    const read = async (pageSize: number) => {
      let ended = 0
      const stream = await tradeReport(d, window, REPORT_FORMATS.csv, async () => void ended++, pageSize)
      const text = await new Response(stream).text()
      expect(ended).toBe(1)
      return text
    }
    const whole = await read(1000)
    const rows = whole.trimEnd().split('\n').slice(1).map((l) => l.split(','))
      .filter(([, id]) => id.startsWith(a))
    const [trade, buyOrder, sellOrder, aggressor, capacities] = [1, 6, 7, 10, 11]
    expect(rows.map((r) => r[trade])).toEqual([`${a}-1`, `${a}-2`, `${b}-1`, `${a}-3`, `${b}-2`])
    expect(rows.map((r) => [Number(r[buyOrder]), Number(r[sellOrder])])).toEqual(
      [e[0], e[2], e[1], e[3], e[4]].map((x) => [x.buy, x.sell]),
    )
    expect(rows[3][0]).toBe('2001-03-05T17:00:00.000Z') // to the millisecond
    for (const r of rows) expect([r[aggressor], r[capacities], r[capacities + 1]]).toEqual(['sell', 'agency', 'principal'])
    for (const size of [1, 2, 3]) expect(await read(size)).toBe(whole)
  })
})
