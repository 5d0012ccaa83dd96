// The activity feed and the statement, pure: one order across fills, cash and settlements (ties
// at one instant included), cursors that resume exactly after a page, what each activity shows,
// months in New York time, holdings undone back to a month's end, and the statement's CSV.
import { describe, expect, test } from 'bun:test'
import {
  activityView, cashMovedCents, decodeCursor, encodeCursor, feedPage, holdingsAt, monthWindow,
  positionOf, statementCsv, STATEMENT_COLUMNS,
} from '../../src/accounts/activities.ts'
import type { Activity } from '../../src/accounts/activities.ts'

const at = (iso: string, micros = '000') => ({
  time: new Date(iso),
  at: iso.replace('Z', `${micros}Z`),
})

const fill = (id: number, iso: string, micros?: string): Activity => ({
  type: 'fill', fillId: id, ...at(iso, micros), symbol: 'AAPL', seq: id, side: id % 2 ? 'buy' : 'sell',
  qty: 2, priceCents: 15_000, orderId: 100 + id, taker: true,
})
const cash = (id: number, iso: string, amountCents = 50_000): Activity => ({
  type: 'cash', ledgerId: id, ...at(iso), kind: amountCents < 0 ? 'withdrawal' : 'deposit',
  amountCents, symbol: null, qty: null,
})
const settled = (iso: string, symbol: string): Activity => ({
  type: 'settlement', ...at(iso), tradeDate: '2026-11-24', settleDate: '2026-11-25', symbol,
  qty: 4, cashCents: -60_000, proceedsCents: 0,
})

describe('the feed', () => {
  const t = '2026-11-25T15:00:00.000Z'
  const sources = [
    [fill(5, t, '900'), fill(4, t, '900'), fill(3, t), fill(1, '2026-11-25T14:00:00.000Z')],
    [cash(9, t), cash(2, '2026-11-25T13:00:00.000Z')],
    [settled(t, 'MSFT'), settled(t, 'AAPL')],
  ]
  const ids = (page: { activities: Activity[] }) => page.activities.map((a) => activityView(a).id)

  test('newest first; at one instant settlements, then cash, then fills, each by its key', () => {
    expect(ids(feedPage(sources, 100))).toEqual([
      'fill_5', 'fill_4', // a few microseconds later than the rest
      'settlement_2026-11-24_MSFT', 'settlement_2026-11-24_AAPL', 'cash_9', 'fill_3',
      'fill_1', 'cash_2',
    ])
    expect(feedPage(sources, 100).next_cursor).toBeNull()
  })

  test('a cursor resumes right after the page’s last activity', () => {
    const first = feedPage(sources, 3)
    expect(ids(first)).toEqual(['fill_5', 'fill_4', 'settlement_2026-11-24_MSFT'])
    const cursor = decodeCursor(first.next_cursor!)
    expect(cursor).toEqual({ at: '2026-11-25T15:00:00.000000Z', type: 'settlement', ref: '2026-11-24:MSFT' })
    expect(cursor).toEqual(positionOf(first.activities[2]))
  })

  test('cursors are opaque and checked: anything else is refused', () => {
    for (const a of sources.flat()) {
      expect(decodeCursor(encodeCursor(positionOf(a)))).toEqual(positionOf(a))
    }
    for (const bad of ['', 'x', btoa('2026|fill|1'), btoa('2026-11-25T15:00:00.000000Z|order|1'),
      btoa('2026-11-25T15:00:00.000000Z|fill|0'), btoa('2026-11-25T15:00:00.000000Z|fill|1|2'),
      btoa('2026-11-25T15:00:00.000000Z|settlement|AAPL'), '!!!!']) {
      expect(decodeCursor(bad)).toBeUndefined()
    }
  })

  test('each activity shows its cash as a signed decimal; a settlement moves none', () => {
    expect(activityView(fill(1, t))).toEqual({
      id: 'fill_1', type: 'fill', time: t, symbol: 'AAPL', side: 'buy', qty: 2, price: '150.00',
      amount: '-300.00', order_id: 101, trade_id: 'AAPL-1', liquidity: 'taker',
    })
    expect(activityView(fill(2, t)).amount).toBe('300.00')
    expect(activityView(cash(3, t, -1_25))).toMatchObject({ id: 'cash_3', kind: 'withdrawal', amount: '-1.25' })
    expect(activityView(settled(t, 'AAPL'))).toEqual({
      id: 'settlement_2026-11-24_AAPL', type: 'settlement', time: t, symbol: 'AAPL',
      trade_date: '2026-11-24', settle_date: '2026-11-25', qty: 4, settled_amount: '-600.00', proceeds: '0.00',
    })
    expect(cashMovedCents(settled(t, 'AAPL'))).toBe(0)
  })
})

