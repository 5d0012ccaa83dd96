// /v1/admin/feeds, /v1/admin/venues and /v1/admin/symbols/:symbol/routing: the venues' market-data
// feeds (src/do/market-feed.ts), FIX sessions (src/do/venue-session.ts) and how each symbol
// routes (src/execution/routing.ts). Mounted behind the admin check (src/app.ts).
import { Hono } from 'hono'
import { z } from 'zod'
import { symbolParam } from '../accounts/schema.ts'
import { appendAudit } from '../audit/chain.ts'
import type { AppEnv } from '../context.ts'
import { NotFoundError } from '../errors.ts'
import { validate } from '../lib/validate.ts'
import { isListed } from '../orders/listed.ts'
import { followFeeds, openVenues, venueStatuses } from './feeds.ts'
import { ROUTING_MODES } from './routing.ts'

export const executionRoutes = new Hono<AppEnv>()

/** Follows every configured feed now (the Cron Trigger does each minute): their statuses. */
executionRoutes.post('/feeds', async (c) => c.json({ feeds: await followFeeds(c.env) }))

/** Opens every configured venue's FIX session now (the Cron Trigger does each minute). */
executionRoutes.post('/venues', async (c) => c.json({ venues: await openVenues(c.env) }))

/** The venues' FIX sessions as they are, without opening any. */
executionRoutes.get('/venues', async (c) => c.json({ venues: await venueStatuses(c.env) }))

const routingBody = z.strictObject({ mode: z.enum(ROUTING_MODES) })

/** The symbol's book, which keeps its routing mode (a listed symbol's only). */
async function listedBook(c: { env: AppEnv['Bindings'] }, symbol: string) {
  if (!(await isListed(c.env, symbol))) throw new NotFoundError(`No symbol ${symbol}`)
  return c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol))
}

executionRoutes.get('/symbols/:symbol/routing', validate('param', symbolParam), async (c) => {
  const { symbol } = c.req.valid('param')
  return c.json({ symbol, mode: await (await listedBook(c, symbol)).routingMode() })
})

/** Sets how the symbol's orders match: `internal`, or `both` (internal first, then routed). */
executionRoutes.put(
  '/symbols/:symbol/routing',
  validate('param', symbolParam),
  validate('json', routingBody),
  async (c) => {
    const { symbol } = c.req.valid('param')
    const mode = await (await listedBook(c, symbol)).setRouting(c.req.valid('json').mode)
    await c.var.db.transaction((tx) =>
      appendAudit(tx, c.var.auth.userId, 'admin.symbol_routing', { symbol, mode }),
    )
    return c.json({ symbol, mode })
  },
)
