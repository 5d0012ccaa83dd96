// Worker bindings (wrangler vars/secrets) and the settings read from them.
// Secrets: DATABASE_URL, JWT_PRIVATE_KEY, UPSTASH_REDIS_REST_TOKEN. Everything else has a
// production default.

import type { users } from './db/schema.ts'
import type { AccountStream } from './do/account-stream.ts'
import type { MarketFeed } from './do/market-feed.ts'
import type { VenueSession } from './do/venue-session.ts'
import type { SymbolBook } from './do/symbol-book.ts'

export interface Env {
  /** One SymbolBook Durable Object per symbol (idFromName(symbol)) */
  SYMBOL_BOOK: DurableObjectNamespace<SymbolBook>
  /** One AccountStream Durable Object per user (idFromName(String(userId))): the private stream */
  ACCOUNT_STREAM: DurableObjectNamespace<AccountStream>
  /** One MarketFeed Durable Object per venue (idFromName(venue)): its market-data feed */
  MARKET_FEED: DurableObjectNamespace<MarketFeed>
  /** the venues' feeds to follow: "NSIM=127.0.0.1:9879,ARCA=host:port" */
  VENUE_FEEDS?: string
  /** One VenueSession Durable Object per venue (idFromName(venue)): our FIX session with it */
  VENUE_SESSION: DurableObjectNamespace<VenueSession>
  /** the venues' FIX acceptors: "NSIM=127.0.0.1:9878" */
  VENUES?: string
  /** "production" makes sandbox funding admin-only */
  ENVIRONMENT?: string
  /** Postgres connection string (Neon in production; a secret) */
  DATABASE_URL?: string
  /** dev/test only: host:port of the local WebSocket→TCP proxy (scripts/lib/ws-proxy.ts) */
  DB_WS_PROXY?: string
  /** private signing key: an EC P-256 JWK (JSON) with a "kid" (a secret) */
  JWT_PRIVATE_KEY?: string
  /** optional JWKS JSON of extra public keys still accepted (key rotation) */
  JWT_PUBLIC_KEYS?: string
  JWT_ISSUER?: string
  ACCESS_TOKEN_TTL_SECONDS?: string
  REFRESH_TOKEN_TTL_SECONDS?: string
  /** PBKDF2-SHA256 iterations for new password hashes (Workers allow at most 100000) */
  PBKDF2_ITERATIONS?: string
  /** consecutive failed logins that lock an account (default 10) */
  LOGIN_LOCK_THRESHOLD?: string
  /** how long such a lock lasts (default 900 s); each further failure doubles it, up to a day */
  LOGIN_LOCK_SECONDS?: string
  /** failed logins / one-time codes from one IP within AUTH_IP_WINDOW_SECONDS (default 50) */
  AUTH_IP_MAX_FAILURES?: string
  /** the per-IP window (default 900 s) */
  AUTH_IP_WINDOW_SECONDS?: string
  /** trading days from trade to settlement: 1 (T+1, the default: US equities since 2024) or 2 */
  SETTLEMENT_CYCLE_DAYS?: string
  /** "1": orders are taken at any hour (the dev server's default); else only in market hours */
  MARKET_ALWAYS_OPEN?: string
  /** bytes a market-data reader may fall behind before it is closed (src/marketdata/hub.ts) */
  MD_MAX_UNACKED_BYTES?: string
  /** the same for the account stream (src/do/account-stream.ts) */
  STREAM_MAX_UNACKED_BYTES?: string
  /**
   * Upstash Redis REST endpoint (locally: the bridge scripts/lib/upstash-bridge.ts to REDIS_URL).
   * Without it (or its token) rate limits are counted per isolate only.
   */
  UPSTASH_REDIS_REST_URL?: string
  /** its token (a secret) */
  UPSTASH_REDIS_REST_TOKEN?: string
  /** the sliding window of the request rate limits, in seconds (default 1) */
  RATE_LIMIT_WINDOW_SECONDS?: string
  /** order entry (POST/PATCH/DELETE /v1/orders*) per user per window: retail (default 20) */
  RATE_LIMIT_ORDERS_RETAIL?: string
  /** … and pro (default 100) */
  RATE_LIMIT_ORDERS_PRO?: string
  /** reads (GET of /v1 account, positions, orders, book) per user per window: retail (40) */
  RATE_LIMIT_READS_RETAIL?: string
  /** … and pro (default 200) */
  RATE_LIMIT_READS_PRO?: string
  /** prefix of the cache's keys in Redis (quotes; default "bourse"; tests use one per run) */
  CACHE_PREFIX?: string
  /** prefix of the rate-limit keys in Redis (default "bourse:rl"; tests use one per run) */
  RATE_LIMIT_PREFIX?: string
}

