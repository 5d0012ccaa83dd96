// The latest quote and last trade of each symbol, cached in Redis so quote reads never queue
// behind matching. The symbol's object writes its own (QuoteWriter: at once when the best prices
// move, else at most every WRITE_EVERY_MS, the latest state only); GET /v1/quotes reads Redis and
// falls back to the objects when Redis is unset or fails (routes.ts). Redis is a cache: losing it
// loses nothing.
import type { Redis } from '@upstash/redis/cloudflare'
import type { Depth } from '../engine/types.ts'
import { formatCents } from '../lib/money.ts'
import type { Trade } from './feed.ts'

export const WRITE_EVERY_MS = 100
const RETRY_MS = 1000

/** What GET /v1/quotes answers for a symbol (prices as decimal strings). */
export interface QuoteRecord {
  symbol: string
  bid: string | null
  bid_size: number
  ask: string | null
  ask_size: number
  last: { price: string; qty: number; side: 'buy' | 'sell'; ts: number } | null
  /** the engine's time of the state it shows */
  ts: number
}

/** The symbol's key; `prefix`: CACHE_PREFIX, one per run in tests that share a Redis. */
export const quoteKey = (symbol: string, prefix = 'bourse') => `${prefix}:quote:${symbol}`

export function quoteRecord(symbol: string, top: Depth, last: Trade | null, ts: number): QuoteRecord {
  const [bid] = top.bids
  const [ask] = top.asks
  return {
    symbol,
    bid: bid ? formatCents(bid[0]) : null,
    bid_size: bid?.[1] ?? 0,
    ask: ask ? formatCents(ask[0]) : null,
    ask_size: ask?.[1] ?? 0,
    last: last && { price: formatCents(last.price), qty: last.qty, side: last.side, ts: last.ts },
    ts,
  }
}

/**
 * The symbol object's writer: one write in flight at a time, and what changes meanwhile is
 * written after it (the latest state, never a stale one after a newer).
 */
export class QuoteWriter {
  private record: QuoteRecord | undefined
  private written: QuoteRecord | undefined
  private writtenAt = 0
  private writing = false
  /** after a failed write, the next is not tried before this */
  private retryAt = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly redis: Redis | undefined,
    private readonly prefix: string | undefined,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The symbol's state after a command (computed only when Redis is configured). */
  update(record: () => QuoteRecord) {
    if (!this.redis) return
    this.record = record()
    this.flush()
  }

  private flush() {
    const record = this.record
    if (!record || this.writing || record === this.written) return
    const moved = record.bid !== this.written?.bid || record.ask !== this.written?.ask
    const wait = Math.max(
      moved ? 0 : this.writtenAt + WRITE_EVERY_MS - Date.now(),
      this.retryAt - Date.now(),
    )
    if (wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined
        this.flush()
      }, wait)
      return
    }
    this.writing = true
    this.written = record
    this.writtenAt = Date.now()
    this.redis!.set(quoteKey(record.symbol, this.prefix), JSON.stringify(record))
      .catch((error) => {
        // written again (the latest state) in a second
        this.written = undefined
        this.retryAt = Date.now() + RETRY_MS
        this.onError(error)
      })
      .finally(() => {
        this.writing = false
        this.flush()
      })
  }
}
