// The gateway's order rules as pure functions: what an order may be (symbol trading, size, tick
// grid, price band, notional cap), what it reserves, the order the engine sees, and what an
// engine ack means for the order. No I/O here: routes.ts and service.ts do that.
//
// Decisions (README, "Placing orders"):
//  - price band: a limit or stop price must lie within ±10% of the symbol's reference price
//    (rounded inwards to the tick grid): the reference price moves by an admin's decision (the
//    previous close), never by a single print.
//  - market orders get a protective collar of ±5% of the last trade (the reference price before
//    the first; buys: + 5% rounded down to the tick; sells: − 5% rounded up), kept inside the
//    band, and reach the engine as limit orders at the collar, IOC (FOK stays FOK): no fill can
//    ever be worse than the collar, so a buy never pays above its reserve price
//    (src/orders/fills.ts refuses that).
//  - stop orders become stop-limits at a collar of ±5% around their stop price, with the order's
//    own time in force (after the trigger the remainder may rest at the collar).
//  - qty ≤ MAX_ORDER_QTY shares; qty × engine price ≤ MAX_NOTIONAL_CENTS (far below 2^53).
import type { Ack, OutboxFill } from '../engine/journal.ts'
import type { BookEvent, NewOrder, TimeInForce } from '../engine/types.ts'
import { AppError } from '../errors.ts'
import { formatCents, parseCents } from '../lib/money.ts'
import type { OrderRequest, orders } from '../db/schema.ts'
import type { OrderBody } from './schema.ts'

export const MAX_ORDER_QTY = 100_000
/** 10,000,000.00 per order */
export const MAX_NOTIONAL_CENTS = 1_000_000_000
/** the price band, in basis points of the reference price */
export const BAND_BPS = 1_000
/** the market/stop collar, in basis points of the reference (or stop) price */
export const COLLAR_BPS = 500

export interface SymbolInfo {
  symbol: string
  status: 'active' | 'halted' | 'delisted'
  tickCents: number
  referencePriceCents: number
  /** the last trade in Postgres, if any: the market collar's anchor */
  lastPriceCents?: number | null
  /** the venues' best bid and offer (issue 7), when fresh and not crossed: the collar's anchor first */
  nbbo?: MarketQuote
}

/** The venues' best prices as the symbol's object holds them (null: no quote on that side). */
export interface MarketQuote {
  bidCents: number | null
  askCents: number | null
}

/** 422 with the rule's numbers in the problem body */
export class OrderRejected extends AppError {
  constructor(code: string, message: string, extra: Record<string, unknown> = {}) {
    super(422, code, message, extra)
  }
}

/** anchor × bps / 10,000 rounded down (or up) to a multiple of the tick: one exact division */
const scaledFloor = (anchor: number, bps: number, tick: number) =>
  Math.floor((anchor * bps) / (10_000 * tick)) * tick
const scaledCeil = (anchor: number, bps: number, tick: number) =>
  Math.ceil((anchor * bps) / (10_000 * tick)) * tick

/** [low, high] in cents: the prices on the tick grid within ±BAND_BPS of the reference */
export function priceBand(referenceCents: number, tickCents: number): [number, number] {
  const low = scaledCeil(referenceCents, 10_000 - BAND_BPS, tickCents)
  const high = scaledFloor(referenceCents, 10_000 + BAND_BPS, tickCents)
  return [Math.max(low, tickCents), high]
}

/** The worst price a market (or triggered stop) order may trade at, on the tick grid. */
export function collarPrice(anchorCents: number, side: 'buy' | 'sell', tickCents: number): number {
  if (side === 'buy') return scaledFloor(anchorCents, 10_000 + COLLAR_BPS, tickCents)
  return Math.max(scaledCeil(anchorCents, 10_000 - COLLAR_BPS, tickCents), tickCents)
}

/** the widest venues' spread, in basis points of its midpoint, the band may be anchored on */
export const MAX_ANCHOR_SPREAD_BPS = 200

/**
 * The price the band is around: the venues' midpoint when both sides are quoted within
 * MAX_ANCHOR_SPREAD_BPS (the market has moved on from a stale reference; one venue's wide or
 * stray quote moves nothing), else the reference price.
 */
export function bandAnchor(sym: SymbolInfo): { cents: number; source: 'nbbo_midpoint' | 'reference' } {
  const reference = { cents: sym.referencePriceCents, source: 'reference' } as const
  const { bidCents, askCents } = sym.nbbo ?? {}
  if (bidCents == null || askCents == null) return reference
  const mid = (bidCents + askCents) / 2
  if ((askCents - bidCents) * 10_000 > MAX_ANCHOR_SPREAD_BPS * mid) return reference
  return { cents: Math.round(mid), source: 'nbbo_midpoint' }
}

/**
 * A market order's collar: around the venues' best price on the side it takes (what it could get
 * now), else the last trade, else the reference; inside the band.
 */
