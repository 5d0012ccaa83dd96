// The pattern-day-trader counting rules, pure.
import { describe, expect, test } from 'bun:test'
import { dayTradeOutlook, walkDayTrades } from '../../src/orders/day-trades.ts'
import type { PdtFill } from '../../src/orders/day-trades.ts'

let nextId = 1
const fill = (date: string, side: 'buy' | 'sell', qty: number, orderId = nextId++, symbol = 'AAPL'): PdtFill => ({
  orderId, symbol, side, qty, date,
})
const held = (qty: Record<string, number>) => (s: string) => qty[s] ?? 0

describe('counting day trades', () => {
  test('buy 1, buy 1, sell 2 is one; buy 1, sell 1, buy 1, sell 1 is two', () => {
    const d = '2026-11-23'
    expect(walkDayTrades([fill(d, 'buy', 1), fill(d, 'buy', 1), fill(d, 'sell', 2)], held({})).count).toBe(1)
    const fills = [fill(d, 'buy', 1), fill(d, 'sell', 1), fill(d, 'buy', 1), fill(d, 'sell', 1)]
    expect(walkDayTrades(fills, held({})).count).toBe(2)
  })

  test('an order counts once however many fills it has', () => {
    const d = '2026-11-23'
    const fills = [fill(d, 'buy', 10), fill(d, 'sell', 4, 99), fill(d, 'sell', 6, 99)]
    expect(walkDayTrades(fills, held({})).count).toBe(1)
  })

  test('shares held overnight are sold first: selling them is not a day trade', () => {
    const fills = [fill('2026-11-23', 'buy', 10), fill('2026-11-24', 'buy', 5), fill('2026-11-24', 'sell', 10)]
    expect(walkDayTrades(fills, held({ AAPL: 5 })).count).toBe(0)
    // an 11th share comes from today's purchase
    const more = [...fills.slice(0, 2), fill('2026-11-24', 'sell', 11)]
    expect(walkDayTrades(more, held({ AAPL: 4 })).count).toBe(1)
  })

  test('selling overnight shares and buying them back the same day is one day trade, counted on the buy', () => {
    const d = '2026-11-24'
    expect(walkDayTrades([fill(d, 'sell', 5), fill(d, 'buy', 2), fill(d, 'buy', 3)], held({ AAPL: 5 })).count).toBe(2)
    // a buy back on the next day is not one
    expect(walkDayTrades([fill(d, 'sell', 5), fill('2026-11-25', 'buy', 5)], held({ AAPL: 5 })).count).toBe(0)
    // sell, buy back, sell the bought-back shares: two
    const fills = [fill(d, 'sell', 1), fill(d, 'buy', 1), fill(d, 'sell', 1)]
    expect(walkDayTrades(fills, held({ AAPL: 0 })).count).toBe(2)
  })

  test('holdings from before the window count as overnight; symbols are counted apart', () => {
    const d = '2026-11-24'
    const fills = [fill(d, 'buy', 3, 1, 'MSFT'), fill(d, 'sell', 3, 2, 'AAPL'), fill(d, 'sell', 3, 3, 'MSFT')]
    // 3 AAPL were held before the window; MSFT bought and sold the same day
    expect(walkDayTrades(fills, held({ AAPL: 0, MSFT: 0 })).count).toBe(1)
  })
})

describe('the outlook of a new order', () => {
  const today = '2026-11-25'
  const base = { today, symbol: 'AAPL', side: 'sell' as const, reservedQty: 0 }

  test('a sell of shares bought today beyond the overnight ones would be a day trade', () => {
    const fills = [fill(today, 'buy', 5)]
    const heldNow = held({ AAPL: 15 }) // 10 overnight + 5 today
    expect(dayTradeOutlook({ ...base, fills, heldNow, qty: 10 }).wouldDayTrade).toBe(false)
    expect(dayTradeOutlook({ ...base, fills, heldNow, qty: 11 }).wouldDayTrade).toBe(true)
    // other open sells take the overnight shares first
    expect(dayTradeOutlook({ ...base, fills, heldNow, qty: 1, reservedQty: 10 }).wouldDayTrade).toBe(true)
  })

  test('nothing bought today: never a day trade; the window’s count is reported', () => {
    const fills = [
      fill('2026-11-20', 'buy', 1), fill('2026-11-20', 'sell', 1),
      fill('2026-11-23', 'buy', 1), fill('2026-11-23', 'sell', 1),
      fill('2026-11-24', 'buy', 2),
    ]
    expect(dayTradeOutlook({ ...base, fills, heldNow: held({ AAPL: 2 }), qty: 2 })).toEqual({
      wouldDayTrade: false,
      used: 2,
    })
  })

  test('a buy after selling overnight shares today would be a day trade; after none, not', () => {
    const buy = { ...base, side: 'buy' as const, qty: 1 }
    const sold = [fill(today, 'sell', 3)]
    expect(dayTradeOutlook({ ...buy, fills: sold, heldNow: held({ AAPL: 7 }) }).wouldDayTrade).toBe(true)
    expect(dayTradeOutlook({ ...buy, fills: [fill('2026-11-24', 'sell', 3)], heldNow: held({ AAPL: 7 }) }))
      .toEqual({ wouldDayTrade: false, used: 0 })
    // all that was sold today was bought today (already a day trade): a new buy pairs with nothing
    const roundTrip = [fill(today, 'buy', 2), fill(today, 'sell', 2)]
    expect(dayTradeOutlook({ ...buy, fills: roundTrip, heldNow: held({ AAPL: 0 }) })).toEqual({
      wouldDayTrade: false,
      used: 1,
    })
  })
})
