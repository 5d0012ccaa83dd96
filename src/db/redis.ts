// Redis over Upstash's REST API (@upstash/redis: fetch, no socket). Production: Upstash; locally
// the bridge scripts/lib/upstash-bridge.ts in front of REDIS_URL, which `npm run dev` starts.
import { Redis } from '@upstash/redis/cloudflare'

export interface RedisConfig {
  UPSTASH_REDIS_REST_URL?: string
  UPSTASH_REDIS_REST_TOKEN?: string
}

/**
 * A client for this request, or undefined when Redis is not configured. Create one per request
 * (it is a few objects): a client kept per isolate batches the commands of concurrent requests
 * into one fetch (auto-pipelining), whose answer would then reach a request that did not make
 * it, which workerd refuses as I/O on behalf of a different request.
 *
 * One retry only: its users (the rate limiter, caches) have a fallback that a long retry loop
 * would only delay.
 */
export function redisFrom(cfg: RedisConfig): Redis | undefined {
  const url = cfg.UPSTASH_REDIS_REST_URL
  const token = cfg.UPSTASH_REDIS_REST_TOKEN
  if (!url || !token) return undefined
  return new Redis({ url, token, enableTelemetry: false, retry: { retries: 1, backoff: () => 50 } })
}
