// Which venues to reach: their market-data feeds (VENUE_FEEDS) and FIX sessions (VENUES), each
// through its Durable Object (MarketFeed, VenueSession), which the Cron Trigger and the admin
// routes make sure of.
import type { Env } from '../env.ts'
import type { FeedStatus } from '../do/market-feed.ts'
import type { VenueSessionStatus } from '../do/venue-session.ts'

export interface VenueAddress {
  venue: string
  /** host:port */
  address: string
}

/** "NSIM=127.0.0.1:9879,ARCA=feed.example:9000" → the addresses; throws on anything else. */
export function venueAddresses(name: string, config: string | undefined): VenueAddress[] {
  if (!config?.trim()) return []
  return config.split(',').map((entry) => {
    const m = /^\s*([A-Z][A-Z0-9._-]{0,15})=([A-Za-z0-9.-]+:\d{1,5})\s*$/.exec(entry)
    if (!m) throw new Error(`${name}: "${entry}" is not VENUE=host:port`)
    return { venue: m[1], address: m[2] }
  })
}

/** Makes every configured feed's object follow its feed; their statuses. */
export function followFeeds(env: Env): Promise<FeedStatus[]> {
  return Promise.all(
    venueAddresses('VENUE_FEEDS', env.VENUE_FEEDS).map(({ venue, address }) =>
      env.MARKET_FEED.get(env.MARKET_FEED.idFromName(venue)).follow(address),
    ),
  )
}

/** Makes every configured venue's session object keep its FIX session; their statuses. */
export function openVenues(env: Env): Promise<VenueSessionStatus[]> {
  return Promise.all(
    venueAddresses('VENUES', env.VENUES).map(({ venue, address }) =>
      env.VENUE_SESSION.get(env.VENUE_SESSION.idFromName(venue)).open(address),
    ),
  )
}

export function venueStatuses(env: Env): Promise<VenueSessionStatus[]> {
  return Promise.all(
    venueAddresses('VENUES', env.VENUES).map(({ venue }) =>
      env.VENUE_SESSION.get(env.VENUE_SESSION.idFromName(venue)).status(),
    ),
  )
}
