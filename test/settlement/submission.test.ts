// The clearing submission from Postgres: a trade date's fills (and only those), after its end of
// day, with every fill of the date out of the books' outboxes; stored once, served unchanged. And
// the sale proceeds not settled yet, which an account may spend but not withdraw.
import { beforeAll, describe, expect, test } from 'bun:test'
import { accountView } from '../../src/accounts/routes.ts'
import { getAccountSummary, moveCash } from '../../src/accounts/service.ts'
import type { Db } from '../../src/db/client.ts'
import { and, eq } from 'drizzle-orm'
import { eodRuns, settlementObligations } from '../../src/db/schema.ts'
import type { OutboxFill } from '../../src/engine/journal.ts'
import { applyFills } from '../../src/orders/fills.ts'
import { tradeDateWindow } from '../../src/settlement/clearing.ts'
import { clearingSubmission, unsubmittedDays } from '../../src/settlement/service.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'

let d: Db
beforeAll(async () => {
  d = (await testDatabase()).handle.db
}, 60_000)

const { newSymbol, newTrader, giveShares, placeBuy, placeSell } = orderFixtures(() => d)

/** a Monday of this test's own, and the Friday before it */
const DATE = '2026-06-15'
const FRIDAY = '2026-06-12'
const linesOf = (csv: string, symbol: string) =>
  csv.split('\n').filter((l) => l.includes(`,${symbol},`))
const at = (iso: string) => Date.parse(iso)

/** the books' outboxes: empty, or holding one fill made at `ts` */
const outboxes = (waiting?: number) => () => ({
  pendingFills: async (): Promise<OutboxFill[]> =>
    waiting === undefined
      ? []
      : [{ fillSeq: 1, seq: 1, taker: 1, maker: 2, side: 'buy', price: 1, qty: 1, ts: waiting }],
})

