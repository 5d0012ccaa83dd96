// End of day from the Cron Trigger (wrangler.toml [triggers], every minute): once the trading
// day's close has passed, closes it (src/settlement/eod.ts); every later minute finds it done.
import { openDb } from '../db/client.ts'
import type { Env } from '../env.ts'
import { dayClosers, endOfDayIfClosed } from './eod.ts'

export async function closeDayIfDue(env: Env): Promise<void> {
  const handle = openDb(env)
  try {
    const report = await endOfDayIfClosed(handle.db, dayClosers(env.SYMBOL_BOOK))
    if (report?.ran) console.log(JSON.stringify({ msg: 'end of day', ...report }))
  } finally {
    await handle.end()
  }
}
