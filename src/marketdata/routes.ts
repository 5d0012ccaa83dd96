// Market data: the L2 book of a symbol over HTTP, straight from its Durable Object, and the
// symbol's WebSocket feed (protocol.ts), which the object serves once the Worker authenticated
// the upgrade.

import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { rateLimit } from '../auth/rate-limit.ts'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import { authenticateUpgrade, forwardedUpgrade } from '../auth/upgrade.ts'
import { symbols, users } from '../db/schema.ts'
import { AppError, UnauthorizedError, ValidationError } from '../errors.ts'
import { formatCents } from '../lib/money.ts'
import { UPGRADE_TIER, UPGRADE_USER } from './hub.ts'
import { isListed } from '../orders/listed.ts'

const MAX_DEPTH = 1000

export const marketDataRoutes = new Hono<AppEnv>()

marketDataRoutes.use('/book/*', withDb)
marketDataRoutes.use('/book/*', rateLimit('reads'))

/** GET /v1/book/:symbol?depth=N → {symbol, seq, bids, asks}, levels [price, qty, orders] best first. */
marketDataRoutes.get('/book/:symbol', async (c) => {
  const symbol = c.req.param('symbol')
  const depth = parseDepth(c.req.query('depth'))
  const [listed] = await c.var.db.select({ symbol: symbols.symbol }).from(symbols).where(eq(symbols.symbol, symbol))
  if (!listed) throw notListed(symbol)
  const book = c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol))
  const { seq, bids, asks } = await book.depth(depth)
  return c.json({ symbol, seq, bids: bids.map(level), asks: asks.map(level) })
})

/**
 * GET /v1/market-data/:symbol (WebSocket upgrade), authenticated here (src/auth/upgrade.ts) and
 * served by the symbol's object (hub.ts); `since=<seq>` resumes the depth channel (README).
 */
marketDataRoutes.get('/market-data/:symbol', withDb, async (c) => {
  const upgrade = await authenticateUpgrade(c)
  const symbol = c.req.param('symbol')
  if (!(await isListed(c.env, symbol))) throw notListed(symbol)
  const [user] = await c.var.db
    .select({ tier: users.tier })
    .from(users)
    .where(eq(users.id, upgrade.userId))
  if (!user) throw new UnauthorizedError('invalid_token', 'No such account')
  const book = c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol))
  const headers = { [UPGRADE_USER]: String(upgrade.userId), [UPGRADE_TIER]: user.tier }
  return book.fetch(forwardedUpgrade(c.req.url, upgrade, headers))
})

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
