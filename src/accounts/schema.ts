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

/** POST /v1/account/deposits and /withdrawals */
export const transferBody = z.strictObject({ amount })

/** the most shares one transfer may bring in */
export const MAX_TRANSFER_QTY = 1_000_000_000

export const symbolCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9.]{0,9}$/, 'an upper-case ticker, e.g. AAPL')

/** POST /v1/account/transfers: shares coming in with their total cost basis */
export const shareTransferBody = z.strictObject({
  symbol: symbolCode,
  qty: z.number().int('an integer number of shares').positive().max(MAX_TRANSFER_QTY),
  cost_basis: z
    .string()
    .regex(MONEY_PATTERN, 'a decimal string with at most 2 decimals, e.g. "1502.50"')
    .transform(parseCents),
})

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

export const symbolParam = z.object({ symbol: symbolCode })
export const idParam = z.object({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
})

export const profileBody = z.strictObject({ display_name: z.string().trim().min(1).max(100) })
