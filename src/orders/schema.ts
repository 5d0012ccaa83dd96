// Request shapes of the order endpoints (zod). Bodies are strict: an unknown field (`status`,
// `filled_qty`, `user_id`, …) is a 400 naming it, never applied.
import { z } from 'zod'
import { symbolCode } from '../accounts/schema.ts'
import { orderStatus } from '../db/schema.ts'
import { MONEY_PATTERN } from '../lib/money.ts'

const price = z
  .string()
  .regex(MONEY_PATTERN, 'a decimal string with at most 2 decimals, e.g. "150.25"')
  .refine((s) => Number(s) > 0, 'must be greater than 0')

export const orderBody = z
  .strictObject({
    symbol: symbolCode,
    side: z.enum(['buy', 'sell']),
    type: z.enum(['limit', 'market', 'stop', 'stop_limit']),
    qty: z.number().int('an integer number of shares').positive(),
    price: price.optional(),
    stop_price: price.optional(),
    time_in_force: z.enum(['day', 'gtc', 'ioc', 'fok']),
    post_only: z.boolean().optional(),
    client_order_id: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII')
      .optional(),
  })
  .superRefine((b, ctx) => {
    const needsPrice = b.type === 'limit' || b.type === 'stop_limit'
    const needsStop = b.type === 'stop' || b.type === 'stop_limit'
    if (needsPrice && b.price === undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: `required for ${b.type} orders` })
    }
    if (!needsPrice && b.price !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: `not allowed for ${b.type} orders` })
    }
    if (needsStop && b.stop_price === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['stop_price'],
        message: `required for ${b.type} orders`,
      })
    }
    if (!needsStop && b.stop_price !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['stop_price'],
        message: `not allowed for ${b.type} orders`,
      })
    }
    if (
      b.post_only &&
      (b.type !== 'limit' || (b.time_in_force !== 'gtc' && b.time_in_force !== 'day'))
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['post_only'],
        message: 'only for limit orders with time_in_force gtc or day',
      })
    }
  })

export type OrderBody = z.infer<typeof orderBody>

export const MAX_BATCH = 50

/** The batch's envelope; each order is checked against orderBody on its own (its own result). */
export const batchBody = z.strictObject({
  orders: z.array(z.unknown()).min(1).max(MAX_BATCH, `at most ${MAX_BATCH} orders per batch`),
})

export const amendBody = z.strictObject({
  /** the new open (unfilled) quantity: smaller than the order's open quantity */
  qty: z.number().int('an integer number of shares').positive(),
})

export const orderIdParam = z.object({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
})


export const listQuery = z.object({
  status: z.enum(orderStatus.enumValues).optional(),
  symbol: symbolCode.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** the last id of the previous page (orders come newest first) */
  cursor: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
})

export const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII')
    .optional(),
})
