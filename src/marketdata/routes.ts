// Market data: the L2 book of a symbol over HTTP, straight from its Durable Object, and the
// symbol's WebSocket feed (protocol.ts), which the object serves once the Worker authenticated
// the upgrade.

import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import { symbols } from '../db/schema.ts'
import { verifyAccessToken } from '../auth/tokens.ts'
import { users } from '../db/schema.ts'
import { AppError, UnauthorizedError, ValidationError } from '../errors.ts'
import { formatCents } from '../lib/money.ts'
import { UPGRADE_TIER, UPGRADE_USER } from './hub.ts'
import { isListed } from '../orders/listed.ts'

const MAX_DEPTH = 1000

export const marketDataRoutes = new Hono<AppEnv>()

marketDataRoutes.use('/book/*', withDb)

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

/** The subprotocol the server speaks; a client sending its token as a subprotocol offers it too. */
export const PROTOCOL = 'bourse.v1'
const TOKEN_PROTOCOL = /^bearer\.([A-Za-z0-9_.~+/=-]+)$/

/**
 * GET /v1/market-data/:symbol (WebSocket upgrade). The access token comes in a subprotocol
 * `bearer.<token>` (offered with `bourse.v1`) or a `token` query parameter: browsers cannot set
 * headers on a WebSocket. `since=<seq>` resumes the depth channel (protocol.ts, README).
 */
marketDataRoutes.get('/market-data/:symbol', withDb, async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new AppError(426, 'upgrade_required', 'Connect with a WebSocket (Upgrade: websocket)')
  }
  const offered = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim())
  const token = offered.map((p) => TOKEN_PROTOCOL.exec(p)?.[1]).find(Boolean) ?? c.req.query('token')
  if (!token) {
    throw new UnauthorizedError('token_missing', 'Send the access token as subprotocol bearer.<token> or ?token=')
  }
  const { userId } = await verifyAccessToken(c.env, c.get('settings'), token)
  const symbol = c.req.param('symbol')
  const since = c.req.query('since')
  if (since !== undefined && !/^\d{1,15}$/.test(since)) {
    throw new ValidationError('since must be a sequence number', [{ path: 'since', message: 'an integer ≥ 0' }])
  }
  if (!(await isListed(c.env, symbol))) throw notListed(symbol)
  const [user] = await c.var.db.select({ tier: users.tier }).from(users).where(eq(users.id, userId))
  if (!user) throw new UnauthorizedError('invalid_token', 'No such account')
  const url = new URL(c.req.url)
  url.search = since === undefined ? '' : `?since=${since}`
  const headers = new Headers({ upgrade: 'websocket', [UPGRADE_USER]: String(userId), [UPGRADE_TIER]: user.tier })
  if (offered.includes(PROTOCOL)) headers.set('sec-websocket-protocol', PROTOCOL)
  const book = c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol))
  return book.fetch(new Request(url, { headers }))
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
