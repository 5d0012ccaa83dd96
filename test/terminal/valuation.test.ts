// The terminal's money in integer cents (src/terminal/valuation.ts, dom.ts money): positions
// revalued at the last trade anyone made, and amounts shown without floating point.
import { expect, test } from 'bun:test'
import type { Account, Position } from '../../src/client/index.ts'
import { parseSignedCents } from '../../src/lib/money.ts'
import { money, value } from '../../src/terminal/valuation.ts'

const position = (symbol: string, qty: number, cost: string, last: string) =>
  ({ symbol, qty, cost_basis: cost, avg_cost: null, last_price: last }) as Position
const account = { cash: '1000.10' } as Account

test('a trade on the watched symbol moves its value, P&L and equity; others keep the API’s mark', () => {
  const positions = [
    position('AAPL', 90, '17100.00', '190.00'),
    position('MSFT', -3, '-1230.30', '410.10'),
    position('SPY', 0, '0.00', '500.00'),
  ]
  const before = value(positions, new Map(), account)
  expect(before.rows.map((r) => [r.symbol, r.valueCents, r.pnlCents])).toEqual([
    ['AAPL', 1_710_000, 0],
    ['MSFT', -123_030, 0],
  ])
  // someone else's trade at 190.07
  const after = value(positions, new Map([['AAPL', 19_007]]), account)
  expect(after.rows[0]).toMatchObject({ markCents: 19_007, valueCents: 1_710_630, pnlCents: 630 })
  expect(after.marketValueCents).toBe(1_710_630 - 123_030)
  expect(after.pnlCents).toBe(630)
  expect(after.equityCents).toBe(100_010 + 1_710_630 - 123_030)
  expect(value(positions, new Map(), null).equityCents).toBeNull()
})

test('amounts in cents: sums that floats get wrong, signs, grouping', () => {
  // 0.1 + 0.2 in floats is 0.30000000000000004
  expect(money(['0.10', '0.20'].reduce((sum, a) => sum + parseSignedCents(a), 0))).toBe('0.30')
  expect(money('1234567.8')).toBe('1,234,567.80')
  expect(money(-123_456)).toBe('-1,234.56')
  expect(money('-0.05')).toBe('-0.05')
  expect(money(null)).toBe('—')
  expect(parseSignedCents('-12.3')).toBe(-1230)
  expect(() => parseSignedCents('--1')).toThrow(RangeError)
})
