// A sliding-window rate limiter in memory: the same arithmetic as @upstash/ratelimit's
// slidingWindow (its Lua script), for when there is no Redis to count in. Windows are aligned on
// multiples of the window; a request is refused when the previous window's count, weighted by
// how much of it still overlaps the sliding window, plus the current window's reaches the limit.
// Refused requests are not counted.

export interface Decision {
  success: boolean
  limit: number
  remaining: number
  /** when the current window ends (ms since the epoch) */
  reset: number
}

interface Counts {
  window: number
  current: number
  previous: number
}

/** the most identifiers kept: beyond, the oldest is forgotten (it starts over at zero) */
const MAX_KEYS = 50_000

export class SlidingWindow {
  private counts = new Map<string, Counts>()

  limit(key: string, limit: number, windowMs: number, now = Date.now()): Decision {
    const window = Math.floor(now / windowMs)
    const counts = this.advance(this.counts.get(key), window)
    const previous = Math.floor((1 - (now % windowMs) / windowMs) * counts.previous)
    const reset = (window + 1) * windowMs
    if (previous + counts.current >= limit) {
      this.remember(key, counts)
      return { success: false, limit, remaining: 0, reset }
    }
    counts.current++
    this.remember(key, counts)
    return { success: true, limit, remaining: limit - previous - counts.current, reset }
  }

  private advance(counts: Counts | undefined, window: number): Counts {
    if (counts?.window === window) return counts
    if (counts?.window === window - 1) return { window, current: 0, previous: counts.current }
    return { window, current: 0, previous: 0 }
  }

  private remember(key: string, counts: Counts) {
    if (!this.counts.has(key) && this.counts.size >= MAX_KEYS) {
      this.counts.delete(this.counts.keys().next().value!)
    }
    this.counts.set(key, counts)
  }
}
