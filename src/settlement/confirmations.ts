// The clearinghouse's confirmations of a trade date, reconciled against our obligations in one
// transaction: what matches settles (its sale proceeds become withdrawable), the rest waits in
// the review queue for an admin, whose resolution is recorded with who and when.
import { and, asc, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { appendAudit } from '../audit/chain.ts'
import { sha256Hex } from '../auth/tokens.ts'
import type { Db, Tx } from '../db/client.ts'
import {
  clearingSubmissions,
  settlementConfirmations,
  settlementDiscrepancies,
  settlementObligations,
} from '../db/schema.ts'
import { AppError, ConflictError, NotFoundError } from '../errors.ts'
import type { IsoDate } from './calendar.ts'
import { ClearingFileError, isFlat, parseClearingFile } from './clearing.ts'
import { matchConfirmations } from './reconcile.ts'

export type DiscrepancyRow = typeof settlementDiscrepancies.$inferSelect

export interface ConfirmationResult {
  tradeDate: IsoDate
  settleDate: IsoDate
  checksum: string
  receivedAt: Date
  settled: number
  discrepancies: DiscrepancyRow[]
  /** the same file was received before: nothing changed this time */
  replayed: boolean
}

/**
 * Reconciles the confirmation file of `date`. Refused whole when unreadable (422) or before our
 * submission exists (409). A second copy of the same file changes nothing; a different file for
 * a date already reconciled is a 409 (corrections go through the review queue).
 */
export async function receiveConfirmations(
  db: Db,
  date: IsoDate,
  csv: string,
  adminId: number,
): Promise<ConfirmationResult> {
  const lines = await parseClearingFile(csv).catch((err: unknown) => {
    if (!(err instanceof ClearingFileError)) throw err
    throw new AppError(422, 'invalid_clearing_file', err.message, { line: err.line ?? null })
  })
  const stray = lines.find((l) => l.tradeDate !== date)
  if (stray) {
    const message = `The file confirms trade date ${stray.tradeDate}, not ${date}`
    throw new AppError(422, 'trade_date_mismatch', message, { date, file_date: stray.tradeDate })
  }
  const checksum = await sha256Hex(csv)
  return db.transaction(async (tx) => {
    const [submission] = await tx
      .select({ settleDate: clearingSubmissions.settleDate })
      .from(clearingSubmissions)
      .where(eq(clearingSubmissions.tradeDate, date))
    if (!submission) {
      const message = `No clearing submission for ${date}: it is made after the end of day`
      throw new ConflictError('no_submission', message, { date })
    }
    const [received] = await tx
      .insert(settlementConfirmations)
      .values({ tradeDate: date, checksum, csv, settled: 0, discrepancies: 0, receivedBy: adminId })
      .onConflictDoNothing()
      .returning()
    if (!received) return receivedBefore(tx, date, checksum, submission.settleDate)

    const obligations = await tx
      .select()
      .from(settlementObligations)
      .where(eq(settlementObligations.tradeDate, date))
    const submitted = obligations.filter((o) => !isFlat(o))
    const { matched, discrepancies } = matchConfirmations(submitted, submission.settleDate, lines)
    const disputed = discrepancies.filter((d) => d.kind !== 'extra')
    await tx
      .update(settlementObligations)
      .set(
        disputed.length === 0
          ? { status: 'settled', settledAt: sql`now()` }
          : {
              status: sql`CASE WHEN ${isOneOf(disputed)} THEN 'disputed'::obligation_status ELSE 'settled'::obligation_status END`,
              settledAt: sql`CASE WHEN ${isOneOf(disputed)} THEN NULL ELSE now() END`,
            },
      )
      .where(eq(settlementObligations.tradeDate, date))
    const queued = discrepancies.length
      ? await tx
          .insert(settlementDiscrepancies)
          .values(discrepancies.map((d) => ({ ...d, tradeDate: date })))
          .returning()
      : []
    const settled = obligations.length - disputed.length
    await tx
      .update(settlementConfirmations)
      .set({ settled, discrepancies: queued.length })
      .where(eq(settlementConfirmations.tradeDate, date))
    await appendAudit(tx, adminId, 'settlement.confirmations_received', {
      trade_date: date,
      checksum,
      lines: lines.length,
      matched: matched.length,
      settled,
      discrepancies: queued.length,
    })
    if (queued.length) {
      console.error(
        JSON.stringify({ level: 'error', alert: 'settlement_discrepancies', trade_date: date, count: queued.length }),
      )
    }
    return {
      tradeDate: date,
      settleDate: submission.settleDate,
      checksum,
      receivedAt: received.createdAt,
      settled,
      discrepancies: queued,
      replayed: false,
    }
  })
}

/** The obligation is one of these lines (by account and symbol). */
const isOneOf = (lines: { account: string; symbol: string }[]): SQL => {
  const keys = lines.map((l) => sql`${`${l.account},${l.symbol}`}`)
  return sql`${settlementObligations.userId}::text || ',' || ${settlementObligations.symbol} IN (${sql.join(keys, sql`, `)})`
}

async function receivedBefore(
  tx: Tx,
  date: IsoDate,
  checksum: string,
  settleDate: IsoDate,
): Promise<ConfirmationResult> {
  const [prior] = await tx
    .select()
    .from(settlementConfirmations)
    .where(eq(settlementConfirmations.tradeDate, date))
  if (prior.checksum !== checksum) {
    const message = `${date}'s confirmations were already received (a different file); resolve differences in the review queue`
    throw new ConflictError('confirmations_already_received', message, {
      date,
      checksum: prior.checksum,
    })
  }
  const discrepancies = await tx
    .select()
    .from(settlementDiscrepancies)
    .where(eq(settlementDiscrepancies.tradeDate, date))
    .orderBy(asc(settlementDiscrepancies.id))
  return {
    tradeDate: date,
    settleDate,
    checksum,
    receivedAt: prior.createdAt,
    settled: prior.settled,
    discrepancies,
    replayed: true,
  }
}

export interface DiscrepancyQuery {
  status: 'open' | 'resolved' | 'all'
  date?: IsoDate
  limit: number
  /** the last id of the previous page */
  after?: number
}

/** The review queue, oldest first. */
export function listDiscrepancies(db: Db, q: DiscrepancyQuery) {
  const d = settlementDiscrepancies
  const status = { open: isNull(d.resolution), resolved: isNotNull(d.resolution), all: undefined }
  return db
    .select()
    .from(d)
    .where(
      and(
        status[q.status],
        q.date ? eq(d.tradeDate, q.date) : undefined,
        q.after ? gt(d.id, q.after) : undefined,
      ),
    )
    .orderBy(asc(d.id))
    .limit(q.limit)
}

export interface Resolution {
  /**
   * settle: it settled as we submitted it (their side was corrected); close: handled outside
   * (e.g. a ledger adjustment), the obligation is closed and its proceeds no longer held
   */
  action: 'settle' | 'close'
  note: string
}

/** An admin's resolution of one discrepancy: recorded once, with who and when. */
export async function resolveDiscrepancy(
  db: Db,
  id: number,
  resolution: Resolution,
  adminId: number,
): Promise<DiscrepancyRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(settlementDiscrepancies)
      .where(eq(settlementDiscrepancies.id, id))
      .for('update')
    if (!row) throw new NotFoundError(`No discrepancy ${id}`)
    if (row.resolution) {
      throw new ConflictError('already_resolved', `Discrepancy ${id} was resolved already`, {
        resolution: row.resolution,
        resolved_by: row.resolvedBy,
      })
    }
    if (resolution.action === 'settle' && row.kind === 'extra') {
      const message = 'An extra line has no obligation of ours to settle: close it'
      throw new AppError(422, 'nothing_to_settle', message)
    }
    // an extra line has no obligation; any other leaves its obligation final either way
    await tx
      .update(settlementObligations)
      .set(
        resolution.action === 'settle'
          ? { status: 'settled', settledAt: sql`now()` }
          : { status: 'closed' },
      )
      .where(
        and(
          eq(settlementObligations.tradeDate, row.tradeDate),
          sql`${settlementObligations.userId}::text = ${row.account}`,
          eq(settlementObligations.symbol, row.symbol),
          eq(settlementObligations.status, 'disputed'),
        ),
      )
    const [resolved] = await tx
      .update(settlementDiscrepancies)
      .set({
        resolution: resolution.action === 'settle' ? 'settled' : 'closed',
        note: resolution.note,
        resolvedBy: adminId,
        resolvedAt: sql`now()`,
      })
      .where(eq(settlementDiscrepancies.id, id))
      .returning()
    await appendAudit(tx, adminId, 'settlement.discrepancy_resolved', {
      id,
      trade_date: row.tradeDate,
      account: row.account,
      symbol: row.symbol,
      kind: row.kind,
      action: resolution.action,
      note: resolution.note,
    })
    return resolved
  })
}

/** Where a trade date stands: submitted, confirmed, its obligations by status, open reviews. */
export async function settlementDay(db: Db, date: IsoDate) {
  const [[submission], [confirmation], byStatus, [open]] = await Promise.all([
    db.select().from(clearingSubmissions).where(eq(clearingSubmissions.tradeDate, date)),
    db.select().from(settlementConfirmations).where(eq(settlementConfirmations.tradeDate, date)),
    db
      .select({ status: settlementObligations.status, n: sql<number>`count(*)::int` })
      .from(settlementObligations)
      .where(eq(settlementObligations.tradeDate, date))
      .groupBy(settlementObligations.status),
    db
      .select({ n: sql<number>`count(*)::int` })
      .from(settlementDiscrepancies)
      .where(
        and(eq(settlementDiscrepancies.tradeDate, date), isNull(settlementDiscrepancies.resolution)),
      ),
  ])
  return { submission, confirmation, byStatus, openDiscrepancies: open.n }
}
