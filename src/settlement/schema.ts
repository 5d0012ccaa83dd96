import { z } from 'zod'

/** POST /v1/admin/eod: the trading date to close (New York); default today. */
export const eodBody = z.strictObject({
  date: z.iso.date().optional(),
})

export const dateParam = z.strictObject({ date: z.iso.date() })

export const discrepancyParam = z.strictObject({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
})

export const discrepancyQuery = z.strictObject({
  status: z.enum(['open', 'resolved', 'all']).default('open'),
  date: z.iso.date().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
})

export const resolutionBody = z.strictObject({
  action: z.enum(['settle', 'close']),
  /** why: what was checked, with whom, what was done outside */
  note: z.string().trim().min(1).max(2000),
})
