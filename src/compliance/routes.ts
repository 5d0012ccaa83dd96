// /v1/admin/reports/*: what regulators get. Mounted behind the admin check (src/app.ts).
import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { openDb } from '../db/client.ts'
import { validate } from '../lib/validate.ts'
import { REPORT_FORMATS, reportFilename, reportWindow } from './reports.ts'
import { tradeReportQuery } from './schema.ts'
import { tradeReport } from './service.ts'

export const complianceRoutes = new Hono<AppEnv>()

complianceRoutes.get(
  '/reports/trades',
  validate('query', tradeReportQuery),
  async (c) => {
    const q = c.req.valid('query')
    const window = reportWindow(q.from, q.to)
    const format = REPORT_FORMATS[q.format]
    // the body is read after this handler returns, when withDb has ended the request's pool:
    // the stream keeps one of its own until it ends
    const own = openDb(c.env)
    const body = await tradeReport(own.db, window, format, own.end)
    return c.body(body, 200, {
      'Content-Type': format.contentType,
      'Content-Disposition': `attachment; filename="${reportFilename(q.from, q.to, q.format)}"`,
    })
  },
)
