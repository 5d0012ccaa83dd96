// Market data: the L2 book of a symbol over HTTP, straight from its Durable Object; quotes from
// the Redis cache (quotes.ts), or from the objects when it cannot answer; and the symbol's
// WebSocket feed (protocol.ts), which the object serves once the Worker authenticated the upgrade.

import { Hono } from 'hono'
import type { Context } from 'hono'
import { userTier } from '../accounts/tier.ts'
import { rateLimit } from '../auth/rate-limit.ts'
import type { AppEnv } from '../context.ts'
import { authenticateUpgrade, forwardedUpgrade } from '../auth/upgrade.ts'
import { redisFrom } from '../db/redis.ts'
import { AppError, ValidationError } from '../errors.ts'
import type { BestPrice } from '../execution/nbbo.ts'
import { formatCents } from '../lib/money.ts'
import { UPGRADE_TIER, UPGRADE_USER } from './hub.ts'
import { quoteKey } from './quotes.ts'
import type { QuoteRecord } from './quotes.ts'
import { isListed } from '../orders/listed.ts'

const MAX_DEPTH = 1000

export const marketDataRoutes = new Hono<AppEnv>()

marketDataRoutes.use('/book/*', rateLimit('reads'))
marketDataRoutes.use('/nbbo/*', rateLimit('reads'))

/** GET /v1/book/:symbol?depth=N → {symbol, seq, bids, asks}, levels [price, qty, orders] best first. */
marketDataRoutes.get('/book/:symbol', async (c) => {
  const symbol = c.req.param('symbol')
  const depth = parseDepth(c.req.query('depth'))
  if (!(await isListed(c.env, symbol))) throw notListed(symbol)
  const book = c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol))
  const { seq, bids, asks } = await book.depth(depth)
  return c.json({ symbol, seq, bids: bids.map(level), asks: asks.map(level) })
})

/**
 * GET /v1/nbbo/:symbol → {symbol, bid, ask, ts}: the national best bid and offer over the venues'
 * feeds (a distinct source from our own book), each side {price, size, venue} or null.
 */
marketDataRoutes.get('/nbbo/:symbol', async (c) => {
  const symbol = c.req.param('symbol')
  if (!(await isListed(c.env, symbol))) throw notListed(symbol)
  const nbbo = await c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol)).nbbo()
  const side = (best: BestPrice | null) =>
    best && { price: formatCents(best.price), size: best.size, venue: best.venue }
  return c.json({
    symbol,
    bid: side(nbbo.bid),
    ask: side(nbbo.ask),
    crossed: nbbo.crossed,
    ts: nbbo.ts ? new Date(nbbo.ts).toISOString() : null,
  })
})

/**
 * GET /v1/market-data/:symbol (WebSocket upgrade), authenticated here (src/auth/upgrade.ts) and
 * served by the symbol's object (hub.ts); `since=<seq>` resumes the depth channel (README).
 */
marketDataRoutes.get('/market-data/:symbol', async (c) => {
  const upgrade = await authenticateUpgrade(c)
  const symbol = c.req.param('symbol')
  if (!(await isListed(c.env, symbol))) throw notListed(symbol)
  // (the tier kept per isolate: a reconnecting crowd does not open a connection each)
  const tier = await userTier(c, upgrade.userId)
  const book = c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol))
  const headers = { [UPGRADE_USER]: String(upgrade.userId), [UPGRADE_TIER]: tier }
  return book.fetch(forwardedUpgrade(c.req.url, upgrade, headers))
})

// (in Hono, /quotes/* matches /quotes too: one use, or it counts twice)
marketDataRoutes.use('/quotes/*', rateLimit('reads'))

/** GET /v1/quotes/:symbol → the symbol's quote and last trade (X-Quote-Source says from where). */
marketDataRoutes.get('/quotes/:symbol', async (c) => {
  const symbol = c.req.param('symbol')
  const { quotes, source, fallback } = await readQuotes(c, [symbol])
  if (!quotes[0]) throw notListed(symbol)
  quoteHeaders(c, source, fallback)
  return c.json(quotes[0])
})

/** GET /v1/quotes?symbols=A,B,C → {quotes: [...], unknown: [...]}, in the order asked. */
marketDataRoutes.get('/quotes', async (c) => {
  const asked = parseSymbols(c.req.query('symbols'))
  const { quotes, source, fallback } = await readQuotes(c, asked)
  quoteHeaders(c, source, fallback)
  return c.json({
    quotes: quotes.filter(Boolean),
    unknown: asked.filter((_, i) => !quotes[i]),
  })
})

const MAX_QUOTES = 50
const SYMBOL = /^[A-Z][A-Z0-9.]{0,9}$/

function parseSymbols(text: string | undefined): string[] {
  const list = [...new Set((text ?? '').split(',').map((s) => s.trim()).filter(Boolean))]
  if (list.length === 0 || list.length > MAX_QUOTES || !list.every((s) => SYMBOL.test(s))) {
    const message = `1 to ${MAX_QUOTES} symbols, comma-separated`
    throw new ValidationError(`symbols: ${message}`, [{ path: 'symbols', message }])
  }
  return list
}

type Fallback = 'redis_unset' | 'redis_error' | 'not_cached'

/**
 * Each symbol's quote from Redis; what Redis cannot answer (unset, failing, not cached yet) from
 * the symbols' objects, for listed symbols only. undefined: not listed.
 */
async function readQuotes(c: Context<AppEnv>, symbols: string[]) {
  const redis = redisFrom(c.env)
  let cached: (QuoteRecord | null)[] = symbols.map(() => null)
  let fallback: Fallback | undefined = redis ? undefined : 'redis_unset'
  if (redis) {
    try {
      cached = await redis.mget<(QuoteRecord | null)[]>(
        ...symbols.map((s) => quoteKey(s, c.env.CACHE_PREFIX)),
      )
    } catch (error) {
      console.error(JSON.stringify({ msg: 'quote cache read failed', error: String(error) }))
      fallback = 'redis_error'
    }
  }
  const quotes = await Promise.all(
    symbols.map(async (symbol, i): Promise<QuoteRecord | undefined> => {
      if (cached[i]) return cached[i]
      if (!(await isListed(c.env, symbol))) return undefined
      fallback ??= 'not_cached'
      return c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol)).quote()
    }),
  )
  const fromBook = quotes.filter((q, i) => q && !cached[i]).length
  const found = quotes.filter(Boolean).length
  const source = fromBook === 0 ? 'redis' : fromBook === found ? 'book' : 'mixed'
  return { quotes, source, fallback: fromBook > 0 ? fallback : undefined }
}

function quoteHeaders(c: Context<AppEnv>, source: string, fallback: Fallback | undefined) {
  c.header('X-Quote-Source', source)
  if (fallback) c.header('X-Quote-Fallback', fallback)
}

const notListed = (symbol: string) =>
  new AppError(404, 'unknown_symbol', `${symbol} is not a listed symbol`)

function parseDepth(text: string | undefined): number {
  if (text === undefined) return 10
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_DEPTH) {
    throw new ValidationError(`depth must be an integer in [1, ${MAX_DEPTH}]`, [
      { path: 'depth', message: `an integer in [1, ${MAX_DEPTH}]` },
    ])
  }
  return n
}

/** Engine prices are cents; the API speaks decimal strings. */
const level = ([price, qty, orders]: number[]) => [formatCents(price), qty, orders] as const