export function marketCollar(sym: SymbolInfo, side: 'buy' | 'sell'): number {
  const [low, high] = priceBand(bandAnchor(sym).cents, sym.tickCents)
  const far = side === 'buy' ? sym.nbbo?.askCents : sym.nbbo?.bidCents
  const collar = collarPrice(far ?? sym.lastPriceCents ?? sym.referencePriceCents, side, sym.tickCents)
  return Math.min(Math.max(collar, low), high)
}

export const onTickGrid = (cents: number, tickCents: number) => cents % tickCents === 0

/** What placing the order means: for Postgres, for the reservation and for the engine. */
export interface OrderPlan {
  symbol: string
  side: 'buy' | 'sell'
  type: 'limit' | 'market' | 'stop' | 'stop_limit'
  tif: TimeInForce
  postOnly: boolean
  qty: number
  /** the limit the engine gets: the order's price, or the collar of a market/stop order */
  priceCents: number
  stopPriceCents: number | null
  /** buys: the per-share reservation price when it is not the order's own limit (collar) */
  reservePriceCents: number | null
  /** buys: qty × reserve price; sells: 0 */
  reserveCashCents: number
  /** sells: qty; buys: 0 */
  reserveQty: number
}

function checkPrice(field: string, cents: number, sym: SymbolInfo) {
  if (!onTickGrid(cents, sym.tickCents)) {
    throw new OrderRejected('price_off_tick', `${field} must be a multiple of the tick size`, {
      field,
      price: formatCents(cents),
      tick_size: formatCents(sym.tickCents),
    })
  }
  const anchor = bandAnchor(sym)
  const [low, high] = priceBand(anchor.cents, sym.tickCents)
  if (cents < low || cents > high) {
    const around = anchor.source === 'reference' ? 'the reference price' : "the venues' midpoint"
    throw new OrderRejected(
      'price_out_of_band',
      `${field} must be within ±${BAND_BPS / 100}% of ${around}`,
      {
        field,
        price: formatCents(cents),
        band_low: formatCents(low),
        band_high: formatCents(high),
        reference_price: formatCents(sym.referencePriceCents),
        ...(anchor.source === 'nbbo_midpoint' && { nbbo_midpoint: formatCents(anchor.cents) }),
        band_percent: BAND_BPS / 100,
      },
    )
  }
}

export const unknownSymbol = (symbol: string) =>
  new OrderRejected('unknown_symbol', `${symbol} is not a listed symbol`, { symbol })

/** Outside the symbol's trading hours (src/settlement/calendar.ts, tradingHours). */
export const marketClosed = (symbol: string, opens: Date) =>
  new OrderRejected('market_closed', `${symbol} is not trading now; it opens ${opens.toISOString()}`, {
    symbol,
    opens_at: opens.toISOString(),
  })

/** Validates an order against its symbol; throws OrderRejected (422) naming the rule. */
export function planOrder(body: OrderBody, sym: SymbolInfo | undefined): OrderPlan {
  if (!sym) throw unknownSymbol(body.symbol)
  if (sym.status !== 'active') {
    throw new OrderRejected('symbol_not_trading', `${sym.symbol} is ${sym.status}`, {
      symbol: sym.symbol,
      // `status` is the problem's own (the HTTP status)
      symbol_status: sym.status,
    })
  }
  if (body.qty > MAX_ORDER_QTY) {
    throw new OrderRejected('qty_above_max', `At most ${MAX_ORDER_QTY} shares per order`, {
      qty: body.qty,
      max_qty: MAX_ORDER_QTY,
    })
  }
  const limit = body.price === undefined ? null : parseCents(body.price)
  const stop = body.stop_price === undefined ? null : parseCents(body.stop_price)
  if (limit !== null) checkPrice('price', limit, sym)
  if (stop !== null) checkPrice('stop_price', stop, sym)

  let priceCents: number
  if (body.type === 'market')
    priceCents = marketCollar(sym, body.side)
  else if (body.type === 'stop') priceCents = collarPrice(stop!, body.side, sym.tickCents)
  else priceCents = limit!

  const notional = body.qty * priceCents
  if (notional > MAX_NOTIONAL_CENTS) {
    throw new OrderRejected('notional_above_max', 'The order is worth more than one order may be', {
      notional: formatCents(notional),
      max_notional: formatCents(MAX_NOTIONAL_CENTS),
    })
  }
  const tif: TimeInForce =
    body.type === 'market'
      ? body.time_in_force === 'fok'
        ? 'FOK'
        : 'IOC'
      : (body.time_in_force.toUpperCase() as TimeInForce)
  const buy = body.side === 'buy'
  return {
    symbol: sym.symbol,
    side: body.side,
    type: body.type,
    tif,
    postOnly: body.post_only ?? false,
    qty: body.qty,
    priceCents,
    stopPriceCents: stop,
    reservePriceCents: buy && limit === null ? priceCents : null,
    reserveCashCents: buy ? notional : 0,
    reserveQty: buy ? 0 : body.qty,
  }
}

