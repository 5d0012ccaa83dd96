// Request rate limits from the real stack under wrangler dev, with low limits: with REDIS_URL the
// Worker counts in Redis through the Upstash bridge scripts/dev.ts starts (the counts are looked
// at there); without, in the isolate's memory.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Redis as IoRedis } from 'ioredis'
import { DEMO_USERS } from '../../src/db/seed.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import {
  TEST_WINDOW_SECONDS,
  clearOfWindowEdge,
  expectLimitHeaders,
  expectRefusal,
} from '../helpers/rate-limit.ts'

const READS = 4
const ORDERS = 3
const prefix = `bourse-t-e2e-rl-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
const redisUrl = process.env.REDIS_URL

let dev: DevServer
let api: ReturnType<typeof apiClient>
let alice: Auth

beforeAll(async () => {
  dev = await startDevServer({
    env: {
      RATE_LIMIT_WINDOW_SECONDS: String(TEST_WINDOW_SECONDS),
      RATE_LIMIT_READS_RETAIL: String(READS),
      RATE_LIMIT_ORDERS_RETAIL: String(ORDERS),
      RATE_LIMIT_PREFIX: prefix,
    },
  })
  api = apiClient(dev.base)
  alice = await api.withTwoFactor(DEMO_USERS[0].email)
}, 90_000)

afterAll(async () => {
  await dev?.stop()
  if (redisUrl) {
    const redis = new IoRedis(redisUrl)
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  }
}, 30_000)

describe(`rate limits under wrangler dev (${redisUrl ? 'in Redis' : 'in memory'})`, () => {
  test('reads and order entry trip exactly at their limits, each on its own', async () => {
    await clearOfWindowEdge()
    for (let i = 1; i <= READS; i++) {
      const res = await api.call('GET', '/v1/account', alice)
      expect(res.status).toBe(200)
      expectLimitHeaders(res.headers, READS, READS - i)
    }
    const reads = await api.call('GET', '/v1/positions', alice)
    expectRefusal(reads.status, reads.headers, reads.body, 'reads')

    const { body } = await api.call('GET', '/v1/symbols', {})
    const aapl = body.symbols.find((s: { symbol: string }) => s.symbol === 'AAPL')
    const order = {
      symbol: 'AAPL', side: 'buy', type: 'limit', qty: 1, price: aapl.reference_price,
      time_in_force: 'gtc',
    }
    for (let i = 1; i <= ORDERS; i++) {
      const res = await api.call('POST', '/v1/orders', alice, order)
      expect(res.status).toBe(201)
      expectLimitHeaders(res.headers, ORDERS, ORDERS - i)
    }
    const orders = await api.call('POST', '/v1/orders', alice, order)
    expectRefusal(orders.status, orders.headers, orders.body, 'orders')
    expectLimitHeaders(orders.headers, ORDERS, 0)
  })

  test.skipIf(!redisUrl)('the counts are in Redis under the run’s prefix', async () => {
    const redis = new IoRedis(redisUrl!)
    try {
      const keys = (await redis.keys(`${prefix}:*`)).sort()
      expect(keys.map((k) => k.split(':').slice(1, 3).join(':'))).toEqual([
        'orders:user',
        'reads:user',
      ])
      expect(await Promise.all(keys.map((k) => redis.get(k)))).toEqual([
        String(ORDERS),
        String(READS),
      ])
    } finally {
      redis.disconnect()
    }
  })
})
