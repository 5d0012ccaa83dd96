// Market data over HTTP: the L2 book of a symbol, straight from its Durable Object.

import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import { symbols } from '../db/schema.ts'
import { AppError, ValidationError } from '../errors.ts'
import { formatCents } from '../lib/money.ts'

const MAX_DEPTH = 1000

export const marketDataRoutes = new Hono<AppEnv>()

marketDataRoutes.use('/book/*', withDb)

/** GET /v1/book/:symbol?depth=N → {symbol, seq, bids, asks}, levels [price, qty, orders] best first. */
marketDataRoutes.get('/book/:symbol', async (c) => {
  const symbol = c.req.param('symbol')
  const depth = parseDepth(c.req.query('depth'))
  const [listed] = await c.var.db.select({ symbol: symbols.symbol }).from(symbols).where(eq(symbols.symbol, symbol))
  if (!listed) throw new AppError(404, 'unknown_symbol', `${symbol} is not a listed symbol`)
  const book = c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol))
  const { seq, bids, asks } = await book.depth(depth)
  return c.json({ symbol, seq, bids: bids.map(level), asks: asks.map(level) })
})

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
