// The Worker entry point: the HTTP app, the Cron Trigger's jobs (the pending-order sweeper, the
// end of day), and the Durable Object classes wrangler.toml binds.
import { createApp } from './app.ts'
import { runCronJobs } from './lib/cron.ts'
import type { Env } from './env.ts'
import { followFeeds, openVenues } from './execution/feeds.ts'
import { sweepOrders } from './orders/scheduled.ts'
import { closeDayIfDue } from './settlement/scheduled.ts'

export { AccountStream } from './do/account-stream.ts'
export { MarketFeed } from './do/market-feed.ts'
export { VenueSession } from './do/venue-session.ts'
export { SymbolBook } from './do/symbol-book.ts'

const app = createApp()

/** what the Cron Trigger runs every minute (wrangler.toml [triggers]) */
const CRON_JOBS = { sweepOrders, closeDayIfDue, followFeeds, openVenues }

export default {
  fetch(request, env, ctx) {
    // chaos harness only (scripts/lib/chaos/faults.ts): POST /__chaos/evict?symbol=S evicts
    // that symbol's object (src/do/symbol-book.ts); deployed builds drop this (wrangler.toml)
    if (typeof __CHAOS_HOOKS__ !== 'undefined' && __CHAOS_HOOKS__) {
      const url = new URL(request.url)
      const symbol = url.pathname === '/__chaos/evict' && url.searchParams.get('symbol')
      const book = symbol && env.SYMBOL_BOOK.get(env.SYMBOL_BOOK.idFromName(symbol))
      // the abort fails the call: answered plainly (wrangler's error page takes half a second)
      if (book) return book.fetch(request).catch((err) => new Response(String(err), { status: 503 }))
    }
    return app.fetch(request, env, ctx)
  },
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runCronJobs(CRON_JOBS, env))
  },
} satisfies ExportedHandler<Env>
