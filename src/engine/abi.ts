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

const TWO_32 = 4294967296

// Reason codes index these arrays (arrays, not objects: V8 reads them faster).
const CANCEL_REASONS: CancelReason[] = []
CANCEL_REASONS[REASON_SELF_TRADE] = 'self_trade'
CANCEL_REASONS[REASON_FOK] = 'fok'
CANCEL_REASONS[REASON_IOC] = 'ioc'
CANCEL_REASONS[REASON_NO_LIQUIDITY] = 'no_liquidity'
CANCEL_REASONS[REASON_USER] = 'user'
const REJECT_REASONS: RejectReason[] = []
REJECT_REASONS[REASON_POST_ONLY] = 'post_only'
REJECT_REASONS[REASON_DUPLICATE_ID] = 'duplicate_id'
REJECT_REASONS[REASON_INVALID] = 'invalid'
REJECT_REASONS[REASON_UNKNOWN_ORDER] = 'unknown_order'
REJECT_REASONS[REASON_INVALID_AMEND] = 'invalid_amend'

/** Writes one command record at word `at` of `out`. */
export function encodeCommand(cmd: Command, out: Int32Array, at: number): void {
  switch (cmd.op) {
    case 'new':
      return encodeOrder(cmd, out, at)
    case 'cancel':
      return encodeTarget(OP_CANCEL, cmd.id, 0, out, at)
    case 'amend':
      return encodeTarget(OP_AMEND, cmd.id, word(cmd.qty, MAX_QTY), out, at)
    case 'close':
      out.fill(0, at, at + COMMAND_WORDS)
      out[at] = OP_CLOSE
  }
}

/** A cancel or amend record: an existing order's id, and the new quantity for an amend. */
export function encodeTarget(op: number, id: number, qty: number, out: Int32Array, at: number): void {
  out[at] = op
  out[at + 1] = 0
  writeId(out, at + 2, id)
  out[at + 4] = 0
  out[at + 5] = qty
  out[at + 6] = 0
  out[at + 7] = 0
}

/** Writes a `new` command record for `order` at word `at` of `out`. */
export function encodeOrder(order: NewOrder, out: Int32Array, at: number): void {
  const side = sideFlag(order.side)
  const type = typeCode(order.type)
  const tif = tifCode(order.tif)
  out[at] = OP_NEW
  out[at + 1] = side | (type << TYPE_SHIFT) | (tif << TIF_SHIFT) | (order.postOnly ? FLAG_POST_ONLY : 0)
  writeId(out, at + 2, order.id)
  const user = order.user
  if (!(user >= 1 && user <= 0x7fffffff && Number.isInteger(user))) {
    throw new RangeError(`user must be an integer in [1, 2^31): ${user}`)
  }
  out[at + 4] = user
  // An unknown side, type or time in force cannot be encoded in the flags; the book refuses it
  // as `invalid` through an impossible quantity instead.
  out[at + 5] = (side | type | tif) < 0 ? -1 : word(order.qty, MAX_QTY)
  out[at + 6] = order.price === undefined ? 0 : word(order.price, MAX_PRICE)
  out[at + 7] = order.stop === undefined ? 0 : word(order.stop, MAX_PRICE)
}

// Codes for the order's strings; -1 for anything else (the switches beat a lookup table on V8).
function sideFlag(side: string): number {
  return side === 'buy' ? 0 : side === 'sell' ? FLAG_SELL : -1
}

function typeCode(type: string): number {
  switch (type) {
    case 'limit':
      return TYPE_LIMIT
    case 'market':
      return TYPE_MARKET
    case 'stop':
      return TYPE_STOP
    case 'stop_limit':
      return TYPE_STOP_LIMIT
  }
  return -1
}

function tifCode(tif: string): number {
  switch (tif) {
    case 'GTC':
      return TIF_GTC
    case 'DAY':
      return TIF_DAY
    case 'IOC':
      return TIF_IOC
    case 'FOK':
      return TIF_FOK
  }
  return -1
}

/** Integers in [0, max] cross as they are; anything else as -1, which the book refuses. */
function word(value: number, max: number): number {
  return value >= 0 && value <= max && (value | 0) === value ? value : -1
}

function writeId(out: Int32Array, at: number, id: number): void {
  if (id >= 1 && id <= 0x7fffffff && (id | 0) === id) {
    out[at] = id
    out[at + 1] = 0
    return
  }
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`order id must be a positive safe integer: ${id}`)
  const lo = id % TWO_32
  out[at] = lo | 0
  out[at + 1] = (id - lo) / TWO_32
}

function readId(words: Int32Array, at: number): number {
  const hi = words[at + 1]
  const lo = words[at]
  // Ids under 2^31 stay small integers (no heap number is allocated for them).
  return hi === 0 && lo >= 0 ? lo : (lo >>> 0) + hi * TWO_32
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
