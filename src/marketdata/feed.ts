// A symbol's market data as the book changes: the quote (best bid and ask), its trades, and its
// depth (the top DEPTH_LEVELS levels of each side) as numbered deltas. Pure: the symbol's Durable
// Object gives it the book's depth and the fills after each command (or after several: a delta is
// the difference between two states, so skipping states merges their deltas) and sends what comes
// out (src/do/symbol-book.ts, through each tier's throttle in throttle.ts).
//
// Sequence numbers: each delta is the previous one's seq + 1. A restarted object starts at its
// book's command sequence number, which is at least any seq the previous instance gave out (each
// delta follows at least one command): a client resuming from an older seq gets a snapshot.
import type { Depth, Side } from '../engine/types.ts'
import { depthChecksum } from './protocol.ts'

/** Levels of each side the depth channel covers. */
export const DEPTH_LEVELS = 50
/** Deltas kept for clients that resume with since=<seq>. */
export const REPLAY_DELTAS = 1000

/** [price in cents, qty]; qty 0 in a delta removes the level. */
export type Level = [price: number, qty: number]

export interface Quote {
  bid: number | null
  bidSize: number
  ask: number | null
  askSize: number
  ts: number
}

export interface Trade {
  price: number
  qty: number
  /** the aggressor's side */
  side: Side
  ts: number
}

export interface DepthDelta {
  /** the first delta merged into this one (= seq unless merged) */
  firstSeq: number
  seq: number
  bids: Level[]
  asks: Level[]
  /** depthChecksum of the book after it */
  checksum: number
  ts: number
}

export interface DepthSnapshot {
  seq: number
  bids: Level[]
  asks: Level[]
  checksum: number
  ts: number
}

/** What one observation of the book changed. */
export interface FeedUpdate {
  quote?: Quote
  trades: Trade[]
  depth?: DepthDelta
}

interface Book {
  bids: Level[]
  asks: Level[]
}

export class MarketFeed {
  private book: Book = { bids: [], asks: [] }
  private seq: number
  private checksum = depthChecksum([], [])
  private ts: number
  private quote: Quote
  private readonly replay: DepthDelta[] = []

  /** `seq`: where numbering starts (the book's command sequence number); `depth`: its state. */
  constructor(seq: number, depth: Depth, ts: number) {
    this.seq = seq
    this.ts = ts
    this.book = topLevels(depth)
    this.checksum = depthChecksum(this.book.bids, this.book.asks)
    this.quote = quoteOf(this.book, ts)
  }

  /** The book as it is now (its top DEPTH_LEVELS levels) and the trades since the last call. */
  observe(depth: Depth, trades: Trade[], ts: number): FeedUpdate {
    const next = topLevels(depth)
    const bids = diff(this.book.bids, next.bids, (a, b) => b - a)
    const asks = diff(this.book.asks, next.asks, (a, b) => a - b)
    const update: FeedUpdate = { trades }
    if (bids.length > 0 || asks.length > 0) {
      this.book = next
      this.ts = ts
      this.seq++
      this.checksum = depthChecksum(next.bids, next.asks)
      const delta = { firstSeq: this.seq, seq: this.seq, bids, asks, checksum: this.checksum, ts }
      this.replay.push(delta)
      if (this.replay.length > REPLAY_DELTAS) this.replay.shift()
      update.depth = delta
      const quote = quoteOf(next, ts)
      if (!sameQuote(quote, this.quote)) update.quote = this.quote = quote
    }
    return update
  }

  snapshot(): DepthSnapshot {
    const { bids, asks } = this.book
    return { seq: this.seq, bids, asks, checksum: this.checksum, ts: this.ts }
  }

  currentQuote(): Quote {
    return this.quote
  }

  /**
   * What a client that applied everything up to `seq` missed, as one merged delta; null when it
   * missed nothing; undefined when the replay buffer no longer reaches back (send a snapshot).
   */
  since(seq: number): DepthDelta | null | undefined {
    if (seq === this.seq) return null
    const first = this.replay[0]
    if (!first || seq > this.seq || seq < first.seq - 1) return undefined
    return mergeDeltas(this.replay.slice(seq - first.seq + 1))
  }
}

/** Several consecutive deltas as one: each level's last quantity. */
export function mergeDeltas(deltas: DepthDelta[]): DepthDelta {
  const last = deltas[deltas.length - 1]
  if (deltas.length === 1) return last
  const side = (pick: (d: DepthDelta) => Level[], order: (a: number, b: number) => number) => {
    const levels = new Map<number, number>()
    for (const d of deltas) for (const [price, qty] of pick(d)) levels.set(price, qty)
    return [...levels].sort((a, b) => order(a[0], b[0]))
  }
  return {
    firstSeq: deltas[0].firstSeq,
    seq: last.seq,
    bids: side((d) => d.bids, (a, b) => b - a),
    asks: side((d) => d.asks, (a, b) => a - b),
    checksum: last.checksum,
    ts: last.ts,
  }
}

function topLevels(depth: Depth): Book {
  const levels = (side: Depth['bids']) =>
    side.slice(0, DEPTH_LEVELS).map(([price, qty]): Level => [price, qty])
  return { bids: levels(depth.bids), asks: levels(depth.asks) }
}

/** The levels that differ between two states of one side, in the side's order. */
function diff(before: Level[], after: Level[], order: (a: number, b: number) => number): Level[] {
  const old = new Map(before)
  const changed: Level[] = []
  for (const [price, qty] of after) {
    if (old.get(price) !== qty) changed.push([price, qty])
    old.delete(price)
  }
  for (const price of old.keys()) changed.push([price, 0])
  return changed.sort((a, b) => order(a[0], b[0]))
}

function quoteOf({ bids, asks }: Book, ts: number): Quote {
  return {
    bid: bids[0]?.[0] ?? null,
    bidSize: bids[0]?.[1] ?? 0,
    ask: asks[0]?.[0] ?? null,
    askSize: asks[0]?.[1] ?? 0,
    ts,
  }
}

const sameQuote = (a: Quote, b: Quote) =>
  a.bid === b.bid && a.bidSize === b.bidSize && a.ask === b.ask && a.askSize === b.askSize
