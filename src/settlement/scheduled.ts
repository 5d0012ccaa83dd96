// End of day from the Cron Trigger (wrangler.toml [triggers], every minute): once the trading
// day's close has passed, closes it (src/settlement/eod.ts), then produces its clearing
// submission as soon as the day's fills are all in Postgres (src/settlement/service.ts); every
// later minute finds both done. Each close is followed by a position reconciliation.
import { reconcilePositions } from '../accounts/reconciliation.ts'
import { openDb } from '../db/client.ts'
import type { Env } from '../env.ts'
import { settingsFrom } from '../env.ts'
import { AppError } from '../errors.ts'
import { endOfDayIfClosed, symbolBooks } from './eod.ts'
import { clearingSubmission } from './service.ts'

export async function closeDayIfDue(env: Env): Promise<void> {
  const handle = openDb(env)
  try {
    const report = await endOfDayIfClosed(handle.db, symbolBooks(env.SYMBOL_BOOK))
    if (!report) return
    if (report.ran) {
      console.log(JSON.stringify({ msg: 'end of day', ...report }))
      await reconcilePositions(handle.db, 'cron')
    }
    const cycle = settingsFrom(env).settlementCycleDays
    const books = symbolBooks(env.SYMBOL_BOOK)
    await clearingSubmission(handle.db, books, report.date, cycle).catch((err) => {
      // fills still on their way: the next minute tries again
      if (!(err instanceof AppError && err.code === 'fills_pending')) throw err
    })
  } finally {
    await handle.end()
  }
}
