// The Worker entry point: the HTTP app, the Cron Trigger's jobs (the pending-order sweeper, the
// end of day), and the Durable Object classes wrangler.toml binds.
import { createApp } from './app.ts'
import type { Env } from './env.ts'
import { followFeeds, openVenues } from './execution/feeds.ts'
import { sweepOrders } from './orders/scheduled.ts'
import { closeDayIfDue } from './settlement/scheduled.ts'

export { AccountStream } from './do/account-stream.ts'
export { MarketFeed } from './do/market-feed.ts'
export { VenueSession } from './do/venue-session.ts'
export { SymbolBook } from './do/symbol-book.ts'

const app = createApp()

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
    ctx.waitUntil(runCronJobs(env))
  },
} satisfies ExportedHandler<Env>

const CRON_JOBS = { sweepOrders, closeDayIfDue, followFeeds, openVenues }

/**
 * Every job, each on its own: one failing is logged by name and fails the run, not the others.
 * Each run ends with one line (a heartbeat: which jobs failed, how long it took).
 */
async function runCronJobs(env: Env) {
  const started = Date.now()
  const jobs = Object.entries(CRON_JOBS)
  const results = await Promise.allSettled(jobs.map(([, job]) => job(env)))
  const failed = jobs.flatMap(([name], i) => {
    const r = results[i]
    return r.status === 'rejected' ? [{ job: name, error: String(r.reason?.stack ?? r.reason) }] : []
  })
  for (const f of failed) console.error(JSON.stringify({ level: 'error', msg: 'cron job failed', ...f }))
  const failedJobs = failed.map((f) => f.job)
  console.log(JSON.stringify({ level: 'info', msg: 'cron run', ms: Date.now() - started, failed: failedJobs }))
  if (failed.length > 0) throw new Error(`cron jobs failed: ${failedJobs.join(', ')}`)
}
