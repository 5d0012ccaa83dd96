// A user's activity from Postgres: fills, cash movements (the ledger's customer-facing kinds) and
// settled obligations, each source read newest first with the same cut, merged in activities.ts;
// and the monthly statement.
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import type { SQL, SQLWrapper } from 'drizzle-orm'
import type { Db, DbOrTx } from '../db/client.ts'
import { instantKey } from '../db/instant.ts'
import { cashLedger, fills, positions, settlementObligations } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import {
  CASH_ACTIVITY_KINDS,
  cutAt,
  feedPage,
  holdingsAt,
  monthWindow,
  newestFirst,
} from './activities.ts'
import type { Activity, ActivityType, FeedPosition, Statement } from './activities.ts'

/** Which activities: after a cursor (a page) and/or within [from, to) (a statement). */
export interface ActivityRange {
  after?: FeedPosition
  from?: Date
  to?: Date
}

/**
 * The range as a condition on one source: `at` its time column, `key` its own key after the time
 * (a row compared with the cursor's, so it is `(col, …)`-shaped SQL).
 */
function inRange(
  source: ActivityType,
  range: ActivityRange,
  at: SQLWrapper,
  key: (ref: string) => { column: SQL; value: SQL },
): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    range.from && gte(at, range.from),
    range.to && lt(at, range.to),
  ]
  const c = range.after
  if (c) {
    const t = sql`${c.at}::timestamptz`
    const cut = cutAt(source, c)
    if (cut === 'before') conditions.push(sql`${at} < ${t}`)
    else if (cut === 'at_or_before') conditions.push(sql`${at} <= ${t}`)
    else {
      const k = key(c.ref)
      conditions.push(sql`(${at}, ${k.column}) < (${t}, ${k.value})`)
    }
  }
  return and(...conditions)
}

const byId = (column: SQLWrapper) => (ref: string) => ({
  column: sql`${column}`,
  value: sql`${Number(ref)}::bigint`,
})

async function fillActivities(db: DbOrTx, userId: number, range: ActivityRange, limit?: number) {
  const query = db
    .select({
      time: fills.ts,
      at: instantKey(fills.ts),
      fillId: fills.id,
      symbol: fills.symbol,
      seq: fills.seq,
      side: fills.side,
      qty: fills.qty,
      priceCents: fills.priceCents,
      orderId: fills.orderId,
      taker: fills.taker,
    })
    .from(fills)
    .where(and(eq(fills.userId, userId), inRange('fill', range, fills.ts, byId(fills.id))))
    .orderBy(desc(fills.ts), desc(fills.id))
  const rows = await (limit === undefined ? query : query.limit(limit))
  return rows.map((r): Activity => ({ type: 'fill', ...r }))
}

async function cashActivities(db: DbOrTx, userId: number, range: ActivityRange, limit?: number) {
  const query = db
    .select({
      time: cashLedger.createdAt,
      at: instantKey(cashLedger.createdAt),
      ledgerId: cashLedger.id,
      kind: cashLedger.kind,
      amountCents: cashLedger.amountCents,
      symbol: cashLedger.symbol,
      qty: cashLedger.qty,
    })
    .from(cashLedger)
    .where(
      and(
        eq(cashLedger.userId, userId),
        inArray(cashLedger.kind, [...CASH_ACTIVITY_KINDS]),
        inRange('cash', range, cashLedger.createdAt, byId(cashLedger.id)),
      ),
    )
    .orderBy(desc(cashLedger.createdAt), desc(cashLedger.id))
  const rows = await (limit === undefined ? query : query.limit(limit))
  return rows.map(
    (r): Activity => ({ type: 'cash', ...r, kind: r.kind as (typeof CASH_ACTIVITY_KINDS)[number] }),
  )
}

async function settlementActivities(db: DbOrTx, userId: number, range: ActivityRange, limit?: number) {
  const o = settlementObligations
  const symbol = sql`${o.symbol} COLLATE "C"`
  const query = db
    .select({
      time: o.settledAt,
      at: instantKey(o.settledAt),
      tradeDate: o.tradeDate,
      settleDate: o.settleDate,
      symbol: o.symbol,
      qty: o.qty,
      cashCents: o.cashCents,
      proceedsCents: o.proceedsCents,
    })
    .from(o)
    .where(
      and(
        eq(o.userId, userId),
        eq(o.status, 'settled'),
        sql`${o.settledAt} IS NOT NULL`,
        inRange('settlement', range, o.settledAt, (ref) => {
          const [date, sym] = ref.split(':')
          return {
            column: sql`${o.tradeDate}, ${symbol}`,
            value: sql`${date}::date, ${sym} COLLATE "C"`,
          }
        }),
      ),
    )
    .orderBy(desc(o.settledAt), desc(o.tradeDate), sql`${symbol} DESC`)
  const rows = await (limit === undefined ? query : query.limit(limit))
  return rows.map((r): Activity => ({ type: 'settlement', ...r, time: r.time! }))
}

