// /v1/admin/feeds: the venues' market-data feeds (src/do/market-feed.ts). Mounted behind the
// admin check (src/app.ts).
import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { followFeeds } from './feeds.ts'

export const executionRoutes = new Hono<AppEnv>()

/** Follows every configured feed now (the Cron Trigger does each minute): their statuses. */
executionRoutes.post('/feeds', async (c) => c.json({ feeds: await followFeeds(c.env) }))
