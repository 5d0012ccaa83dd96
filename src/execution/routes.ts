// /v1/admin/feeds and /v1/admin/venues: the venues' market-data feeds (src/do/market-feed.ts) and
// FIX sessions (src/do/venue-session.ts). Mounted behind the admin check (src/app.ts).
import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { followFeeds, openVenues, venueStatuses } from './feeds.ts'

export const executionRoutes = new Hono<AppEnv>()

/** Follows every configured feed now (the Cron Trigger does each minute): their statuses. */
executionRoutes.post('/feeds', async (c) => c.json({ feeds: await followFeeds(c.env) }))

/** Opens every configured venue's FIX session now (the Cron Trigger does each minute). */
executionRoutes.post('/venues', async (c) => c.json({ venues: await openVenues(c.env) }))

/** The venues' FIX sessions as they are, without opening any. */
executionRoutes.get('/venues', async (c) => c.json({ venues: await venueStatuses(c.env) }))
