// The order book's vocabulary, shared by the WASM engine's wrapper, the reference model in test/,
// the replay CLI and the symbol Durable Object. The matching rules are in README.md.
//
// Ids are integers: order ids come from the gateway (Postgres), user ids from the users table.
// Order ids are safe integers in [1, 2^53); user ids are in [1, 2^31) (the book only compares
// them, for self-trade prevention). Prices are ticks (cents), quantities are shares.

export type Side = 'buy' | 'sell'
export type OrderType = 'limit' | 'market' | 'stop' | 'stop_limit'
export type TimeInForce = 'GTC' | 'DAY' | 'IOC' | 'FOK'

export interface NewOrder {
  id: number
  user: number
  side: Side
  type: OrderType
  qty: number
  /** Limit price in ticks: required (> 0) for limit and stop_limit, absent (0) otherwise. */
  price?: number
  /** Trigger price in ticks: required (> 0) for stop and stop_limit, absent (0) otherwise. */
  stop?: number
  tif: TimeInForce
  /** Only for limit orders resting (GTC/DAY): refuse instead of taking liquidity. */
  postOnly?: boolean
}

export type Command =
  | ({ op: 'new' } & NewOrder)
  | { op: 'cancel'; id: number }
  | { op: 'amend'; id: number; qty: number }
  | { op: 'close' }

/** (`venue_rejected`: a venue refused an order's routed part — the journal's, never the engine's) */
export type CancelReason = 'self_trade' | 'fok' | 'ioc' | 'no_liquidity' | 'user' | 'venue_rejected'
/**
 * (`no_venue`, `not_routable`: an order of a symbol that routes externally with no venue quoting
 * it, or of a kind a venue does not take — the journal's, never the engine's)
 */
export type RejectReason =
  | 'post_only' | 'duplicate_id' | 'invalid' | 'unknown_order' | 'invalid_amend' | 'no_venue' | 'not_routable'
  | 'market_closed'

/**
 * What a command did, in order. A command's events are: its fills in match order, then its own
 * outcome (`rested`, `pending`, `canceled`, `rejected`, `amended`; none when fully filled), then
 * each stop it triggered (`triggered`, then that stop's own events, recursively).
 */
export type BookEvent =
  /** A trade at the maker's price; `side` is the taker's (the aggressor). */
  | { type: 'fill'; taker: number; maker: number; side: Side; price: number; qty: number }
  /** The order's remainder `qty` now rests in the book at `price`. */
  | { type: 'rested'; id: number; price: number; qty: number }
  /** A stop or stop_limit was accepted and waits for its trigger. */
  | { type: 'pending'; id: number; stop: number; qty: number }
  | { type: 'canceled'; id: number; qty: number; reason: CancelReason }
  | { type: 'rejected'; id: number; reason: RejectReason }
  /** An amend reduced the order's open quantity to `qty`; it keeps its place in the queue. */
  | { type: 'amended'; id: number; qty: number }
  | { type: 'triggered'; id: number }
  /** A DAY order (resting or pending stop) expired at close with `qty` unfilled. */
  | { type: 'expired'; id: number; qty: number }

/** One price level: price in ticks, total open quantity, number of orders. */
export type DepthLevel = [price: number, qty: number, orders: number]

export interface Depth {
  /** Best (highest) first. */
  bids: DepthLevel[]
  /** Best (lowest) first. */
  asks: DepthLevel[]
}

/** The largest quantity and price (ticks) the book accepts; larger is `invalid`. */
export { MAX_PRICE, MAX_QTY } from './abi.ts'
