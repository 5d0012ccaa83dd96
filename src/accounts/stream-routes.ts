// GET /v1/stream: the user's private stream of order updates and account changes (WebSocket
// upgrade), authenticated here and served by the user's AccountStream object
// (src/do/account-stream.ts); since=<seq> resumes it. Messages: README, "The account stream".
import { Hono } from 'hono'
import { authenticateUpgrade, forwardedUpgrade } from '../auth/upgrade.ts'
import type { AppEnv } from '../context.ts'

export const streamRoutes = new Hono<AppEnv>()

streamRoutes.get('/stream', async (c) => {
  const upgrade = await authenticateUpgrade(c)
  const stream = c.env.ACCOUNT_STREAM.get(c.env.ACCOUNT_STREAM.idFromName(String(upgrade.userId)))
  return stream.fetch(forwardedUpgrade(c.req.url, upgrade))
})