const SOURCES = {
  fill: fillActivities,
  cash: cashActivities,
  settlement: settlementActivities,
} satisfies Record<ActivityType, unknown>

/** A page of the user's activity, newest first, of one type or all. */
export async function activityFeed(
  db: Db,
  userId: number,
  q: { type?: ActivityType; limit: number; cursor?: FeedPosition },
) {
  const types = q.type ? [q.type] : (Object.keys(SOURCES) as ActivityType[])
  const sources = await Promise.all(
    types.map((t) => SOURCES[t](db, userId, { after: q.cursor }, q.limit + 1)),
  )
  return feedPage(sources, q.limit)
}

/**
 * Cash at each instant, as the statement counts it: every ledger entry at its time, except that
 * a trade's cash counts at its fill's execution (the drain books it a moment later), so that the
 * month of a fill is the month of its cash.
 */
async function cashAt(db: DbOrTx, userId: number, instants: Date[]): Promise<number[]> {
  const sums = instants.map(
    (t) => sql`
      (SELECT coalesce(sum(${cashLedger.amountCents}), 0) FROM ${cashLedger}
        WHERE ${cashLedger.userId} = ${userId} AND ${cashLedger.kind} <> 'trade'
          AND ${cashLedger.createdAt} < ${t.toISOString()}::timestamptz)
      + (SELECT coalesce(sum(CASE WHEN ${fills.side} = 'buy' THEN -1 ELSE 1 END
          * ${fills.qty} * ${fills.priceCents}), 0) FROM ${fills}
        WHERE ${fills.userId} = ${userId} AND ${fills.ts} < ${t.toISOString()}::timestamptz)`,
  )
  const result = await db.execute<Record<string, string>>(
    sql`SELECT ${sql.join(
      sums.map((s, i) => sql`${s} AS ${sql.identifier(`c${i}`)}`),
      sql`, `,
    )}`,
  )
  return instants.map((_, i) => Number(result.rows[0][`c${i}`]))
}

/** Shares held at `t`: today's positions with every fill and transfer since undone. */
async function holdingsAtInstant(db: DbOrTx, userId: number, t: Date) {
  const current = await db
    .select({ symbol: positions.symbol, qty: positions.qty })
    .from(positions)
    .where(eq(positions.userId, userId))
  const fillsSince = await db
    .select({
      symbol: fills.symbol,
      qty: sql<number>`CASE WHEN ${fills.side} = 'buy' THEN ${fills.qty} ELSE -${fills.qty} END`.mapWith(Number),
    })
    .from(fills)
    .where(and(eq(fills.userId, userId), gte(fills.ts, t)))
  const transfersSince = await db
    .select({
      symbol: sql<string>`${cashLedger.symbol}`,
      qty: sql<number>`${cashLedger.qty}`.mapWith(Number),
    })
    .from(cashLedger)
    .where(
      and(
        eq(cashLedger.userId, userId),
        eq(cashLedger.kind, 'transfer_in'),
        gte(cashLedger.createdAt, t),
      ),
    )
  return holdingsAt(current, [...fillsSince, ...transfersSince])
}

/** The month's statement (`YYYY-MM`, New York); 422 month_not_started for a month to come. */
export async function monthlyStatement(
  db: Db,
  userId: number,
  month: string,
  now = new Date(),
): Promise<Statement> {
  const { start, end } = monthWindow(month)
  if (start > now) {
    throw new AppError(422, 'month_not_started', `${month} has not started yet`, { month })
  }
  const range = { from: start, to: end }
  // one snapshot: the balances and the rows between them must describe the same ledger
  return db.transaction(
    async (tx) => {
      const [opening, closing] = await cashAt(tx, userId, [start, end])
      const sources = [
        await fillActivities(tx, userId, range),
        await cashActivities(tx, userId, range),
        await settlementActivities(tx, userId, range),
      ]
      return {
        month,
        start,
        asOf: end < now ? end : now,
        openingCashCents: opening,
        closingCashCents: closing,
        activities: newestFirst(sources).reverse(),
        holdings: await holdingsAtInstant(tx, userId, end),
      }
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  )
}
