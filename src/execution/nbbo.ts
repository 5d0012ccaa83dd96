// External market data, pure: the venues' feed lines parsed, and the national best bid and offer
// (NBBO) kept per symbol across venues. The feed is a line protocol, one event per line:
//
//   Q|<venue>|<symbol>|<bid>|<bid size>|<ask>|<ask size>|<ms since epoch>   a venue's top of book
//   T|<venue>|<symbol>|<price>|<qty>|<ms since epoch>                      a trade on a venue
//
// Prices are decimal strings with at most 2 decimals (held as integer cents), sizes whole shares;
// an empty side is `0|0` (no price, no size). A quote replaces the venue's previous one.
import { MONEY_PATTERN, parseCents } from '../lib/money.ts'

export interface VenueQuote {
  type: 'quote'
  venue: string
  symbol: string
  /** cents; null when the side is empty */
  bid: number | null
  bidSize: number
  ask: number | null
  askSize: number
  ts: number
}

export interface VenueTrade {
  type: 'trade'
  venue: string
  symbol: string
  price: number
  qty: number
  ts: number
}

export type FeedEvent = VenueQuote | VenueTrade

const NAME = /^[A-Z][A-Z0-9._-]{0,15}$/
const SIZE = /^(0|[1-9]\d{0,11})$/
const TS = /^[1-9]\d{0,15}$/

/** One feed line; undefined for a line that is not one (the adapter counts and skips it). */
export function parseFeedLine(line: string): FeedEvent | undefined {
  const f = line.trim().split('|')
  const cents = (text: string) => (MONEY_PATTERN.test(text) ? parseCents(text) : undefined)
  if (!NAME.test(f[1] ?? '') || !NAME.test(f[2] ?? '')) return undefined
  if (f[0] === 'Q' && f.length === 8 && SIZE.test(f[4]) && SIZE.test(f[6]) && TS.test(f[7])) {
    const [bid, ask] = [cents(f[3]), cents(f[5])]
    if (bid === undefined || ask === undefined) return undefined
    const [bidSize, askSize] = [Number(f[4]), Number(f[6])]
    const [bids, asks] = [bid > 0 && bidSize > 0, ask > 0 && askSize > 0]
    const quote: VenueQuote = {
      type: 'quote',
      venue: f[1],
      symbol: f[2],
      bid: bids ? bid : null,
      bidSize: bids ? bidSize : 0,
      ask: asks ? ask : null,
      askSize: asks ? askSize : 0,
      ts: Number(f[7]),
    }
    // a venue never shows a crossed book of its own
    if (quote.bid !== null && quote.ask !== null && quote.bid >= quote.ask) return undefined
    return quote
  }
  if (f[0] === 'T' && f.length === 6 && SIZE.test(f[4]) && TS.test(f[5])) {
    const price = cents(f[3])
    if (!price || f[4] === '0') return undefined
    return { type: 'trade', venue: f[1], symbol: f[2], price, qty: Number(f[4]), ts: Number(f[5]) }
  }
  return undefined
}

/** The best price on one side, with the venue showing it (the larger size on a tie). */
export interface BestPrice {
  price: number
  size: number
  venue: string
}

export interface Nbbo {
  symbol: string
  bid: BestPrice | null
  ask: BestPrice | null
  /** the best bid is at or above the best offer (venues disagree): no price to trade on */
  crossed: boolean
  /** newest quote time that went into it */
  ts: number
}

/** how far ahead of our clock a venue's timestamp may be */
const MAX_CLOCK_SKEW_MS = 5_000

/**
 * The NBBO of each symbol over the venues' latest quotes. A quote counts for `maxAgeMs` after we
 * received it (by our clock: a venue's may be off), or until its venue's feed goes (drop()); a
 * venue's quote stamped before the one held, or too far ahead of our clock, is ignored.
 */
export class NbboBook {
  private readonly quotes = new Map<string, Map<string, { quote: VenueQuote; at: number }>>()

  constructor(private readonly maxAgeMs: number) {}

  /** Applies a quote received at `now`; returns the symbol's NBBO after it. */
  apply(quote: VenueQuote, now: number): Nbbo {
    const venues = this.quotes.get(quote.symbol) ?? new Map<string, { quote: VenueQuote; at: number }>()
    const held = venues.get(quote.venue)
    if ((!held || held.quote.ts <= quote.ts) && quote.ts <= now + MAX_CLOCK_SKEW_MS) {
      venues.set(quote.venue, { quote, at: now })
    }
    this.quotes.set(quote.symbol, venues)
    return this.nbbo(quote.symbol, now)
  }

  /** Forgets a venue's quotes (its feed went away). */
  drop(venue: string): void {
    for (const venues of this.quotes.values()) venues.delete(venue)
  }

  /** The best bid and offer over the venues' fresh quotes (of `only` those venues, if given). */
  nbbo(symbol: string, now: number, only?: ReadonlySet<string>): Nbbo {
    const fresh = [...(this.quotes.get(symbol)?.values() ?? [])]
      .filter((held) => now - held.at <= this.maxAgeMs && (!only || only.has(held.quote.venue)))
      .map((held) => held.quote)
    const best = (side: 'bid' | 'ask'): BestPrice | null => {
      let top: BestPrice | null = null
      for (const q of fresh) {
        const price = q[side]
        if (price === null) continue
        const size = side === 'bid' ? q.bidSize : q.askSize
        const better = !top || (side === 'bid' ? price > top.price : price < top.price)
        if (better || (top && price === top.price && size > top.size)) {
          top = { price, size, venue: q.venue }
        }
      }
      return top
    }
    const [bid, ask] = [best('bid'), best('ask')]
    return {
      symbol,
      bid,
      ask,
      crossed: !!bid && !!ask && bid.price >= ask.price,
      ts: fresh.reduce((t, q) => Math.max(t, q.ts), 0),
    }
  }
}
