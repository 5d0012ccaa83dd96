// Mirror of wasm/assembly/abi.ts (a test checks that the two agree): the record layouts and codes
// through which commands and events cross between the TS wrapper and the WASM book in batches.

import type { BookEvent, CancelReason, Command, NewOrder, RejectReason, Side } from './types.ts'

// Command record: [op, flags, id lo, id hi, user, qty, price, stop]
export const COMMAND_WORDS = 8
export const COMMAND_CAPACITY = 4096

export const OP_NEW = 1
export const OP_CANCEL = 2
export const OP_AMEND = 3
export const OP_CLOSE = 4

// Order flags: side in bit 0, type in bits 1-2, time in force in bits 3-4, post-only in bit 5.
export const FLAG_SELL = 1
export const TYPE_SHIFT = 1
export const TIF_SHIFT = 3
export const FLAG_POST_ONLY = 32
/** Set by the book on a stop that waits for its trigger; never sent by the host. */
export const FLAG_PENDING = 64

export const TYPE_LIMIT = 0
export const TYPE_MARKET = 1
export const TYPE_STOP = 2
export const TYPE_STOP_LIMIT = 3

export const TIF_GTC = 0
export const TIF_DAY = 1
export const TIF_IOC = 2
export const TIF_FOK = 3

// Event record: [type, reason or taker side, id lo, id hi, maker lo, maker hi, qty, price]
export const EVENT_WORDS = 8

export const EV_FILL = 1
export const EV_RESTED = 2
export const EV_PENDING = 3
export const EV_CANCELED = 4
export const EV_REJECTED = 5
export const EV_AMENDED = 6
export const EV_TRIGGERED = 7
export const EV_EXPIRED = 8

export const REASON_SELF_TRADE = 1
export const REASON_FOK = 2
export const REASON_IOC = 3
export const REASON_NO_LIQUIDITY = 4
export const REASON_USER = 5
export const REASON_POST_ONLY = 11
export const REASON_DUPLICATE_ID = 12
export const REASON_INVALID = 13
export const REASON_UNKNOWN_ORDER = 14
export const REASON_INVALID_AMEND = 15

// Depth record: [price, orders, qty lo, qty hi]
export const DEPTH_WORDS = 4

export const MAX_QTY = 1_000_000_000
export const MAX_PRICE = 2_000_000_000

// ---- the TS side of the codec

const TYPE_CODES: Record<string, number> = {
  limit: TYPE_LIMIT,
  market: TYPE_MARKET,
  stop: TYPE_STOP,
  stop_limit: TYPE_STOP_LIMIT,
}
const TIF_CODES: Record<string, number> = { GTC: TIF_GTC, DAY: TIF_DAY, IOC: TIF_IOC, FOK: TIF_FOK }
const SIDE_FLAGS: Record<string, number> = { buy: 0, sell: FLAG_SELL }
const TWO_32 = 4294967296

const CANCEL_REASONS: Record<number, CancelReason> = {
  [REASON_SELF_TRADE]: 'self_trade',
  [REASON_FOK]: 'fok',
  [REASON_IOC]: 'ioc',
  [REASON_NO_LIQUIDITY]: 'no_liquidity',
  [REASON_USER]: 'user',
}
const REJECT_REASONS: Record<number, RejectReason> = {
  [REASON_POST_ONLY]: 'post_only',
  [REASON_DUPLICATE_ID]: 'duplicate_id',
  [REASON_INVALID]: 'invalid',
  [REASON_UNKNOWN_ORDER]: 'unknown_order',
  [REASON_INVALID_AMEND]: 'invalid_amend',
}

/** Writes one command record at word `at` of `out`. */
export function encodeCommand(cmd: Command, out: Int32Array, at: number): void {
  out.fill(0, at, at + COMMAND_WORDS)
  switch (cmd.op) {
    case 'new':
      return encodeOrder(cmd, out, at)
    case 'cancel':
      out[at] = OP_CANCEL
      return writeId(out, at + 2, cmd.id)
    case 'amend':
      out[at] = OP_AMEND
      writeId(out, at + 2, cmd.id)
      out[at + 5] = word(cmd.qty, MAX_QTY)
      return
    case 'close':
      out[at] = OP_CLOSE
  }
}

/** Writes a `new` command record for `order` at word `at` of `out`. */
export function encodeOrder(order: NewOrder, out: Int32Array, at: number): void {
  const side = SIDE_FLAGS[order.side]
  const type = TYPE_CODES[order.type]
  const tif = TIF_CODES[order.tif]
  out[at] = OP_NEW
  out[at + 1] =
    (side ?? 0) | ((type ?? 0) << TYPE_SHIFT) | ((tif ?? 0) << TIF_SHIFT) | (order.postOnly ? FLAG_POST_ONLY : 0)
  writeId(out, at + 2, order.id)
  if (!Number.isSafeInteger(order.user) || order.user < 1 || order.user > 0x7fffffff) {
    throw new RangeError(`user must be an integer in [1, 2^31): ${order.user}`)
  }
  out[at + 4] = order.user
  // An unknown side, type or time in force cannot be encoded in the flags; the book refuses it
  // as `invalid` through an impossible quantity instead.
  const known = side !== undefined && type !== undefined && tif !== undefined
  out[at + 5] = known ? word(order.qty, MAX_QTY) : -1
  out[at + 6] = word(order.price ?? 0, MAX_PRICE)
  out[at + 7] = word(order.stop ?? 0, MAX_PRICE)
}

/** Integers in [0, max] cross as they are; anything else as -1, which the book refuses. */
function word(value: number, max: number): number {
  return Number.isInteger(value) && value >= 0 && value <= max ? value : -1
}

function writeId(out: Int32Array, at: number, id: number): void {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`order id must be a positive safe integer: ${id}`)
  const lo = id % TWO_32
  out[at] = lo | 0
  out[at + 1] = (id - lo) / TWO_32
}

function readId(words: Int32Array, at: number): number {
  return (words[at] >>> 0) + words[at + 1] * TWO_32
}

/** Decodes the event record at word `at` of `words`. */
export function decodeEvent(words: Int32Array, at: number): BookEvent {
  const id = readId(words, at + 2)
  const qty = words[at + 6]
  switch (words[at]) {
    case EV_FILL: {
      const side: Side = words[at + 1] ? 'sell' : 'buy'
      return { type: 'fill', taker: id, maker: readId(words, at + 4), side, price: words[at + 7], qty }
    }
    case EV_RESTED:
      return { type: 'rested', id, price: words[at + 7], qty }
    case EV_PENDING:
      return { type: 'pending', id, stop: words[at + 7], qty }
    case EV_CANCELED:
      return { type: 'canceled', id, qty, reason: CANCEL_REASONS[words[at + 1]] }
    case EV_REJECTED:
      return { type: 'rejected', id, reason: REJECT_REASONS[words[at + 1]] }
    case EV_AMENDED:
      return { type: 'amended', id, qty }
    case EV_TRIGGERED:
      return { type: 'triggered', id }
    case EV_EXPIRED:
      return { type: 'expired', id, qty }
  }
  throw new Error(`unknown event type ${words[at]} from the book`)
}
