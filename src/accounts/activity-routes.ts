// /v1/account/activities and /v1/account/statements/:month: a user's own fills, cash movements
// and settlements, paged or as a month's CSV. Mounted by the account routes, behind their
// '/account/*' middleware (database, token, reads rate limit).
import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { validate } from '../lib/validate.ts'
import { activitiesQuery, monthParam } from './activity-schema.ts'
import { activityFeed, monthlyStatement } from './activity-service.ts'
import { activityView, statementCsv } from './activities.ts'

export const activityRoutes = new Hono<AppEnv>()

activityRoutes.get(
  '/account/activities',
  validate('query', activitiesQuery),
  async (c) => {
    const page = await activityFeed(c.var.db, c.var.auth.userId, c.req.valid('query'))
    return c.json({ activities: page.activities.map(activityView), next_cursor: page.next_cursor })
  },
)

activityRoutes.get(
  '/account/statements/:month',
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