/** The vars and secrets, without the object bindings (what tests and scripts can provide). */
export type Vars = Omit<Env, 'SYMBOL_BOOK' | 'ACCOUNT_STREAM' | 'MARKET_FEED' | 'VENUE_SESSION'>

/** a user's tier: retail or pro */
export type Tier = (typeof users.$inferSelect)['tier']

export interface RateLimitSettings {
  windowSeconds: number
  /** requests per window, by tier: order entry, and reads */
  orders: Record<Tier, number>
  reads: Record<Tier, number>
  prefix: string
}

export interface Settings {
  issuer: string
  audience: string
  accessTtl: number
  refreshTtl: number
  pbkdf2Iterations: number
  loginLockThreshold: number
  loginLockSeconds: number
  ipMaxFailures: number
  ipWindowSeconds: number
  rateLimit: RateLimitSettings
  /** ENVIRONMENT=production: sandbox funding (deposits, transfers) is admin-only */
  production: boolean
  /** MARKET_ALWAYS_OPEN=1: no market_closed refusals (local development, tests) */
  marketAlwaysOpen: boolean
  /** T+N: trading days from trade to settlement */
  settlementCycleDays: number
}

/** Cloudflare's WebCrypto rejects PBKDF2 above 100,000 iterations, so that is the default. */
export const DEFAULT_PBKDF2_ITERATIONS = 100_000
export const MAX_PBKDF2_ITERATIONS = 100_000

function int(value: string | undefined, fallback: number, name: string, min: number, max: number) {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`)
  }
  return n
}

export function settingsFrom(env: Vars): Settings {
  return {
    issuer: env.JWT_ISSUER || 'bourse',
    audience: 'bourse-api',
    accessTtl: int(env.ACCESS_TOKEN_TTL_SECONDS, 900, 'ACCESS_TOKEN_TTL_SECONDS', 10, 86_400),
    refreshTtl: int(
      env.REFRESH_TOKEN_TTL_SECONDS,
      30 * 86_400,
      'REFRESH_TOKEN_TTL_SECONDS',
      60,
      365 * 86_400,
    ),
    pbkdf2Iterations: int(
      env.PBKDF2_ITERATIONS,
      DEFAULT_PBKDF2_ITERATIONS,
      'PBKDF2_ITERATIONS',
      1,
      MAX_PBKDF2_ITERATIONS,
    ),
    loginLockThreshold: int(env.LOGIN_LOCK_THRESHOLD, 10, 'LOGIN_LOCK_THRESHOLD', 1, 1000),
    loginLockSeconds: int(env.LOGIN_LOCK_SECONDS, 900, 'LOGIN_LOCK_SECONDS', 1, 86_400),
    ipMaxFailures: int(env.AUTH_IP_MAX_FAILURES, 50, 'AUTH_IP_MAX_FAILURES', 1, 100_000),
    ipWindowSeconds: int(env.AUTH_IP_WINDOW_SECONDS, 900, 'AUTH_IP_WINDOW_SECONDS', 1, 86_400),
    rateLimit: rateLimitFrom(env),
    production: env.ENVIRONMENT === 'production',
    marketAlwaysOpen: env.MARKET_ALWAYS_OPEN === '1',
    settlementCycleDays: int(env.SETTLEMENT_CYCLE_DAYS, 1, 'SETTLEMENT_CYCLE_DAYS', 1, 3),
  }
}

/**
 * bench/api.ts offers each of its 100 (retail) traders at most 10 orders/s (its 1,000/s step):
 * the retail order limit is twice that.
 */
function rateLimitFrom(env: Vars): RateLimitSettings {
  const limit = (name: keyof Vars, fallback: number) =>
    int(env[name], fallback, name, 1, 1_000_000)
  return {
    windowSeconds: int(env.RATE_LIMIT_WINDOW_SECONDS, 1, 'RATE_LIMIT_WINDOW_SECONDS', 1, 86_400),
    orders: {
      retail: limit('RATE_LIMIT_ORDERS_RETAIL', 20),
      pro: limit('RATE_LIMIT_ORDERS_PRO', 100),
    },
    reads: {
      retail: limit('RATE_LIMIT_READS_RETAIL', 40),
      pro: limit('RATE_LIMIT_READS_PRO', 200),
    },
    prefix: env.RATE_LIMIT_PREFIX || 'bourse:rl',
  }
}
