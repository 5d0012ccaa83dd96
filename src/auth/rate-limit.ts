// Request rate limits per user and tier, in two buckets: order entry (POST/PATCH/DELETE
// /v1/orders*) and reads (GET of the authenticated /v1 routes; the public book per address).
// Sliding window (@upstash/ratelimit), counted in Redis when it is configured, so that every
// isolate sees one count; without Redis, or while it fails, in this isolate's memory with the
// same limits: the API stays protected, and Redis being down is never an error.
// Every response of a limited route carries RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset
// (seconds) and RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers-06); a refusal is 429
// rate_limited with Retry-After, through app.onError like every error.
//
// The tier (not in the access token) comes from accounts/tier.ts: kept a minute per isolate, so a
// user's requests cost no database round trip for it (one a minute at most), at the price of a
// tier change taking up to a minute.
import { Ratelimit } from '@upstash/ratelimit'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { userTier } from '../accounts/tier.ts'
import type { AppEnv } from '../context.ts'
import { redisFrom } from '../db/redis.ts'
import type { RateLimitSettings } from '../env.ts'
import { RateLimitedError } from '../errors.ts'
import { SlidingWindow } from '../lib/sliding-window.ts'
import type { Decision } from '../lib/sliding-window.ts'
import { clientIp } from './throttle.ts'
import type { AccessClaims } from './tokens.ts'

export type Bucket = 'orders' | 'reads'

/** how long a Redis answer may take before the request is counted in memory instead */
const REDIS_TIMEOUT_MS = 1_000
/** after Redis failed, this isolate counts in memory this long before it asks Redis again */
const REDIS_PAUSE_MS = 10_000

const inMemory = new SlidingWindow()
/** @upstash/ratelimit's cache of identifiers over their limit, refused without asking Redis */
const blocked = new Map<string, number>()
/** Redis URL → when it last failed */
const failedAt = new Map<string, number>()

/** After requireAuth where there is one: per user, else per address (at the retail limit). */
export const rateLimit = (bucket: Bucket) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const settings = c.var.settings.rateLimit
    const auth = c.get('auth') as AccessClaims | undefined
    const tier = auth ? await userTier(c, auth.userId) : 'retail'
    const who = auth ? `user:${auth.userId}` : `ip:${clientIp(c)}`
    const limit = settings[bucket][tier]
    const decision =
      (await inRedis(c, settings, `${bucket}:${who}`, limit)) ??
      inMemory.limit(`${settings.prefix}:${bucket}:${who}`, limit, settings.windowSeconds * 1000)
    const resetSeconds = Math.max(0, Math.ceil((decision.reset - Date.now()) / 1000))
    c.header('RateLimit-Limit', String(decision.limit))
    c.header('RateLimit-Remaining', String(decision.remaining))
    c.header('RateLimit-Reset', String(resetSeconds))
    c.header('RateLimit-Policy', `${decision.limit};w=${settings.windowSeconds}`)
    if (!decision.success) throw new RateLimitedError(Math.max(1, resetSeconds), bucket)
    await next()
  })

/** The count in Redis; undefined without Redis or when it failed (count in memory then). */
async function inRedis(
  c: Context<AppEnv>,
  settings: RateLimitSettings,
  identifier: string,
  limit: number,
): Promise<Decision | undefined> {
  const redis = redisFrom(c.env)
  const url = c.env.UPSTASH_REDIS_REST_URL
  if (!redis || !url || Date.now() - (failedAt.get(url) ?? 0) < REDIS_PAUSE_MS) return undefined
  const limiter = new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(limit, `${settings.windowSeconds} s`),
    prefix: settings.prefix,
    ephemeralCache: blocked,
    // its timeout lets the request through; ours counts it in memory instead (below)
    timeout: REDIS_TIMEOUT_MS,
  })
  try {
    const { success, remaining, reset, reason } = await limiter.limit(identifier)
    if (reason === 'timeout') throw new Error(`no answer within ${REDIS_TIMEOUT_MS} ms`)
    return { success, limit, remaining, reset }
  } catch (err) {
    failedAt.set(url, Date.now())
    console.error(
      `rate limits: Redis failed (${(err as Error).message}); counted in this isolate for ` +
        `${REDIS_PAUSE_MS / 1000} s`,
    )
    return undefined
  }
}
