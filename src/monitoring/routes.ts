// /v1/admin/metrics: every listed symbol's counters and latency histograms, merged on read, as
// Prometheus text (default) or JSON (?format=json). Mounted behind the admin check (src/app.ts).
import { sql } from 'drizzle-orm'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../context.ts'
import { recentRuns } from '../accounts/reconciliation.ts'
import type { Db } from '../db/client.ts'
import { symbols } from '../db/schema.ts'
import { validate } from '../lib/validate.ts'
import { metricsSummary, prometheusText } from './prometheus.ts'

export const monitoringRoutes = new Hono<AppEnv>()

const metricsQuery = z.strictObject({ format: z.enum(['prometheus', 'json']).default('prometheus') })

monitoringRoutes.get('/metrics', validate('query', metricsQuery), async (c) => {
  const [listed, [latest]] = await Promise.all([
    c.var.db.select({ symbol: symbols.symbol }).from(symbols),
    recentRuns(c.var.db, 1),
  ])
  const data = await Promise.all(
    listed.map(({ symbol }) => c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol)).metricsData()),
  )
  const differences = latest?.differences
  const deadlocks = await postgresDeadlocks(c.var.db)
  if (c.req.valid('query').format === 'json') {
    return c.json({ ...metricsSummary(data, differences), postgres_deadlocks: deadlocks })
  }
  const text = prometheusText(data, differences) + [
    '# HELP bourse_postgres_deadlocks_total Deadlocks Postgres broke in this database (40P01); each aborted transaction is run again.',
    '# TYPE bourse_postgres_deadlocks_total counter',
    `bourse_postgres_deadlocks_total ${deadlocks}`,
  ].join('\n') + '\n'
  return c.body(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
})

/**
 * The retries of 40P01/40001 (withRetries, src/orders/fills.ts), counted where they all happen:
 * Postgres counts every deadlock it breaks, whichever Worker or object ran the transaction.
 * Serialization failures (40001) cannot occur: every write runs at READ COMMITTED, and the
 * REPEATABLE READ transactions (reconciliation, activities) only read.
 */
async function postgresDeadlocks(db: Db): Promise<number> {
  const { rows } = await db.execute<{ deadlocks: string | null }>(
    sql`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`,
  )
  return Number(rows[0]?.deadlocks ?? 0)
}
