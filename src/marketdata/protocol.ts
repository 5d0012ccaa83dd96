// The market-data WebSocket protocol (README, "Market data over WebSockets"): what clients send,
// what the server answers, and the depth checksum. Prices cross as decimal strings, as in the REST
// API; quantities as integers.
import { z } from 'zod'
import { formatCents } from '../lib/money.ts'

/** `nbbo`: the venues' best bid and offer (issue 7), a source distinct from our book's quotes */
export const CHANNELS = ['quotes', 'trades', 'depth', 'nbbo'] as const
export type Channel = (typeof CHANNELS)[number]

const channels = z.array(z.enum(CHANNELS)).min(1).max(CHANNELS.length)

const clientMessage = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('subscribe'),
    channels,
    /** resume depth after this sequence number (the last one the client applied) */
    since: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({ op: z.literal('unsubscribe'), channels }),
  z.strictObject({ op: z.literal('ping') }),
  /** the answer to a read_check: proof that everything sent before it was read */
  z.strictObject({ op: z.literal('ack'), token: z.string().max(64) }),
])
export type ClientMessage = z.infer<typeof clientMessage>

/** What pings look like on the wire: answered by the platform without waking the object. */
export const PING = '{"op":"ping"}'
export const PONG = '{"type":"pong"}'

/** A client's message, or the error to answer it with. */
export function parseClientMessage(text: string | ArrayBuffer): ClientMessage | ErrorMessage {
  if (typeof text !== 'string') return error('invalid_message', 'Messages are JSON text')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return error('invalid_message', 'Messages are JSON text')
  }
  const parsed = clientMessage.safeParse(json)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  return error('invalid_message', `${issue.path.join('.') || 'message'}: ${issue.message}`)
}

/** [price, qty] with the price as a decimal string; qty 0 removes the level. */
export type WireLevel = [price: string, qty: number]

export interface QuoteMessage {
  type: 'quote'
  symbol: string
  bid: string | null
  bid_size: number
  ask: string | null
  ask_size: number
  ts: number
}

export interface WireTrade {
  price: string
  qty: number
  /** the aggressor's side */
  side: 'buy' | 'sell'
  ts: number
}

/** One side of the NBBO: its price, size and the venue showing it. */
export interface WireBestPrice {
  price: string
  size: number
  venue: string
}

export interface NbboMessage {
  type: 'nbbo'
  symbol: string
  /** always 'venues': the external market, not our book */
  source: 'venues'
  bid: WireBestPrice | null
  ask: WireBestPrice | null
  crossed: boolean
  ts: number
}

export type TradeMessage = { type: 'trade'; symbol: string } & WireTrade
export interface TradesMessage {
  type: 'trades'
  symbol: string
  trades: WireTrade[]
  /** trades of the window left out (the oldest) to keep the message bounded */
  dropped?: number
}

export interface DepthSnapshotMessage {
  type: 'depth_snapshot'
  symbol: string
  seq: number
  bids: WireLevel[]
  asks: WireLevel[]
  checksum: number
  ts: number
}

export interface DepthUpdateMessage {
  type: 'depth_update'
  symbol: string
  /** the first update this message covers: the client's last seq + 1, or it missed some */
  first_seq: number
  seq: number
  bids: WireLevel[]
  asks: WireLevel[]
  checksum: number
  ts: number
}

/**
 * Sent after every quarter of the unread budget: the client answers {"op":"ack","token"} with the
 * same token. Only a client that read this far can know it, so a reader that never reads (even
 * one that keeps pinging) cannot acknowledge what piles up for it.
 */
export interface ReadCheckMessage {
  type: 'read_check'
  token: string
}

export interface ErrorMessage {
  type: 'error'
  code: string
  message: string
}

export type ServerMessage =
  | { type: 'subscribed' | 'unsubscribed'; channels: Channel[] }
  | QuoteMessage
  | TradeMessage
  | TradesMessage
  | DepthSnapshotMessage
  | DepthUpdateMessage
  | NbboMessage
  | { type: 'pong' }
  | ReadCheckMessage
  | ErrorMessage

export const error = (code: string, message: string): ErrorMessage => ({
  type: 'error',
  code,
  message,
})

/** Close codes (4000-4999 are the application's; 4008, a slow reader: src/lib/read-checks.ts). */
export const CLOSE = {
  /** too many messages from the client */
  tooManyMessages: 4029,
  /** a client message over the size limit (RFC 6455's Message Too Big) */
  messageTooBig: 1009,
} as const

/** How many top levels of each side the checksum covers. */
export const CHECKSUM_LEVELS = 10

/**
 * CRC-32 (IEEE) of the top 10 levels as text: bids best first, then asks best first, each level
 * "price:qty" with the price as on the wire, joined by ","; bids and asks separated by "|".
 * e.g. "150.00:100,149.99:20|150.01:5". An unsigned 32-bit integer.
 */
export function depthChecksum(bids: [number, number][], asks: [number, number][]): number {
  const side = (levels: [number, number][]) =>
    levels
      .slice(0, CHECKSUM_LEVELS)
      .map(([price, qty]) => `${formatCents(price)}:${qty}`)
      .join(',')
  return crc32(`${side(bids)}|${side(asks)}`)
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (IEEE 802.3) of an ASCII string. */
export function crc32(text: string): number {
  let c = 0xffffffff
  for (let i = 0; i < text.length; i++) c = CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
