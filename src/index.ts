// The Worker entry point: the HTTP app, the Cron Trigger's sweeper, and the Durable Object
// classes wrangler.toml binds.
import { createApp } from './app.ts'
import type { Env } from './env.ts'
import { sweepOrders } from './orders/scheduled.ts'

export { AccountStream } from './do/account-stream.ts'
export { SymbolBook } from './do/symbol-book.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepOrders(env))
  },
} satisfies ExportedHandler<Env>
