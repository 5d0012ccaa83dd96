// Throttling of failed logins and one-time codes.
//  - per account: users.failed_logins / locked_until (recordFailure in service.ts). The
//    LOGIN_LOCK_THRESHOLD-th consecutive failure locks the account for LOGIN_LOCK_SECONDS and
//    every further one doubles the lock, up to a day: guessing a 6-digit code (3 valid codes per
//    try with ±1 step) then gets about one try a day, ~1e-3 odds a year;
//  - per IP: a fixed window in auth_throttle; AUTH_IP_MAX_FAILURES failures within
//    AUTH_IP_WINDOW_SECONDS refuse further attempts from that address until the window ends
//    (spraying many accounts from one address).
// Both answer 429 rate_limited with Retry-After. Only failures count.
import { and, eq, gt, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import type { Db } from '../db/client.ts'
import { authThrottle } from '../db/schema.ts'
import type { Settings } from '../env.ts'
import { RateLimitedError } from '../errors.ts'

/** The lock after the n-th consecutive failure (n ≥ threshold), in seconds. */
export const MAX_LOCK_SECONDS = 86_400

/**
 * The caller's address. On Cloudflare, CF-Connecting-IP is set by the edge and cannot be forged
 * by the client; without it (local dev, tests without the header) all callers share one bucket.
 */
export function clientIp(c: Context): string {
  return c.req.header('cf-connecting-ip')?.trim() || 'unknown'
}

const ipKey = (ip: string) => `ip:${ip}`

/** Refuses (429) when this IP used up its failures in the current window. */
export async function checkIp(db: Db, settings: Settings, ip: string): Promise<void> {
  const window = sql`now() - make_interval(secs => ${settings.ipWindowSeconds})`
  const [row] = await db
    .select({
      failures: authThrottle.failures,
      retryAfter: sql<number>`ceil(extract(epoch from (${authThrottle.windowStartedAt} + make_interval(secs => ${settings.ipWindowSeconds}) - now())))::int`,
    })
    .from(authThrottle)
    .where(and(eq(authThrottle.key, ipKey(ip)), gt(authThrottle.windowStartedAt, window)))
  if (row && row.failures >= settings.ipMaxFailures) {
    throw new RateLimitedError(Math.max(1, row.retryAfter), 'ip')
  }
}

/** Counts one failure for the IP (a new window starts when the last one is over). */
export async function recordIpFailure(db: Db, settings: Settings, ip: string): Promise<void> {
  const expired = sql`${authThrottle.windowStartedAt} <= now() - make_interval(secs => ${settings.ipWindowSeconds})`
  await db
    .insert(authThrottle)
    .values({ key: ipKey(ip), failures: 1 })
    .onConflictDoUpdate({
      target: authThrottle.key,
      set: {
        failures: sql`CASE WHEN ${expired} THEN 1 ELSE ${authThrottle.failures} + 1 END`,
        windowStartedAt: sql`CASE WHEN ${expired} THEN now() ELSE ${authThrottle.windowStartedAt} END`,
      },
    })
}
