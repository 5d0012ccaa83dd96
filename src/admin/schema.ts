import { z } from 'zod'
import { symbolCode } from '../accounts/schema.ts'
import { MONEY_PATTERN, parseCents } from '../lib/money.ts'

const price = z
  .string()
  .regex(MONEY_PATTERN, 'a decimal string with at most 2 decimals, e.g. "150.25"')
  .transform(parseCents)
  .refine((c) => c > 0, 'must be greater than 0')

export const symbolStatus = z.enum(['active', 'halted', 'delisted'])

export const createSymbolBody = z.strictObject({
  symbol: symbolCode,
  name: z.string().trim().min(1).max(200),
  tick_size: price.optional(),
  reference_price: price,
  status: symbolStatus.optional(),
  extended_hours: z.boolean().optional(),
})

export const updateSymbolBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    tick_size: price.optional(),
    reference_price: price.optional(),
    status: symbolStatus.optional(),
    extended_hours: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change')

export const updateUserBody = z
  .strictObject({
    tier: z.enum(['retail', 'pro']).optional(),
    role: z.enum(['trader', 'market_maker', 'admin']).optional(),
    /** shares a market maker may be short per symbol */
    short_limit: z.number().int().min(0).max(1_000_000).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'send tier, role and/or short_limit')

export const reconciliationQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
})
