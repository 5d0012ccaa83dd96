// Request rate limits (src/auth/rate-limit.ts) through the app: per user and tier, order entry
// and reads apart, the public book per address; counted in memory (no Redis), in the real Redis
// through the Upstash bridge (REDIS_URL), and in memory again when Redis does not answer.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { Redis as IoRedis } from 'ioredis'
import { freePort } from '../../scripts/lib/local-db.ts'
import { startUpstashBridge } from '../../scripts/lib/upstash-bridge.ts'
import type { UpstashBridge } from '../../scripts/lib/upstash-bridge.ts'
import { users } from '../../src/db/schema.ts'
import type { Vars } from '../../src/env.ts'
import { newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'
import {
  TEST_WINDOW_SECONDS,
  clearOfWindowEdge,
  expectLimitHeaders,
  expectRefusal,
} from '../helpers/rate-limit.ts'

type Json = Record<string, any>
const READS = 5
const READS_PRO = 8
const ORDERS = 3

const limits = (prefix: string): Partial<Vars> => ({
  RATE_LIMIT_WINDOW_SECONDS: String(TEST_WINDOW_SECONDS),
  RATE_LIMIT_READS_RETAIL: String(READS),
  RATE_LIMIT_READS_PRO: String(READS_PRO),
  RATE_LIMIT_ORDERS_RETAIL: String(ORDERS),
  RATE_LIMIT_PREFIX: prefix,
})
const runPrefix = () => `bourse-t-rl-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`

let ipCounter = 0
const freshIp = () => `198.51.100.${++ipCounter}`

/** The same checks whatever counts: `client()` is the app under one configuration. */
function limitsTripExactly(client: () => TestClient) {
  beforeEach(() => clearOfWindowEdge())

  test('reads: the limit passes, one more is 429 rate_limited; headers on both; others unaffected', async () => {
    const u = await newUser(client(), 'rlreads')
    for (let i = 1; i <= READS; i++) {
      const res = await client().request('GET', i % 2 ? '/v1/account' : '/v1/positions', undefined, u.auth)
      expect(res.status).toBe(200)
      expectLimitHeaders(res.headers, READS, READS - i)
    }
    const refused = await client().request('GET', '/v1/account', undefined, u.auth)
    expectRefusal(refused.status, refused.headers, (await refused.json()) as Json, 'reads')
    expectLimitHeaders(refused.headers, READS, 0)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')

    const other = await newUser(client(), 'rlother')
    expect((await client().request('GET', '/v1/account', undefined, other.auth)).status).toBe(200)
  })

  test('order entry counts apart from reads; a refused request is counted before its own checks', async () => {
    const u = await newUser(client(), 'rlorders')
    // without a second factor each is 403 two_factor_required: counted all the same
    for (let i = 1; i <= ORDERS; i++) {
      const res = await client().request('DELETE', '/v1/orders/999999', undefined, u.auth)
      expect(res.status).toBe(403)
      expectLimitHeaders(res.headers, ORDERS, ORDERS - i)
    }
    const refused = await client().request('POST', '/v1/orders', {}, u.auth)
    expectRefusal(refused.status, refused.headers, (await refused.json()) as Json, 'orders')
    const reads = await client().request('GET', '/v1/orders', undefined, u.auth)
    expect(reads.status).toBe(200)
    expectLimitHeaders(reads.headers, READS, READS - 1)
  })

  test('a pro user has the pro limit', async () => {
    const u = await newUser(client(), 'rlpro')
    const { handle } = await testDatabase()
    await handle.db.update(users).set({ tier: 'pro' }).where(eq(users.id, u.id))
    for (let i = 1; i <= READS_PRO; i++) {
      const res = await client().request('GET', '/v1/account', undefined, u.auth)
      expect(res.status).toBe(200)
      expectLimitHeaders(res.headers, READS_PRO, READS_PRO - i)
    }
    expect((await client().request('GET', '/v1/account', undefined, u.auth)).status).toBe(429)
  })

  test('the public book: per address, at the retail limit', async () => {
    const ip = { 'cf-connecting-ip': freshIp() }
    for (let i = 1; i <= READS; i++) {
      const res = await client().request('GET', '/v1/book/NOPE', undefined, ip)
      expect(res.status).toBe(404)
      expectLimitHeaders(res.headers, READS, READS - i)
    }
    expect((await client().request('GET', '/v1/book/NOPE', undefined, ip)).status).toBe(429)
    const elsewhere = { 'cf-connecting-ip': freshIp() }
    expect((await client().request('GET', '/v1/book/NOPE', undefined, elsewhere)).status).toBe(404)
  })
}

describe('counted in memory (no Redis configured)', () => {
  let client: TestClient
  beforeAll(async () => {
    client = await testClient(limits(runPrefix()))
  }, 60_000)
  limitsTripExactly(() => client)
})

describe.skipIf(!process.env.REDIS_URL)('counted in Redis through the Upstash bridge', () => {
  const prefix = runPrefix()
  let client: TestClient
  let bridge: UpstashBridge
  let redis: IoRedis
  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: process.env.REDIS_URL! })
    redis = new IoRedis(process.env.REDIS_URL!)
    client = await testClient({
      ...limits(prefix),
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: bridge.token,
    })
  }, 60_000)
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
    await bridge.close()
  })

  limitsTripExactly(() => client)

  test('the counts are in Redis, under the configured prefix', async () => {
    const u = await newUser(client, 'rlredis')
    for (let i = 0; i < 2; i++) await client.request('GET', '/v1/account', undefined, u.auth)
    const keys = await redis.keys(`${prefix}:reads:user:${u.id}:*`)
    expect(keys).toHaveLength(1)
    expect(await redis.get(keys[0])).toBe('2')
  })
})

describe('Redis configured but not answering: counted in memory, never an error', () => {
  let client: TestClient
  beforeAll(async () => {
    client = await testClient({
      ...limits(runPrefix()),
      // a port nothing listens on
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${await freePort()}`,
      UPSTASH_REDIS_REST_TOKEN: 'unused',
    })
  }, 60_000)
  limitsTripExactly(() => client)
})