describe('clearing submission', () => {
  test('the fills no submission took yet, up to the date’s end, netted and stored once; refused before the end of day or while fills wait', async () => {
    const symbol = await newSymbol()
    const [seller, buyer] = [await newTrader(), await newTrader(10_000_000)]
    await giveShares(seller, symbol, 100, 1_400_000)
    const sell = await placeSell(seller, symbol, 100, 15_000)
    const buy = await placeBuy(buyer, symbol, 100, 15_000)
    const fill = (seq: number, qty: number, ts: number): OutboxFill =>
      ({ fillSeq: seq, seq, taker: buy, maker: sell, side: 'buy', price: 15_000, qty, ts })
    // Saturday's trade belongs to Monday; Friday's and Tuesday's do not
    const { from, to } = tradeDateWindow(DATE)
    expect([from.toISOString(), to.toISOString()]).toEqual(['2026-06-13T04:00:00.000Z', '2026-06-16T04:00:00.000Z'])
    await applyFills(d, symbol, [
      fill(1, 10, at('2026-06-12T19:59:00Z')), // Friday 15:59 New York
      fill(2, 20, at('2026-06-13T15:00:00Z')), // Saturday
      fill(3, 30, at('2026-06-15T14:00:00Z')), // Monday
      fill(4, 35, at('2026-06-16T14:00:00Z')), // Tuesday
    ])

    await d.insert(eodRuns).values({ tradeDate: FRIDAY, symbols: 1, expired: 0 })
    const friday = await clearingSubmission(d, outboxes(), FRIDAY, 1)
    expect(linesOf(friday.csv, symbol)).toEqual([
      `${FRIDAY},${DATE},${seller},${symbol},-10,1500.00`,
      `${FRIDAY},${DATE},${buyer},${symbol},10,-1500.00`,
    ])

    const closedFirst = clearingSubmission(d, outboxes(), DATE, 1)
    expect(closedFirst).rejects.toMatchObject({ status: 409, code: 'day_not_closed' })
    await closedFirst.catch(() => {})
    await d.insert(eodRuns).values({ tradeDate: DATE, symbols: 1, expired: 0 })
    const pending = clearingSubmission(d, outboxes(at('2026-06-15T19:00:00Z')), DATE, 1)
    expect(pending).rejects.toMatchObject({ status: 409, code: 'fills_pending' })
    await pending.catch(() => {})

    // a fill of the next day still in an outbox does not hold the date back
    const file = await clearingSubmission(d, outboxes(at('2026-06-16T15:00:00Z')), DATE, 1)
    const lines = file.csv.trimEnd().split('\n')
    expect(linesOf(file.csv, symbol)).toEqual([
      `2026-06-15,2026-06-16,${seller},${symbol},-50,7500.00`,
      `2026-06-15,2026-06-16,${buyer},${symbol},50,-7500.00`,
    ])
    expect(file).toMatchObject({ settleDate: '2026-06-16', controlCents: 0 })
    expect(lines.at(-1)).toBe(`TRAILER,${file.rows},${file.controlQty},0.00,${file.checksum}`)

    // stored: asked again (even as T+2), the same file
    const again = await clearingSubmission(d, outboxes(), DATE, 2)
    expect(again.csv).toBe(file.csv)
    const owed = await d
      .select()
      .from(settlementObligations)
      .where(and(eq(settlementObligations.tradeDate, DATE), eq(settlementObligations.symbol, symbol)))
    expect(owed.map((o) => [o.userId, o.qty, o.cashCents, o.proceedsCents, o.status])).toEqual(
      expect.arrayContaining([
        [seller, -50, 750_000, 750_000, 'pending'],
        [buyer, 50, -750_000, 0, 'pending'],
      ]),
    )

    // a fill of Monday that reached Postgres after Monday's submission (16:30, extended hours)
    // is cleared with Tuesday's
    await applyFills(d, symbol, [fill(5, 5, at('2026-06-15T20:30:00Z'))])
    await d.insert(eodRuns).values({ tradeDate: '2026-06-16', symbols: 1, expired: 0 })
    const tuesday = await clearingSubmission(d, outboxes(), '2026-06-16', 1)
    expect(linesOf(tuesday.csv, symbol)).toEqual([
      `2026-06-16,2026-06-17,${seller},${symbol},-40,6000.00`,
      `2026-06-16,2026-06-17,${buyer},${symbol},40,-6000.00`,
    ])
  })

  test('not before the day’s extended hours end, and never before an earlier closed day’s', async () => {
    // 19:00 New York: extended hours trade until 20:00
    const early = clearingSubmission(d, outboxes(), '2026-06-17', 1, Date.parse('2026-06-17T23:00:00Z'))
    expect(early).rejects.toMatchObject({ status: 409, code: 'trading_not_over', extra: { until: '2026-06-18T00:00:00.000Z' } })
    await early.catch(() => {})

    // (the 19th is Juneteenth)
    await d.insert(eodRuns).values([
      { tradeDate: '2026-06-18', symbols: 1, expired: 0 },
      { tradeDate: '2026-06-22', symbols: 1, expired: 0 },
    ])
    expect(await unsubmittedDays(d)).toEqual(expect.arrayContaining(['2026-06-18', '2026-06-22']))
    const skipped = clearingSubmission(d, outboxes(), '2026-06-22', 1)
    expect(skipped).rejects.toMatchObject({ status: 409, code: 'earlier_day_not_submitted', extra: { earlier: '2026-06-18' } })
    await skipped.catch(() => {})
    // in order, both go
    await clearingSubmission(d, outboxes(), '2026-06-18', 1)
    await clearingSubmission(d, outboxes(), '2026-06-22', 1)
    expect(await unsubmittedDays(d, '2026-06-23')).toEqual([])
  })

  test('a day without a session has no submission', async () => {
    const res = clearingSubmission(d, outboxes(), '2026-11-26', 1)
    expect(res).rejects.toMatchObject({ status: 422, code: 'not_a_trading_day' })
    await res.catch(() => {})
  })
})

describe('unsettled sale proceeds', () => {
  test('count in the account but cannot be withdrawn until they settle', async () => {
    const symbol = await newSymbol()
    const [seller, buyer] = [await newTrader(100_000), await newTrader(10_000_000)]
    await giveShares(seller, symbol, 10, 140_000)
    const sell = await placeSell(seller, symbol, 10, 15_000)
    const buy = await placeBuy(buyer, symbol, 10, 15_000)
    await applyFills(d, symbol, [
      { fillSeq: 1, seq: 1, taker: buy, maker: sell, side: 'buy', price: 15_000, qty: 10, ts: Date.now() },
    ])
    const summary = await getAccountSummary(d, seller)
    expect(summary.unsettledCents).toBe(150_000)
    expect(accountView(summary)).toMatchObject({
      cash: '2500.00',
      buying_power: '2500.00',
      unsettled_proceeds: '1500.00',
      withdrawable: '1000.00',
    })
    const tooMuch = moveCash(d, seller, 'withdrawal', 100_001)
    expect(tooMuch).rejects.toMatchObject({
      status: 422,
      code: 'unsettled_funds',
      extra: { withdrawable: '1000.00', unsettled_proceeds: '1500.00' },
    })
    await tooMuch.catch(() => {})
    expect((await moveCash(d, seller, 'withdrawal', 100_000)).entry.amountCents).toBe(-100_000)
  })
})
