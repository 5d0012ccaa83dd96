// Throttling of failed logins and one-time codes, per account and per IP. Both answer 429
// rate_limited with Retry-After.
//
// An attempt is counted BEFORE the password or code is checked, with one conditional UPDATE, and
// given back only when it succeeds. Checking first and counting after would let a burst of
// parallel requests all pass the check before any failure is recorded (a 6-digit code guessed by
// thousands of concurrent requests).
//  - per account (users.failed_logins / locked_until): the LOGIN_LOCK_THRESHOLD-th consecutive
//    attempt locks the account for LOGIN_LOCK_SECONDS up front, and each further one (after the
//    lock ran out, without a success) for twice as long, up to a day. Guessing a 6-digit code (3
//    valid codes per try with ±1 step) then gets about one try a day: ~1e-3 odds in a year.
//  - per IP (auth_throttle): at most AUTH_IP_MAX_FAILURES failed attempts within a fixed window of
//    AUTH_IP_WINDOW_SECONDS (spraying many accounts from one address).
import { eq, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import type { Db } from '../db/client.ts'
import { authThrottle, users } from '../db/schema.ts'
import type { Settings } from '../env.ts'
import { RateLimitedError } from '../errors.ts'

/** the longest account lock */
export const MAX_LOCK_SECONDS = 86_400

/** Seconds the account is locked once its n-th consecutive attempt is taken (0: not locked). */
export function lockSeconds(settings: Settings, attempts: number): number {
  const over = attempts - settings.loginLockThreshold
  if (over < 0) return 0
  return Math.min(settings.loginLockSeconds * 2 ** Math.min(over, 30), MAX_LOCK_SECONDS)
}

/**
 * The caller's address. On Cloudflare, CF-Connecting-IP is set by the edge and cannot be forged
 * by the client; without it (local dev, tests without the header) all callers share one bucket.
 * IPv6 addresses count per /64: one subscriber usually holds a whole /64.
 */
export function clientIp(c: Context): string {
  const ip = c.req.header('cf-connecting-ip')?.trim()
  if (!ip) return 'unknown'
  return ip.includes(':') ? ipv6Prefix64(ip) : ip
}

/** "2001:db8:1:2:3::4" → "2001:db8:1:2::/64"; input that is not IPv6 is returned as is. */
export function ipv6Prefix64(ip: string): string {
  const [head, tail, extra] = ip.toLowerCase().split('::')
  if (extra !== undefined) return ip
  const left = head ? head.split(':') : []
  const right = tail === undefined ? [] : tail ? tail.split(':') : []
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return ip
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

const ipKey = (ip: string) => `ip:${ip}`

/** Takes one attempt for the IP in the current window (a new window starts when it is over). */
export async function takeIpAttempt(db: Db, settings: Settings, ip: string): Promise<void> {
  const secs = settings.ipWindowSeconds
  const expired = sql`${authThrottle.windowStartedAt} <= now() - make_interval(secs => ${secs})`
  const [row] = await db
    .insert(authThrottle)
    .values({ key: ipKey(ip), failures: 1 })
    .onConflictDoUpdate({
      target: authThrottle.key,
      set: {
        failures: sql`CASE WHEN ${expired} THEN 1 ELSE ${authThrottle.failures} + 1 END`,
        windowStartedAt: sql`CASE WHEN ${expired} THEN now() ELSE ${authThrottle.windowStartedAt} END`,
      },
    })
    .returning({
      failures: authThrottle.failures,
      retryAfter: sql<number>`ceil(extract(epoch from (${authThrottle.windowStartedAt} + make_interval(secs => ${secs}) - now())))::int`,
    })
  if (row.failures > settings.ipMaxFailures) {
    throw new RateLimitedError(Math.max(1, row.retryAfter), 'ip')
  }
}

/** A successful attempt gives its slot back: only failures use up an address's window. */
export async function returnIpAttempt(db: Db, ip: string): Promise<void> {
  await db
    .update(authThrottle)
    .set({ failures: sql`greatest(${authThrottle.failures} - 1, 0)` })
    .where(eq(authThrottle.key, ipKey(ip)))
}

/**
 * Takes one attempt for the account, or 429 while it is locked. Returns the number of
 * consecutive attempts without a success, this one included.
 */
export async function takeAccountAttempt(
  db: Db,
  settings: Settings,
  userId: number,
): Promise<number> {
  const thr = settings.loginLockThreshold
  // One statement: the UPDATE takes the attempt unless the account is locked; the outer SELECT
  // (which sees the row as it was before the UPDATE) says for how long it is locked otherwise.
  const result = await db.execute<{ attempts: number | null; retry_after: number | null }>(sql`
    WITH taken AS (
      UPDATE users SET
        failed_logins = failed_logins + 1,
        locked_until = CASE WHEN failed_logins + 1 >= ${thr}
          THEN now() + make_interval(secs => least(
            ${settings.loginLockSeconds}::float8 * power(2, least(failed_logins + 1 - ${thr}, 30)),
            ${MAX_LOCK_SECONDS}))
          ELSE locked_until END
      WHERE id = ${userId} AND (locked_until IS NULL OR locked_until <= now())
      RETURNING failed_logins
    )
    SELECT (SELECT failed_logins FROM taken) AS attempts,
      ceil(extract(epoch from (locked_until - now())))::int AS retry_after
    FROM users WHERE id = ${userId}`)
  const row = result.rows[0]
  if (row?.attempts != null) return Number(row.attempts)
  throw new RateLimitedError(Math.max(1, Number(row?.retry_after ?? 1)), 'account')
}

/** After a success: the count starts over and any lock is lifted. */
export async function clearAccountAttempts(db: Db, userId: number): Promise<void> {
  await db.update(users).set({ failedLogins: 0, lockedUntil: null }).where(eq(users.id, userId))
}

/**
 * Gives back an attempt that guessed nothing (right password, one-time code not sent): the count
 * goes down by one and a lock this attempt set is lifted.
 */
export async function returnAccountAttempt(
  db: Db,
  settings: Settings,
  userId: number,
): Promise<void> {
  await db
    .update(users)
    .set({
      failedLogins: sql`greatest(${users.failedLogins} - 1, 0)`,
      lockedUntil: sql`CASE WHEN ${users.failedLogins} = ${settings.loginLockThreshold}
        THEN NULL ELSE ${users.lockedUntil} END`,
    })
    .where(eq(users.id, userId))
}
