// The gateway's pure order rules: tick grid, price band, collar, size and notional caps, the
// order the engine sees, and what an ack means for the order.
import { describe, expect, test } from 'bun:test'
import {
  MAX_NOTIONAL_CENTS,
  MAX_ORDER_QTY,
  OrderRejected,
  collarPrice,
  marketCollar,
  engineOrder,
  outcomeOf,
  planOrder,
  priceBand,
  vwap,
} from '../../src/orders/rules.ts'
import type { SymbolInfo } from '../../src/orders/rules.ts'
import { orderBody } from '../../src/orders/schema.ts'
import type { OrderBody } from '../../src/orders/schema.ts'

const AAPL: SymbolInfo = {
  symbol: 'AAPL',
  status: 'active',
  tickCents: 1,
  referencePriceCents: 15_000,
}
const body = (b: Partial<OrderBody>): OrderBody => ({
  symbol: 'AAPL',
  side: 'buy',
  type: 'limit',
  qty: 100,
  price: '150.00',
  time_in_force: 'gtc',
  ...b,
})

function refused(fn: () => unknown): OrderRejected {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(OrderRejected)
    return err as OrderRejected
  }
  throw new Error('not refused')
}

describe('price band and collar', () => {
  test('±10% of the reference, rounded inwards to the tick', () => {
    expect(priceBand(15_000, 1)).toEqual([13_500, 16_500])
    expect(priceBand(15_003, 5)).toEqual([13_505, 16_500])
    expect(priceBand(5, 1)).toEqual([5, 5])
    expect(priceBand(1, 1)).toEqual([1, 1])
  })

  test('a market collar follows the last trade, inside the band', () => {
    const sym = { symbol: 'X', status: 'active' as const, tickCents: 1, referencePriceCents: 15_000 }
    expect(marketCollar(sym, 'buy')).toBe(15_750)
    expect(marketCollar({ ...sym, lastPriceCents: 14_000 }, 'buy')).toBe(14_700)
    expect(marketCollar({ ...sym, lastPriceCents: 14_000 }, 'sell')).toBe(13_500) // band low
    expect(marketCollar({ ...sym, lastPriceCents: 16_000 }, 'buy')).toBe(16_500) // band high
    expect(marketCollar({ ...sym, lastPriceCents: null }, 'sell')).toBe(14_250)
  })

  test('the band is around the venues\' midpoint when both sides are quoted, else the reference', () => {
    const moved = { ...AAPL, nbbo: { bidCents: 17_990, askCents: 18_010 } } // the street is at 180.00
    expect(planOrder(body({ price: '195.00' }), moved).priceCents).toBe(19_500) // 180.00 + 8.3%
    expect(refused(() => planOrder(body({ price: '195.00' }), AAPL)).code).toBe('price_out_of_band')
    const over = refused(() => planOrder(body({ price: '198.01' }), moved))
    expect(over.message).toContain("the venues' midpoint")
    expect(over.extra).toMatchObject({ band_low: '162.00', band_high: '198.00', nbbo_midpoint: '180.00', reference_price: '150.00' })
    // one side quoted, or a spread over 2% (a stray quote): the reference
    expect(planOrder(body({ price: '140.00' }), { ...AAPL, nbbo: { bidCents: null, askCents: 18_010 } }).priceCents).toBe(14_000)
    const stray = { ...AAPL, nbbo: { bidCents: 100, askCents: 100_000 } }
    expect(planOrder(body({ price: '150.00' }), stray).priceCents).toBe(15_000)
    expect(planOrder(body({ price: '140.00' }), { ...AAPL, nbbo: { bidCents: 17_800, askCents: 18_200 } }).priceCents).toBe(14_000)
  })

  test('market collar: the venues\' best price on the side taken comes first, then the last trade', () => {
    const sym = { ...AAPL, lastPriceCents: 14_000, nbbo: { bidCents: 14_990, askCents: 15_010 } }
    expect(marketCollar(sym, 'buy')).toBe(15_760) // 150.10 + 5%
    expect(marketCollar(sym, 'sell')).toBe(14_241) // 149.90 − 5%, rounded up
    expect(marketCollar({ ...sym, nbbo: { bidCents: null, askCents: 15_010 } }, 'sell')).toBe(13_500) // last, band low
  })

  test('collar: reference ±5%, buys rounded down, sells up, never below one tick', () => {
    expect(collarPrice(15_000, 'buy', 1)).toBe(15_750)
    expect(collarPrice(15_000, 'sell', 1)).toBe(14_250)
    expect(collarPrice(15_003, 'buy', 5)).toBe(15_750)
    expect(collarPrice(15_003, 'sell', 5)).toBe(14_255)
    expect(collarPrice(1, 'sell', 1)).toBe(1)
  })
})

