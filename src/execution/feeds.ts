// Which venues' market-data feeds to follow (VENUE_FEEDS), and following them: each through its
// MarketFeed object, which the Cron Trigger and POST /v1/admin/feeds make sure of.
import type { Env } from '../env.ts'
import type { FeedStatus } from '../do/market-feed.ts'

export interface VenueFeed {
  venue: string
  /** host:port */
  address: string
}

/** "NSIM=127.0.0.1:9879,ARCA=feed.example:9000" → the feeds; throws on anything else. */
export function venueFeeds(config: string | undefined): VenueFeed[] {
  if (!config?.trim()) return []
  return config.split(',').map((entry) => {
    const m = /^\s*([A-Z][A-Z0-9._-]{0,15})=([A-Za-z0-9.-]+:\d{1,5})\s*$/.exec(entry)
    if (!m) throw new Error(`VENUE_FEEDS: "${entry}" is not VENUE=host:port`)
    return { venue: m[1], address: m[2] }
  })
}

/** Makes every configured feed's object follow its feed; their statuses. */
export function followFeeds(env: Env): Promise<FeedStatus[]> {
  return Promise.all(
    venueFeeds(env.VENUE_FEEDS).map(({ venue, address }) =>
      env.MARKET_FEED.get(env.MARKET_FEED.idFromName(venue)).follow(address),
    ),
  )
}
