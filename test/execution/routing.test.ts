import { describe, expect, test } from 'bun:test'
import type { NewOrder } from '../../src/engine/types.ts'
import type { Nbbo } from '../../src/execution/nbbo.ts'
import { planRoute } from '../../src/execution/routing.ts'

const buy = (price: number, extra: Partial<NewOrder> = {}): NewOrder => ({
  id: 1, user: 1, side: 'buy', type: 'limit', qty: 100, price, tif: 'DAY', ...extra,
})
const quote = (bid: [number, string] | null, ask: [number, string] | null, crossed = false): Nbbo => ({
  symbol: 'AAPL',
  bid: bid && { price: bid[0], size: 100, venue: bid[1] },
  ask: ask && { price: ask[0], size: 100, venue: ask[1] },
  crossed,
  ts: 5,
})
// ARCA shows the best offer but we have no session there; NSIM is the best routable one
const national = quote([14_990, 'NSIM'], [15_000, 'ARCA'])
const routable = quote([14_990, 'NSIM'], [15_010, 'NSIM'])

describe('planRoute', () => {
  test('a marketable order matches internally up to the national best, then goes to the best routable venue', () => {
    expect(planRoute(buy(15_050), 'both', national, routable)).toEqual({
      venue: 'NSIM', internalCap: 15_000, price: 15_050, tif: 'DAY',
      nbbo: { bid: national.bid, ask: national.ask, ts: 5 },
    })
    const sell = { ...buy(14_980), side: 'sell' as const, tif: 'IOC' as const }
    expect(planRoute(sell, 'both', national, routable)).toMatchObject({ venue: 'NSIM', internalCap: 14_990, tif: 'IOC' })
  })

  test('internal mode, orders not marketable at the venues, FOK, post-only and stops stay internal', () => {
    expect(planRoute(buy(15_050), 'internal', national, routable)).toBeUndefined()
    expect(planRoute(buy(14_999), 'both', national, routable)).toBeUndefined()
    expect(planRoute(buy(15_050, { tif: 'FOK' }), 'both', national, routable)).toBeUndefined()
    expect(planRoute(buy(15_050, { postOnly: true }), 'both', national, routable)).toBeUndefined()
    expect(planRoute(buy(15_050, { type: 'stop_limit', stop: 15_020 }), 'both', national, routable)).toBeUndefined()
  })

  test('external: every limit or market order goes whole to a routable venue; stops and post-only are refused', () => {
    expect(planRoute(buy(14_000), 'external', national, routable)).toEqual({
      venue: 'NSIM', price: 14_000, tif: 'DAY', nbbo: { bid: national.bid, ask: national.ask, ts: 5 },
    })
    expect(planRoute(buy(15_050, { tif: 'FOK' }), 'external', national, routable)).toMatchObject({ venue: 'NSIM', tif: 'FOK' })
    // no offer at a routable venue: one bidding takes it, to rest there
    expect(planRoute(buy(14_000), 'external', national, quote([14_990, 'NSIM'], null))).toMatchObject({ venue: 'NSIM' })
    expect(planRoute(buy(14_000), 'external', national, quote(null, null))).toEqual({ refused: 'no_venue' })
    expect(planRoute(buy(15_050, { postOnly: true }), 'external', national, routable)).toEqual({ refused: 'not_routable' })
    expect(planRoute(buy(15_050, { type: 'stop_limit', stop: 15_020 }), 'external', national, routable)).toEqual({ refused: 'not_routable' })
  })

  test('no routable quote on the side taken, or a crossed market: internal', () => {
    expect(planRoute(buy(15_050), 'both', national, quote([14_990, 'NSIM'], null))).toBeUndefined()
    expect(planRoute(buy(15_050), 'both', quote([15_000, 'NSIM'], [15_000, 'ARCA'], true), routable)).toBeUndefined()
  })
})