describe('planOrder', () => {
  test('a limit buy reserves qty × price at its own limit', () => {
    expect(planOrder(body({}), AAPL)).toEqual({
      symbol: 'AAPL',
      side: 'buy',
      type: 'limit',
      tif: 'GTC',
      postOnly: false,
      qty: 100,
      priceCents: 15_000,
      stopPriceCents: null,
      reservePriceCents: null,
      reserveCashCents: 1_500_000,
      reserveQty: 0,
    })
  })

  test('a sell reserves its shares', () => {
    const p = planOrder(body({ side: 'sell', time_in_force: 'day' }), AAPL)
    expect([p.reserveCashCents, p.reserveQty, p.tif]).toEqual([0, 100, 'DAY'])
  })

  test('a market buy reserves at the collar and reaches the engine as a limit IOC there', () => {
    const p = planOrder(body({ type: 'market', price: undefined, time_in_force: 'day' }), AAPL)
    expect(p).toMatchObject({ priceCents: 15_750, reservePriceCents: 15_750, tif: 'IOC' })
    expect(p.reserveCashCents).toBe(100 * 15_750)
    const fok = planOrder(body({ type: 'market', price: undefined, time_in_force: 'fok' }), AAPL)
    expect(fok.tif).toBe('FOK')
    const row = {
      id: 9,
      userId: 3,
      side: 'buy' as const,
      type: 'market' as const,
      timeInForce: p.tif,
      postOnly: false,
      qty: 100,
      priceCents: p.priceCents,
      stopPriceCents: null,
    }
    expect(engineOrder(row)).toEqual({
      id: 9,
      user: 3,
      side: 'buy',
      type: 'limit',
      qty: 100,
      price: 15_750,
      tif: 'IOC',
    })
  })

  test('a stop becomes a stop-limit at the collar of its stop price', () => {
    const p = planOrder(
      body({ type: 'stop', price: undefined, stop_price: '155.00', side: 'buy' }),
      AAPL,
    )
    expect(p).toMatchObject({
      priceCents: 16_275,
      stopPriceCents: 15_500,
      reservePriceCents: 16_275,
    })
    const row = {
      id: 9,
      userId: 3,
      side: 'buy' as const,
      type: 'stop' as const,
      timeInForce: p.tif,
      postOnly: false,
      qty: 100,
      priceCents: p.priceCents,
      stopPriceCents: p.stopPriceCents,
    }
    expect(engineOrder(row)).toMatchObject({
      type: 'stop_limit',
      price: 16_275,
      stop: 15_500,
      tif: 'GTC',
    })
  })

  test('each rule has its own code and numbers', () => {
    expect(refused(() => planOrder(body({}), undefined)).code).toBe('unknown_symbol')
    const halted = refused(() => planOrder(body({}), { ...AAPL, status: 'halted' }))
    expect([halted.code, halted.extra.symbol_status]).toEqual(['symbol_not_trading', 'halted'])
    const big = refused(() => planOrder(body({ qty: MAX_ORDER_QTY + 1 }), AAPL))
    expect(big.code).toBe('qty_above_max')
    expect(big.extra.max_qty).toBe(MAX_ORDER_QTY)
    const tick = refused(() => planOrder(body({ price: '150.03' }), { ...AAPL, tickCents: 5 }))
    expect(tick.code).toBe('price_off_tick')
    expect(tick.extra).toMatchObject({ price: '150.03', tick_size: '0.05' })
    const band = refused(() => planOrder(body({ price: '165.01' }), AAPL))
    expect(band.code).toBe('price_out_of_band')
    expect(band.extra).toMatchObject({
      band_low: '135.00',
      band_high: '165.00',
      reference_price: '150.00',
    })
    expect(planOrder(body({ price: '165.00' }), AAPL).priceCents).toBe(16_500)
    const stop = refused(() => planOrder(body({ type: 'stop_limit', stop_price: '100.00' }), AAPL))
    expect([stop.code, stop.extra.field]).toEqual(['price_out_of_band', 'stop_price'])
    const rich = { ...AAPL, referencePriceCents: 1_000_000 } // 10,000.00 a share
    const notional = refused(() => planOrder(body({ qty: 1001, price: '10000.00' }), rich))
    expect(notional.code).toBe('notional_above_max')
    expect(notional.extra.max_notional).toBe('10000000.00')
    expect(planOrder(body({ qty: 1000, price: '10000.00' }), rich).reserveCashCents).toBe(
      MAX_NOTIONAL_CENTS,
    )
  })
})

