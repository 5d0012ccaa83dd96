// End of day from the Cron Trigger (wrangler.toml [triggers], every minute): once the trading
// day's close has passed, closes it (src/settlement/eod.ts) and reconciles positions; then
// produces each closed day's clearing submission, oldest first, once its trading (extended hours
// included) is over and its fills are all in Postgres (src/settlement/service.ts). Every later
// minute finds all of it done.
import { reconcilePositions } from '../accounts/reconciliation.ts'
import { openDb } from '../db/client.ts'
import type { Env } from '../env.ts'
import { settingsFrom } from '../env.ts'
import { AppError } from '../errors.ts'
import { endOfDayIfClosed, symbolBooks } from './eod.ts'
import { clearingSubmission, unsubmittedDays } from './service.ts'

export async function closeDayIfDue(env: Env): Promise<void> {
  const handle = openDb(env)
  try {
    const report = await endOfDayIfClosed(handle.db, symbolBooks(env.SYMBOL_BOOK))
    if (report?.ran) {
      console.log(JSON.stringify({ msg: 'end of day', ...report }))
      await reconcilePositions(handle.db, 'cron')
    }
    const cycle = settingsFrom(env).settlementCycleDays
    const books = symbolBooks(env.SYMBOL_BOOK)
    for (const date of await unsubmittedDays(handle.db)) {
      const made = await clearingSubmission(handle.db, books, date, cycle).catch((err) => {
        // trading or fills not over yet: the next minute tries again
        if (err instanceof AppError && err.status === 409) return undefined
        throw err
      })
      if (!made) break
    }
  } finally {
    await handle.end()
  }
}