/** The persisted order, as far as the engine needs it (a re-submit rebuilds the same order). */
export interface EngineOrderRow {
  id: number
  userId: number
  side: 'buy' | 'sell'
  type: 'limit' | 'market' | 'stop' | 'stop_limit'
  timeInForce: TimeInForce
  postOnly: boolean
  qty: number
  priceCents: number | null
  stopPriceCents: number | null
}

/** The request's terms as orders.request keeps them (prices in cents, defaults filled in). */
export function orderRequest(body: OrderBody): OrderRequest {
  return {
    symbol: body.symbol,
    side: body.side,
    type: body.type,
    qty: body.qty,
    price_cents: body.price === undefined ? null : parseCents(body.price),
    stop_price_cents: body.stop_price === undefined ? null : parseCents(body.stop_price),
    time_in_force: body.time_in_force,
    post_only: body.post_only ?? false,
    client_order_id: body.client_order_id ?? null,
  }
}

/** The order's request: as kept, or as the row has it for orders placed before it was kept. */
export function requestOf(o: typeof orders.$inferSelect): OrderRequest {
  return (
    o.request ?? {
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      qty: o.qty,
      price_cents: o.type === 'limit' || o.type === 'stop_limit' ? o.priceCents : null,
      stop_price_cents: o.stopPriceCents,
      time_in_force: o.timeInForce.toLowerCase() as OrderRequest['time_in_force'],
      post_only: o.postOnly,
      client_order_id: o.clientOrderId,
    }
  )
}

/** The fields in which a repeated request differs from the first (none: the same request). */
export function requestDifferences(first: OrderRequest, repeated: OrderRequest): string[] {
  return (Object.keys(repeated) as (keyof OrderRequest)[])
    .filter((k) => first[k] !== repeated[k])
    .map((k) => BODY_FIELD[k] ?? k)
}

/** the request body's names of the fields kept in cents */
const BODY_FIELD: Partial<Record<keyof OrderRequest, string>> = {
  price_cents: 'price',
  stop_price_cents: 'stop_price',
}

/** market → limit at the collar; stop → stop_limit at the collar; the rest as they are. */
export function engineOrder(o: EngineOrderRow): NewOrder {
  const base = { id: o.id, user: o.userId, side: o.side, qty: o.qty, tif: o.timeInForce }
  switch (o.type) {
    case 'market':
      return { ...base, type: 'limit', price: o.priceCents! }
    case 'stop':
      return { ...base, type: 'stop_limit', price: o.priceCents!, stop: o.stopPriceCents! }
    case 'stop_limit':
      return { ...base, type: 'stop_limit', price: o.priceCents!, stop: o.stopPriceCents! }
    default:
      return { ...base, type: 'limit', price: o.priceCents!, ...(o.postOnly && { postOnly: true }) }
  }
}

export type OrderStatus = 'open' | 'partial' | 'filled' | 'canceled' | 'rejected'

/** An order with shares still to trade (a pending one's too: the book has not answered yet). */
export const isActive = (status: string) => status === 'pending' || status === 'open' || status === 'partial'

/** What the book did with one order, from the ack of its submit. */
export interface AckOutcome {
  status: OrderStatus
  filledQty: number
  /** VWAP of the ack's fills, cents, half up; null without fills */
  avgPriceCents: number | null
  fills: OutboxFill[]
  /** the quantity the book canceled or rejected: what must be released now */
  releasedQty: number
  reason: string | null
}

/** VWAP in cents, rounded half up */
export function vwap(fills: { qty: number; price: number }[]): number | null {
  let qty = 0
  let value = 0n
  for (const f of fills) {
    qty += f.qty
    value += BigInt(f.qty) * BigInt(f.price)
  }
  if (qty === 0) return null
  return Number((value * 2n + BigInt(qty)) / (2n * BigInt(qty)))
}

export function outcomeOf(
  orderId: number,
  qty: number,
  ack: Pick<Ack, 'events' | 'fills'>,
): AckOutcome {
  const fills = ack.fills.filter((f) => f.taker === orderId || f.maker === orderId)
  const filledQty = fills.reduce((s, f) => s + f.qty, 0)
  const own = ack.events.filter(
    (e): e is Exclude<BookEvent, { type: 'fill' }> => e.type !== 'fill' && e.id === orderId,
  )
  const ended = own.find((e) => e.type === 'canceled' || e.type === 'rejected')
  const base = { filledQty, avgPriceCents: vwap(fills), fills }
  if (ended?.type === 'rejected') {
    return { ...base, status: 'rejected', releasedQty: qty - filledQty, reason: ended.reason }
  }
  if (ended?.type === 'canceled') {
    return { ...base, status: 'canceled', releasedQty: ended.qty, reason: ended.reason }
  }
  const status: OrderStatus = filledQty === qty ? 'filled' : filledQty > 0 ? 'partial' : 'open'
  return { ...base, status, releasedQty: 0, reason: null }
}