describe('the body schema', () => {
  test('strict, with the fields each type needs', () => {
    expect(orderBody.safeParse(body({})).success).toBe(true)
    const unknown = orderBody.safeParse({ ...body({}), status: 'filled' })
    expect(unknown.success).toBe(false)
    expect(orderBody.safeParse(body({ price: undefined })).success).toBe(false)
    expect(orderBody.safeParse(body({ type: 'market' })).success).toBe(false)
    expect(orderBody.safeParse(body({ qty: 1.5 })).success).toBe(false)
    expect(orderBody.safeParse(body({ qty: 0 })).success).toBe(false)
    expect(orderBody.safeParse(body({ price: '0' })).success).toBe(false)
    expect(orderBody.safeParse(body({ price: '1.234' })).success).toBe(false)
    expect(orderBody.safeParse(body({ post_only: true, time_in_force: 'ioc' })).success).toBe(false)
    expect(orderBody.safeParse(body({ post_only: true })).success).toBe(true)
  })
})

describe('outcomeOf (the ack, for one order)', () => {
  const fill = (fillSeq: number, taker: number, maker: number, qty: number, price: number) => ({
    fillSeq,
    seq: 1,
    taker,
    maker,
    side: 'buy' as const,
    qty,
    price,
    ts: 0,
  })
  test('rested, partial, filled, canceled, rejected', () => {
    expect(
      outcomeOf(5, 10, { events: [{ type: 'rested', id: 5, price: 100, qty: 10 }], fills: [] }),
    ).toMatchObject({ status: 'open', filledQty: 0, releasedQty: 0 })
    const f = [fill(1, 5, 2, 4, 100)]
    expect(
      outcomeOf(5, 10, {
        events: [
          { type: 'fill', taker: 5, maker: 2, side: 'buy', price: 100, qty: 4 },
          { type: 'rested', id: 5, price: 100, qty: 6 },
        ],
        fills: f,
      }),
    ).toMatchObject({ status: 'partial', filledQty: 4, avgPriceCents: 100 })
    expect(outcomeOf(5, 4, { events: [], fills: f })).toMatchObject({
      status: 'filled',
      filledQty: 4,
    })
    expect(
      outcomeOf(5, 10, { events: [{ type: 'canceled', id: 5, qty: 6, reason: 'ioc' }], fills: f }),
    ).toMatchObject({ status: 'canceled', filledQty: 4, releasedQty: 6, reason: 'ioc' })
    expect(
      outcomeOf(5, 10, { events: [{ type: 'rejected', id: 5, reason: 'post_only' }], fills: [] }),
    ).toMatchObject({ status: 'rejected', releasedQty: 10, reason: 'post_only' })
    // another order's fills in the same ack are not this order's
    expect(outcomeOf(7, 10, { events: [], fills: f }).filledQty).toBe(0)
  })

  test('vwap rounds half up', () => {
    expect(
      vwap([
        { qty: 1, price: 100 },
        { qty: 1, price: 101 },
      ]),
    ).toBe(101)
    expect(
      vwap([
        { qty: 2, price: 100 },
        { qty: 1, price: 101 },
      ]),
    ).toBe(100)
    expect(vwap([])).toBeNull()
  })
})
