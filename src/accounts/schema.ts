import { z } from 'zod'
import { MONEY_PATTERN, parseCents } from '../lib/money.ts'

/** the most one deposit or withdrawal may move: 1,000,000.00 */
export const MAX_TRANSFER_CENTS = 100_000_000

export const amount = z
  .string()
  .regex(MONEY_PATTERN, 'a decimal string with at most 2 decimals, e.g. "100.50"')
  .transform(parseCents)
  .refine((c) => c > 0, 'must be greater than 0')
  .refine((c) => c <= MAX_TRANSFER_CENTS, 'at most 1000000.00 per transfer')

export const transferBody = z.object({ amount })

export const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII')
  .optional()

export const idempotencyHeader = z.object({ 'idempotency-key': idempotencyKey })

export const ledgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().positive().optional(),
})

export const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
  /** re-hash the whole chain (O(length)): ?verify=true */
  verify: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
})

export const symbolParam = z.object({ symbol: z.string().regex(/^[A-Z][A-Z0-9.]{0,9}$/) })

export const profileBody = z.object({ display_name: z.string().trim().min(1).max(100) })
