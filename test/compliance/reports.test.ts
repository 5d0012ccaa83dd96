// The trade report, pure: one record per execution with both order ids, capacities and the
// aggressor; the trade dates a range covers; CSV and JSON Lines carry the same records.
import { describe, expect, test } from 'bun:test'
import {
  MAX_REPORT_DAYS, REPORT_FORMATS, TRADE_REPORT_COLUMNS, reportFilename,
  reportWindow, tradeReportRecord,
} from '../../src/compliance/reports.ts'
import type { ExecutedTrade } from '../../src/compliance/reports.ts'
import { AppError } from '../../src/errors.ts'
import { nyInstant } from '../../src/settlement/calendar.ts'

const trade: ExecutedTrade = {
  executedAt: new Date('2026-11-25T15:04:05.067Z'),
  venue: 'BOURSE',
  symbol: 'AAPL',
  seq: 42,
  qty: 10,
  priceCents: 15_005,
  buy: { orderId: 7, accountId: 1, role: 'trader' },
  sell: { orderId: 9, accountId: 2, role: 'market_maker' },
  aggressor: 'sell',
  route: null,
}

describe('a report record', () => {
  test('names the execution, both orders and accounts, the taker and each side’s capacity', () => {
    expect(tradeReportRecord(trade)).toEqual({
      execution_time: '2026-11-25T15:04:05.067Z',
      trade_id: 'AAPL-42',
      venue: 'BOURSE',
      symbol: 'AAPL',
      qty: 10,
      price: '150.05',
      buy_order_id: 7,
      sell_order_id: 9,
      buyer_account_id: 1,
      seller_account_id: 2,
      aggressor_side: 'sell',
      buyer_capacity: 'agency',
      seller_capacity: 'principal',
      nbbo_bid: null,
      nbbo_ask: null,
      routed_qty: null,
      price_improvement: null,
    })
    const bought = tradeReportRecord({ ...trade, aggressor: 'buy', sell: { ...trade.sell!, role: 'admin' } })
    expect(bought).toMatchObject({ aggressor_side: 'buy', seller_capacity: 'agency' })
  })

  test('an execution at a venue: our side, and the street’s left empty', () => {
    const routed = tradeReportRecord({ ...trade, venue: 'NSIM', sell: null, aggressor: 'buy' })
    expect(routed).toMatchObject({
      venue: 'NSIM',
      buy_order_id: 7,
      buyer_capacity: 'agency',
      sell_order_id: null,
      seller_account_id: null,
      seller_capacity: null,
    })
    expect(REPORT_FORMATS.csv.line(routed)).toBe('2026-11-25T15:04:05.067Z,AAPL-42,NSIM,AAPL,10,150.05,7,,1,,buy,agency,,,,,\n')
  })

  test('a routed order’s fill at a venue carries the NBBO it was routed at, and the improvement on it', () => {
    const route = { nbboBidCents: 14_990, nbboAskCents: 15_010, routedQty: 40 }
    const bought = tradeReportRecord({ ...trade, venue: 'NSIM', sell: null, aggressor: 'buy', route })
    expect(bought).toMatchObject({ nbbo_bid: '149.90', nbbo_ask: '150.10', routed_qty: 40, price_improvement: '0.05' })
    const sold = tradeReportRecord({ ...trade, venue: 'NSIM', buy: null, route })
    expect(sold).toMatchObject({ price_improvement: '0.15' })
    const slipped = tradeReportRecord({ ...trade, venue: 'NSIM', sell: null, priceCents: 15_012, route })
    expect(slipped.price_improvement).toBe('-0.02')
  })

  test('CSV (header, then one line per record) and JSON Lines carry the same fields', () => {
    const route = { nbboBidCents: 14_990, nbboAskCents: 15_010, routedQty: 40 }
    const record = tradeReportRecord({ ...trade, route })
    const csv = REPORT_FORMATS.csv.header + REPORT_FORMATS.csv.line(record)
    const [header, line, end] = csv.split('\n')
    expect(header.split(',')).toEqual([...TRADE_REPORT_COLUMNS])
    expect(end).toBe('')
    const fromCsv = Object.fromEntries(header.split(',').map((c, i) => [c, line.split(',')[i]]))
    const fromJson = JSON.parse(REPORT_FORMATS.jsonl.line(record))
    expect(REPORT_FORMATS.jsonl.line(record).endsWith('}\n')).toBe(true)
    for (const c of TRADE_REPORT_COLUMNS) expect(fromCsv[c]).toBe(String(fromJson[c]))
    expect(reportFilename('2026-11-01', '2026-11-30', 'jsonl')).toBe('trades_2026-11-01_2026-11-30.jsonl')
  })
})

describe('the range of a report', () => {
  const refused = (from: string, to: string) => {
    try {
      reportWindow(from, to)
    } catch (err) {
      return err instanceof AppError ? { status: err.status, code: err.code } : err
    }
    return undefined
  }

  test('trade dates from..to inclusive, in New York time', () => {
    // Tuesday: after Monday's day ends, to Tuesday's end
    expect(reportWindow('2026-11-24', '2026-11-24')).toEqual({
      from: nyInstant('2026-11-24', 0),
      to: nyInstant('2026-11-25', 0),
    })
    // a Saturday `from` starts with Monday's trade date, whose fills begin after Friday; a
    // Thanksgiving `to` ends with the day before's
    expect(reportWindow('2026-11-21', '2026-11-26')).toEqual({
      from: nyInstant('2026-11-21', 0),
      to: nyInstant('2026-11-26', 0),
    })
    // across the change to standard time (1 November 2026)
    expect(reportWindow('2026-10-30', '2026-11-02').to.toISOString()).toBe('2026-11-03T05:00:00.000Z')
    expect(reportWindow('2026-10-30', '2026-11-02').from.toISOString()).toBe('2026-10-30T04:00:00.000Z')
  })

  test('a range without a trade date is empty', () => {
    const w = reportWindow('2026-11-28', '2026-11-29')
    expect(w.to.getTime()).toBe(w.from.getTime())
  })

  test('`to` before `from`, or longer than a year and a day, is 422 with a stable code', () => {
    expect(refused('2026-11-25', '2026-11-24')).toEqual({ status: 422, code: 'invalid_date_range' })
    expect(MAX_REPORT_DAYS).toBe(366)
    expect(refused('2024-01-01', '2024-12-31')).toBeUndefined() // 366 days, a leap year
    expect(refused('2025-01-01', '2026-01-02')).toEqual({ status: 422, code: 'date_range_too_long' })
  })
})
