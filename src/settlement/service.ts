// The clearing submission of a trade date, produced once its day is closed and its fills are all
// in Postgres, then stored and served unchanged (src/settlement/clearing.ts has the arithmetic).
import { and, asc, eq, isNull, lt } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { clearingSubmissions, eodRuns, fills, settlementObligations, symbols } from '../db/schema.ts'
import type { OutboxFill } from '../engine/journal.ts'
import { AppError } from '../errors.ts'
import { extendedSessionOf, isTradingDay } from './calendar.ts'
import type { IsoDate } from './calendar.ts'
import { netObligations, settlementDate, submission, tradeDateWindow } from './clearing.ts'

/** Closed trading days without a submission, oldest first (before `before`, if given). */
export async function unsubmittedDays(db: Db, before?: IsoDate): Promise<IsoDate[]> {
  const rows = await db
    .select({ date: eodRuns.tradeDate })
    .from(eodRuns)
    .leftJoin(clearingSubmissions, eq(clearingSubmissions.tradeDate, eodRuns.tradeDate))
    .where(
      and(isNull(clearingSubmissions.tradeDate), before ? lt(eodRuns.tradeDate, before) : undefined),
    )
    .orderBy(asc(eodRuns.tradeDate))
  return rows.map((r) => r.date)
}

const STORED_BEFORE = new Error('the submission was stored by a concurrent request')

/** The symbols' outboxes: fills the books made that Postgres may not have yet. */
export type Outboxes = (symbol: string) => { pendingFills(limit?: number): Promise<OutboxFill[]> }

/**
 * The stored submission of `date`, produced first if needed: refused (409) until the day's
 * trading is over (extended hours included), its end of day ran, every earlier closed day has its
 * own (else this one would take their fills), and no book's outbox holds a fill of the date.
 */
export async function clearingSubmission(
  db: Db,
  books: Outboxes,
  date: IsoDate,
  cycleDays: number,
  now = Date.now(),
) {
  const [stored] = await db
    .select()
    .from(clearingSubmissions)
    .where(eq(clearingSubmissions.tradeDate, date))
  if (stored) return stored
  if (!isTradingDay(date)) {
    throw new AppError(422, 'not_a_trading_day', `${date} is not a trading day`, { date })
  }
  const trading = extendedSessionOf(date)!
  if (now < trading.close.getTime()) {
    const until = trading.close.toISOString()
    const message = `${date} trades until ${until} (extended hours)`
    throw new AppError(409, 'trading_not_over', message, { date, until })
  }
  const [closed] = await db.select().from(eodRuns).where(eq(eodRuns.tradeDate, date))
  if (!closed) {
    const message = `${date} has not been closed (end of day) yet`
    throw new AppError(409, 'day_not_closed', message, { date })
  }
  const [earlier] = await unsubmittedDays(db, date)
  if (earlier) {
    const message = `${earlier} was closed but has no submission yet: it goes first`
    throw new AppError(409, 'earlier_day_not_submitted', message, { date, earlier })
  }
  const { to } = tradeDateWindow(date)
  const listed = await db.select({ symbol: symbols.symbol }).from(symbols)
  const waiting = await Promise.all(listed.map(({ symbol }) => books(symbol).pendingFills(1)))
  if (waiting.some(([f]) => f && f.ts < to.getTime())) {
    const message = `Fills of ${date} are still on their way to Postgres`
    throw new AppError(409, 'fills_pending', message, { date, retry_after: 1 })
  }
  const settleDate = settlementDate(date, cycleDays)
  await db
    .transaction(async (tx) => {
      // the fills no submission took yet, up to the date's end: a fill that came after the
      // previous date's submission (extended hours, a late outbox) is cleared with this one
      const taken = await tx
        .update(fills)
        .set({ clearingDate: date })
        .where(and(isNull(fills.clearingDate), lt(fills.ts, to)))
        .returning({
          userId: fills.userId,
          symbol: fills.symbol,
          side: fills.side,
          qty: fills.qty,
          priceCents: fills.priceCents,
        })
      const obligations = netObligations(taken)
      const file = await submission(date, settleDate, obligations)
      const [stored] = await tx
        .insert(clearingSubmissions)
        .values(file)
        .onConflictDoNothing()
        .returning({ tradeDate: clearingSubmissions.tradeDate })
      if (!stored) throw STORED_BEFORE // a concurrent request made it: undo ours
      // in chunks: a statement takes at most 65,535 parameters
      for (let i = 0; i < obligations.length; i += 1000) {
        const chunk = obligations.slice(i, i + 1000)
        await tx
          .insert(settlementObligations)
          .values(chunk.map((o) => ({ ...o, tradeDate: date, settleDate })))
      }
    })
    .catch((err: unknown) => {
      if (err !== STORED_BEFORE) throw err
    })
  const [row] = await db
    .select()
    .from(clearingSubmissions)
    .where(eq(clearingSubmissions.tradeDate, date))
  return row
}
