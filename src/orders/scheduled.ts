// The order sweeper, run by a Cron Trigger (wrangler.toml [triggers]): orders left pending by a
// book that did not answer and a client that never retried are submitted and recorded.
import { openDb } from '../db/client.ts'
import type { Env } from '../env.ts'
import { marketOpen } from './listed.ts'
import { bookClients, sweepPending } from './service.ts'

export async function sweepOrders(env: Env): Promise<void> {
  const handle = openDb(env)
  try {
    const result = await sweepPending(handle.db, bookClients(env.SYMBOL_BOOK), (symbol) => marketOpen(env, symbol))
    if (result.stale > 0) console.log(JSON.stringify({ msg: 'pending orders swept', ...result }))
  } finally {
    await handle.end()
  }
}
