// Checks of the request rate limits (src/auth/rate-limit.ts), shared by the in-process and the
// wrangler dev tests.
import { expect } from 'bun:test'

/**
 * For tests that send faster than a trader may (bursts of concurrent orders, polling): the limits
 * are tested with limits of their own (test/auth/rate-limit.test.ts, test/e2e/rate-limit.test.ts).
 */
export const UNLIMITED = {
  RATE_LIMIT_ORDERS_RETAIL: '1000000',
  RATE_LIMIT_ORDERS_PRO: '1000000',
  RATE_LIMIT_READS_RETAIL: '1000000',
  RATE_LIMIT_READS_PRO: '1000000',
}

/** A long window keeps a test's requests in one window: one that straddles two is weighted. */
export const TEST_WINDOW_SECONDS = 3600

/** Waits for the next window when the current one ends within `marginMs`. */
export async function clearOfWindowEdge(windowSeconds = TEST_WINDOW_SECONDS, marginMs = 10_000) {
  const windowMs = windowSeconds * 1000
  const left = windowMs - (Date.now() % windowMs)
  if (left < marginMs) await Bun.sleep(left + 50)
}

/** RateLimit-Limit, -Remaining, -Reset (seconds, within the window) and -Policy */
export function expectLimitHeaders(
  headers: Headers,
  limit: number,
  remaining: number,
  windowSeconds = TEST_WINDOW_SECONDS,
) {
  expect(headers.get('ratelimit-limit')).toBe(String(limit))
  expect(headers.get('ratelimit-remaining')).toBe(String(remaining))
  expect(headers.get('ratelimit-policy')).toBe(`${limit};w=${windowSeconds}`)
  const reset = Number(headers.get('ratelimit-reset'))
  expect(reset).toBeGreaterThan(0)
  expect(reset).toBeLessThanOrEqual(windowSeconds)
}

/** 429 rate_limited of `scope`, Retry-After as long as RateLimit-Reset says */
export function expectRefusal(status: number, headers: Headers, body: Record<string, any>, scope: string) {
  expect(status).toBe(429)
  expect(body).toMatchObject({ status: 429, code: 'rate_limited', scope })
  const retryAfter = Number(headers.get('retry-after'))
  expect(retryAfter).toBe(body.retry_after)
  expect(retryAfter).toBe(Math.max(1, Number(headers.get('ratelimit-reset'))))
}
