// Query shapes of the compliance endpoints (zod).
import { z } from 'zod'
import { REPORT_FORMATS } from './reports.ts'
import type { ReportFormatName } from './reports.ts'

/** GET /v1/admin/reports/trades: New York trade dates, inclusive; CSV unless asked otherwise */
export const tradeReportQuery = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  format: z
    .enum(Object.keys(REPORT_FORMATS) as [ReportFormatName, ...ReportFormatName[]])
    .default('csv'),
})
