// The pattern-day-trader counting rules, pure.
import { describe, expect, test } from 'bun:test'
import { dayTradeOutlook, walkDayTrades } from '../../src/orders/day-trades.ts'
import type { PdtFill } from '../../src/orders/day-trades.ts'

let nextId = 1
const fill = (date: string, side: 'buy' | 'sell', qty: number, orderId = nextId++, symbol = 'AAPL'): PdtFill => ({
  orderId, symbol, side, qty, date,
})
const count = (fills: PdtFill[]) => walkDayTrades(fills).count

describe('counting day trades', () => {
  const d = '2026-11-24'

  test('buy 1, buy 1, sell 2 is one; buy 1, sell 1, buy 1, sell 1 is two', () => {
    expect(count([fill(d, 'buy', 1), fill(d, 'buy', 1), fill(d, 'sell', 2)])).toBe(1)
    expect(count([fill(d, 'buy', 1), fill(d, 'sell', 1), fill(d, 'buy', 1), fill(d, 'sell', 1)])).toBe(2)
  })

  test('an order counts once however many fills it has', () => {
    expect(count([fill(d, 'buy', 10), fill(d, 'sell', 4, 99), fill(d, 'sell', 6, 99)])).toBe(1)
  })

  test('shares held overnight sold before any purchase: not a day trade; after one, a day trade', () => {
    expect(count([fill('2026-11-23', 'buy', 10), fill(d, 'sell', 10)])).toBe(0)
    // FINRA exempts an overnight position only when sold "prior to any new purchase"
    expect(count([fill('2026-11-23', 'buy', 10), fill(d, 'buy', 5), fill(d, 'sell', 10)])).toBe(1)
  })

  test('a sale then a purchase the same day is one, counted on the buy; the next day, none', () => {
    expect(count([fill(d, 'sell', 5), fill(d, 'buy', 2), fill(d, 'buy', 3)])).toBe(2)
    expect(count([fill(d, 'sell', 5), fill('2026-11-25', 'buy', 5)])).toBe(0)
  })

  test('each share pairs once: sell, buy back, sell the bought-back share is one', () => {
    expect(count([fill(d, 'sell', 1), fill(d, 'buy', 1), fill(d, 'sell', 1)])).toBe(1)
  })

  test('symbols are counted apart', () => {
    const fills = [fill(d, 'buy', 3, 1, 'MSFT'), fill(d, 'sell', 3, 2, 'AAPL'), fill(d, 'sell', 3, 3, 'MSFT')]
    expect(count(fills)).toBe(1)
  })
})

describe('the outlook of a new order', () => {
  const today = '2026-11-25'
  const base = { today, symbol: 'AAPL' }

  test('a sell after a purchase today not yet paired would be a day trade', () => {
    const bought = [fill(today, 'buy', 5)]
    expect(dayTradeOutlook({ ...base, side: 'sell', fills: bought }).wouldDayTrade).toBe(true)
    // paired already (buy 5, sell 5): a further sell of overnight shares pairs with nothing
    const paired = [...bought, fill(today, 'sell', 5)]
    expect(dayTradeOutlook({ ...base, side: 'sell', fills: paired })).toEqual({ wouldDayTrade: false, used: 1 })
  })

  test('a buy after a sale today not yet paired would be a day trade; after one the day before, not', () => {
    expect(dayTradeOutlook({ ...base, side: 'buy', fills: [fill(today, 'sell', 3)] }).wouldDayTrade).toBe(true)
    expect(dayTradeOutlook({ ...base, side: 'buy', fills: [fill('2026-11-24', 'sell', 3)] })).toEqual({
      wouldDayTrade: false,
      used: 0,
    })
  })

  test('nothing traded today: never a day trade; the window’s count is reported', () => {
    const fills = [
      fill('2026-11-20', 'buy', 1), fill('2026-11-20', 'sell', 1),
      fill('2026-11-23', 'buy', 1), fill('2026-11-23', 'sell', 1),
      fill('2026-11-24', 'buy', 2),
    ]
    expect(dayTradeOutlook({ ...base, side: 'sell', fills })).toEqual({ wouldDayTrade: false, used: 2 })
  })

  test('another symbol’s trades today do not make this one a day trade', () => {
    const fills = [fill(today, 'buy', 1, undefined, 'MSFT')]
    expect(dayTradeOutlook({ ...base, side: 'sell', fills }).wouldDayTrade).toBe(false)
  })
})