describe('the statement', () => {
  test('a month runs from New York midnight to the next month’s, DST and year ends included', () => {
    expect(monthWindow('2026-11')).toEqual({
      start: new Date('2026-11-01T04:00:00.000Z'), // still EDT at midnight
      end: new Date('2026-12-01T05:00:00.000Z'),
    })
    expect(monthWindow('2026-12').end).toEqual(new Date('2027-01-01T05:00:00.000Z'))
    expect(monthWindow('2028-02').end).toEqual(new Date('2028-03-01T05:00:00.000Z'))
  })

  test('holdings at an instant: what is held now with later fills and transfers undone', () => {
    const now = [{ symbol: 'AAPL', qty: 110 }, { symbol: 'MSFT', qty: 0 }, { symbol: 'NVDA', qty: 5 }]
    const since = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: -20 }, { symbol: 'NVDA', qty: 5 }]
    expect(holdingsAt(now, since)).toEqual([{ symbol: 'AAPL', qty: 100 }, { symbol: 'MSFT', qty: 20 }])
    expect(holdingsAt(now, [])).toEqual([{ symbol: 'AAPL', qty: 110 }, { symbol: 'NVDA', qty: 5 }])
  })

  test('CSV: opening cash, the month oldest first, closing cash, holdings; amounts reconcile', () => {
    const activities = [cash(1, '2026-11-02T15:00:00.000Z'), fill(1, '2026-11-03T15:00:00.000Z'),
      settled('2026-11-04T15:00:00.000Z', 'AAPL'), fill(2, '2026-11-05T15:00:00.000Z')]
    const csv = statementCsv({
      month: '2026-11',
      start: new Date('2026-11-01T04:00:00.000Z'),
      asOf: new Date('2026-12-01T05:00:00.000Z'),
      openingCashCents: 1_000_00,
      closingCashCents: 1_500_00,
      activities,
      holdings: [{ symbol: 'AAPL', qty: 100 }],
    })
    const rows = csv.trimEnd().split('\n').map((l) => l.split(','))
    expect(rows[0]).toEqual([...STATEMENT_COLUMNS])
    const col = (name: string) => STATEMENT_COLUMNS.indexOf(name as never)
    expect(rows.map((r) => r[col('record')])).toEqual([
      'record', 'opening_cash', 'activity', 'activity', 'activity', 'activity', 'closing_cash', 'position',
    ])
    expect(rows.map((r) => r[col('activity_id')]).slice(2, 6)).toEqual([
      'cash_1', 'fill_1', 'settlement_2026-11-24_AAPL', 'fill_2',
    ])
    const cents = (s: string) => Math.round(Number(s) * 100)
    const moved = rows.slice(2, 6).reduce((n, r) => n + cents(r[col('amount')] || '0'), 0)
    expect(cents(rows[1][col('cash')]) + moved).toBe(cents(rows[6][col('cash')]))
    expect(rows[4][col('amount')]).toBe('') // the settlement moves no cash…
    expect(rows[4][col('settled_amount')]).toBe('-600.00') // …it settles its trades'
    const position = Object.fromEntries(STATEMENT_COLUMNS.map((c, i) => [c, rows[7][i]]))
    expect(position).toMatchObject({
      record: 'position', time: '2026-12-01T05:00:00.000Z', symbol: 'AAPL', qty: '100', cash: '',
    })
    expect(rows.every((r) => r.length === STATEMENT_COLUMNS.length)).toBe(true)
  })
})
