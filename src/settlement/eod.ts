// End of day: at the close of a trading day (the NYSE calendar: holidays and early closes) every
// symbol's book expires its DAY orders; GTC orders stay. Each book reports the expiries to its
// outbox, whose drain releases what they held and marks them `expired` in Postgres (order-events
// .ts), as for any other expiry. One code path for the Cron Trigger (src/index.ts, every minute:
// it runs once the close has passed) and for `npm run eod` (through POST /v1/admin/eod).
//
// Idempotent at two levels: each book closes a date once (SymbolBook.closeDay keeps the dates it
// closed), and a run that reached every book is recorded in eod_runs, so a second run for the
// date does not even ask them.
import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { eodRuns, symbols } from '../db/schema.ts'
import type { Env } from '../env.ts'
import { AppError } from '../errors.ts'
import { nyDate, sessionOf } from './calendar.ts'
import type { IsoDate } from './calendar.ts'

export interface EodReport {
  date: IsoDate
  /** this call closed the day; false: a run before it had (nothing changed) */
  ran: boolean
  symbols: number
  expired: number
}

/** The books closing the day: SYMBOL_BOOK as end of day uses it. */
export type DayClosers = (symbol: string) => {
  closeDay(date: string): Promise<{ expired: number }>
}

/** Each symbol's object, as end of day and the clearing submission reach it. */
export const symbolBooks = (books: Env['SYMBOL_BOOK']) => (symbol: string) =>
  books.get(books.idFromName(symbol))

/** Closes `date` in every book, unless done already. Refused before the date's close. */
export async function runEndOfDay(
  db: Db,
  books: DayClosers,
  date: IsoDate,
  now = Date.now(),
): Promise<EodReport> {
  const session = sessionOf(date)
  if (!session) {
    throw new AppError(422, 'not_a_trading_day', `${date} is not a trading day`, { date })
  }
  if (now < session.close.getTime()) {
    const close = session.close.toISOString()
    throw new AppError(409, 'market_open', `${date}'s session closes at ${close}`, { date, close })
  }
  const [done] = await db.select().from(eodRuns).where(eq(eodRuns.tradeDate, date))
  if (done) return { date, ran: false, symbols: done.symbols, expired: done.expired }
  const listed = await db.select({ symbol: symbols.symbol }).from(symbols)
  const closed = await Promise.all(listed.map(({ symbol }) => books(symbol).closeDay(date)))
  const expired = closed.reduce((n, c) => n + c.expired, 0)
  await db
    .insert(eodRuns)
    .values({ tradeDate: date, symbols: listed.length, expired })
    .onConflictDoNothing()
  return { date, ran: true, symbols: listed.length, expired }
}

/** For the Cron Trigger: today's end of day once its close has passed (a no-op after). */
export async function endOfDayIfClosed(db: Db, books: DayClosers, now = Date.now()) {
  const today = nyDate(now)
  const session = sessionOf(today)
  if (!session || now < session.close.getTime()) return undefined
  return runEndOfDay(db, books, today, now)
}
