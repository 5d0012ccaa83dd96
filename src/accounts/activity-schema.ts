// Query and path shapes of the activity feed and the monthly statement (zod).
import { z } from 'zod'
import { ACTIVITY_TYPES, decodeCursor } from './activities.ts'

/** GET /v1/account/activities */
export const activitiesQuery = z.object({
  type: z.enum(ACTIVITY_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** the previous page's next_cursor (opaque) */
  cursor: z
    .string()
    .transform((text, ctx) => {
      const position = decodeCursor(text)
      if (!position) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor this feed gave out' })
        return z.NEVER
      }
      return position
    })
    .optional(),
})

/** GET /v1/account/statements/:month, New York months */
export const monthParam = z.strictObject({
  // from 1970: earlier months cannot hold an account's activity (and 0000-01 is no instant)
  month: z.string().regex(/^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM, from 1970'),
})
