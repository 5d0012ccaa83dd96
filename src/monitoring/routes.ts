// /v1/admin/metrics: every listed symbol's counters and latency histograms, merged on read, as
// Prometheus text (default) or JSON (?format=json). Mounted behind the admin check (src/app.ts).
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../context.ts'
import { recentRuns } from '../accounts/reconciliation.ts'
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
  if (c.req.valid('query').format === 'json') return c.json(metricsSummary(data, differences))
  return c.body(prometheusText(data, differences), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
})
