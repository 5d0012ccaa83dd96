// /v1/account/activities and /v1/account/statements/:month: a user's own fills, cash movements
// and settlements, paged or as a month's CSV. Mounted before the account routes, whose
// '/account/*' middleware would otherwise run a second time for these paths (each route here
// names its own, the reads rate limit included).
import { Hono } from 'hono'
import { requireAuth } from '../auth/middleware.ts'
import { rateLimit } from '../auth/rate-limit.ts'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import { validate } from '../lib/validate.ts'
import { activitiesQuery, monthParam } from './activity-schema.ts'
import { activityFeed, monthlyStatement } from './activity-service.ts'
import { activityView, statementCsv } from './activities.ts'

export const activityRoutes = new Hono<AppEnv>()

activityRoutes.get(
  '/account/activities',
  withDb,
  requireAuth,
  rateLimit('reads'),
  validate('query', activitiesQuery),
  async (c) => {
    const page = await activityFeed(c.var.db, c.var.auth.userId, c.req.valid('query'))
    return c.json({ activities: page.activities.map(activityView), next_cursor: page.next_cursor })
  },
)

activityRoutes.get(
  '/account/statements/:month',
  withDb,
  requireAuth,
  rateLimit('reads'),
  validate('param', monthParam),
  async (c) => {
    const { month } = c.req.valid('param')
    const statement = await monthlyStatement(c.var.db, c.var.auth.userId, month)
    return c.body(statementCsv(statement), 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="statement_${month}.csv"`,
    })
  },
)
