// /v1/admin/eod and /v1/admin/settlement/*: the end of day, the clearing submission, the
// clearinghouse's confirmations and the review queue of their discrepancies. Mounted behind the
// admin check (src/app.ts).
import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { AppError } from '../errors.ts'
import { formatCents } from '../lib/money.ts'
import { validate } from '../lib/validate.ts'
import { nyDate } from './calendar.ts'
import {
  listDiscrepancies,
  receiveConfirmations,
  resolveDiscrepancy,
  settlementDay,
} from './confirmations.ts'
import type { ConfirmationResult, DiscrepancyRow } from './confirmations.ts'
import { runEndOfDay, symbolBooks } from './eod.ts'
import {
  dateParam,
  discrepancyParam,
  discrepancyQuery,
  eodBody,
  resolutionBody,
} from './schema.ts'
import { clearingSubmission } from './service.ts'

export const settlementRoutes = new Hono<AppEnv>()

export const discrepancyView = (d: DiscrepancyRow) => ({
  id: d.id,
  trade_date: d.tradeDate,
  account: d.account,
  symbol: d.symbol,
  kind: d.kind,
  expected: d.expected,
  confirmed: d.confirmed,
  status: d.resolution ? 'resolved' : 'open',
  resolution: d.resolution,
  note: d.note,
  resolved_by: d.resolvedBy,
  resolved_at: d.resolvedAt?.toISOString() ?? null,
  created_at: d.createdAt.toISOString(),
})

const confirmationView = (r: ConfirmationResult) => ({
  trade_date: r.tradeDate,
  settle_date: r.settleDate,
  checksum: r.checksum,
  received_at: r.receivedAt.toISOString(),
  settled: r.settled,
  discrepancies: r.discrepancies.map(discrepancyView),
})

/**
 * Closes a trading day (src/settlement/eod.ts): every book expires its DAY orders. What the Cron
 * Trigger does once the close has passed; `npm run eod` calls it. Idempotent per date.
 */
settlementRoutes.post('/eod', validate('json', eodBody), async (c) => {
  const date = c.req.valid('json').date ?? nyDate(Date.now())
  return c.json(await runEndOfDay(c.var.db, symbolBooks(c.env.SYMBOL_BOOK), date))
})

/**
 * The trade date's clearing submission (CSV: one line per net obligation, a trailer with the
 * control totals and a SHA-256 of the lines above), produced on first request once the day is
 * closed and its fills are in Postgres, then served unchanged (src/settlement/service.ts).
 */
settlementRoutes.get('/settlement/:date/submission', validate('param', dateParam), async (c) => {
  const date = c.req.valid('param').date
  const cycle = c.get('settings').settlementCycleDays
  const file = await clearingSubmission(c.var.db, symbolBooks(c.env.SYMBOL_BOOK), date, cycle)
  return c.body(file.csv, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="clearing-${date}.csv"`,
    'x-settle-date': file.settleDate,
    'x-checksum-sha256': file.checksum,
  })
})

/**
 * The clearinghouse's confirmation file (text/csv, the submission's layout): matched line by
 * line; what agrees settles, the rest goes to the review queue. 201 the first time, 200 with
 * Idempotent-Replayed for the same file again.
 */
settlementRoutes.post('/settlement/:date/confirmations', validate('param', dateParam), async (c) => {
  const type = c.req.header('content-type') ?? ''
  if (!/^text\/csv\b/i.test(type)) {
    throw new AppError(415, 'unsupported_media_type', 'Send the confirmation file as text/csv')
  }
  const date = c.req.valid('param').date
  const result = await receiveConfirmations(c.var.db, date, await c.req.text(), c.var.auth.userId)
  if (result.replayed) c.header('Idempotent-Replayed', 'true')
  return c.json(confirmationView(result), result.replayed ? 200 : 201)
})

/** The review queue, oldest first (before /settlement/:date, which would take the path). */
settlementRoutes.get('/settlement/discrepancies', validate('query', discrepancyQuery), async (c) => {
  const q = c.req.valid('query')
  const rows = await listDiscrepancies(c.var.db, { ...q, after: q.cursor })
  return c.json({
    discrepancies: rows.map(discrepancyView),
    next_cursor: rows.length === q.limit ? rows[rows.length - 1].id : null,
  })
})

/** Where a trade date stands: its submission, confirmations, obligations by status. */
settlementRoutes.get('/settlement/:date', validate('param', dateParam), async (c) => {
  const date = c.req.valid('param').date
  const day = await settlementDay(c.var.db, date)
  const s = day.submission
  return c.json({
    trade_date: date,
    submission: s
      ? {
          settle_date: s.settleDate,
          rows: s.rows,
          control_qty: s.controlQty,
          control_amount: formatCents(s.controlCents),
          checksum: s.checksum,
          created_at: s.createdAt.toISOString(),
        }
      : null,
    confirmations: day.confirmation
      ? {
          checksum: day.confirmation.checksum,
          received_at: day.confirmation.createdAt.toISOString(),
          received_by: day.confirmation.receivedBy,
          settled: day.confirmation.settled,
          discrepancies: day.confirmation.discrepancies,
        }
      : null,
    obligations: Object.fromEntries(day.byStatus.map((r) => [r.status, r.n])),
    open_discrepancies: day.openDiscrepancies,
  })
})

/** An admin's resolution, once: settle (as we submitted it) or close (handled outside). */
settlementRoutes.post(
  '/settlement/discrepancies/:id/resolution',
  validate('param', discrepancyParam),
  validate('json', resolutionBody),
  async (c) => {
    const id = c.req.valid('param').id
    const row = await resolveDiscrepancy(c.var.db, id, c.req.valid('json'), c.var.auth.userId)
    return c.json(discrepancyView(row))
  },
)
