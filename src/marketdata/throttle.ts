// A tier's throttle. A tier's subscribers receive at most one message per channel per interval
// (retail 1 s, pro 100 ms); what arrives in between is conflated, never queued: the latest quote,
// the window's trades in one message, the window's depth deltas merged into one. One throttle
// serves all of a tier's subscribers (hub.ts), so each message is built once. Pure: the symbol's
// Durable Object offers it the feed's updates and sends what it returns, and calls flush() when
// nextFlushAt() comes.
import type { DepthDelta, DepthSnapshot, FeedUpdate, Level, Quote, Trade } from './feed.ts'
import { mergeDeltas } from './feed.ts'
import type { Channel, ServerMessage, WireLevel, WireTrade } from './protocol.ts'
import { formatCents } from '../lib/money.ts'
import type { BestPrice, Nbbo } from '../execution/nbbo.ts'

export type Tier = 'retail' | 'pro'

/** The shortest time between two messages of one channel, by tier. */
export const TIER_INTERVAL_MS: Record<Tier, number> = { retail: 1000, pro: 100 }

/** Trades one conflated message carries at most (the newest; the rest are counted as dropped). */
export const MAX_TRADES_PER_MESSAGE = 200

export class TierThrottle {
  readonly interval: number
  private readonly lastSent = new Map<Channel, number>()
  private quote: Quote | undefined
  private trades: Trade[] = []
  private droppedTrades = 0
  private deltas: DepthDelta[] = []
  private nbbo: Nbbo | undefined

  constructor(
    readonly symbol: string,
    readonly tier: Tier,
  ) {
    this.interval = TIER_INTERVAL_MS[tier]
  }

  /** Takes a feed update; returns the messages due now. */
  offer(update: FeedUpdate, now: number): ServerMessage[] {
    if (update.quote) this.quote = update.quote
    if (update.trades.length > 0) {
      this.trades.push(...update.trades)
      const over = this.trades.length - MAX_TRADES_PER_MESSAGE
      if (over > 0) {
        this.trades.splice(0, over)
        this.droppedTrades += over
      }
    }
    if (update.depth) this.deltas.push(update.depth)
    return this.flush(now)
  }

  /** Takes the venues' NBBO after a change; returns the messages due now (the latest wins). */
  offerNbbo(nbbo: Nbbo, now: number): ServerMessage[] {
    this.nbbo = nbbo
    return this.flush(now)
  }

  /** The conflated messages whose interval has passed. */
  flush(now: number): ServerMessage[] {
    const out: ServerMessage[] = []
    if (this.quote && this.due('quotes', now)) {
      out.push(quoteMessage(this.symbol, this.quote))
      this.quote = undefined
    }
    if (this.trades.length > 0 && this.due('trades', now)) {
      out.push(tradesMessage(this.symbol, this.trades, this.droppedTrades))
      this.trades = []
      this.droppedTrades = 0
    }
    if (this.deltas.length > 0 && this.due('depth', now)) {
      out.push(depthUpdateMessage(this.symbol, mergeDeltas(this.deltas)))
      this.deltas = []
    }
    if (this.nbbo && this.due('nbbo', now)) {
      out.push(nbboMessage(this.nbbo))
      this.nbbo = undefined
    }
    return out
  }

  /** When flush() will have something to send; undefined when nothing waits. */
  nextFlushAt(): number | undefined {
    const waiting: Channel[] = []
    if (this.quote) waiting.push('quotes')
    if (this.trades.length > 0) waiting.push('trades')
    if (this.deltas.length > 0) waiting.push('depth')
    if (this.nbbo) waiting.push('nbbo')
    if (waiting.length === 0) return undefined
    return Math.min(...waiting.map((c) => (this.lastSent.get(c) ?? -Infinity) + this.interval))
  }

  private due(channel: Channel, now: number): boolean {
    if (now - (this.lastSent.get(channel) ?? -Infinity) < this.interval) return false
    this.lastSent.set(channel, now)
    return true
  }
}

const wireLevels = (levels: Level[]): WireLevel[] => levels.map(([p, q]) => [formatCents(p), q])

const wireTrade = (t: Trade): WireTrade => ({
  price: formatCents(t.price),
  qty: t.qty,
  side: t.side,
  ts: t.ts,
})

export function quoteMessage(symbol: string, q: Quote): ServerMessage {
  return {
    type: 'quote',
    symbol,
    bid: q.bid === null ? null : formatCents(q.bid),
    bid_size: q.bidSize,
    ask: q.ask === null ? null : formatCents(q.ask),
    ask_size: q.askSize,
    ts: q.ts,
  }
}

const wireBest = (b: BestPrice | null) => b && { price: formatCents(b.price), size: b.size, venue: b.venue }

export function nbboMessage(n: Nbbo): ServerMessage {
  return {
    type: 'nbbo',
    symbol: n.symbol,
    source: 'venues',
    bid: wireBest(n.bid),
    ask: wireBest(n.ask),
    crossed: n.crossed,
    ts: n.ts,
  }
}

/** One trade as `trade`; several (a conflated window) as `trades`. */
export function tradesMessage(symbol: string, trades: Trade[], dropped = 0): ServerMessage {
  if (trades.length === 1 && dropped === 0) return { type: 'trade', symbol, ...wireTrade(trades[0]) }
  return {
    type: 'trades',
    symbol,
    trades: trades.map(wireTrade),
    ...(dropped > 0 && { dropped }),
  }
}

export function depthUpdateMessage(symbol: string, d: DepthDelta): ServerMessage {
  return {
    type: 'depth_update',
    symbol,
    first_seq: d.firstSeq,
    seq: d.seq,
    bids: wireLevels(d.bids),
    asks: wireLevels(d.asks),
    checksum: d.checksum,
    ts: d.ts,
  }
}

export function depthSnapshotMessage(symbol: string, s: DepthSnapshot): ServerMessage {
  return {
    type: 'depth_snapshot',
    symbol,
    seq: s.seq,
    bids: wireLevels(s.bids),
    asks: wireLevels(s.asks),
    checksum: s.checksum,
    ts: s.ts,
  }
}
