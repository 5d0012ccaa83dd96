// Quotes under wrangler dev: the symbol's object writes its quote and last trade to Redis (through
// the Upstash REST bridge to the real Redis when REDIS_URL is set), GET /v1/quotes reads them
// there, and falls back to the objects, saying so in a header, when Redis is unset or down.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { apiClient } from '../helpers/api.ts'
import type { Auth } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'

const prefix = `bourse-quotes-${Date.now()}`

/** A dev server with two traders and AAPL's reference at 150.00. */
async function exchange(options: Parameters<typeof startDevServer>[0]) {
  const dev = await startDevServer(options)
  const api = apiClient(dev.base)
  const { alice, bob } = await api.demoTraders()
  const order = (auth: Auth, side: string, qty: number, price: string) =>
    api.call('POST', '/v1/orders', auth, { symbol: 'AAPL', side, type: 'limit', qty, price, time_in_force: 'gtc' })
  return { dev, api, alice, bob, order }
}

describe.skipIf(!process.env.REDIS_URL)('quotes with Redis (REDIS_URL)', () => {
  let ex: Awaited<ReturnType<typeof exchange>>
  let redis: Redis

  beforeAll(async () => {
    ex = await exchange({ env: { CACHE_PREFIX: prefix } })
    redis = new Redis(process.env.REDIS_URL!)
  }, 90_000)

  afterAll(async () => {
    await redis?.del(`${prefix}:quote:AAPL`)
    redis?.disconnect()
    await ex?.dev.stop()
  }, 30_000)

  test('trading writes the quote to Redis; reads come from it', async () => {
    const before = await fetch(`${ex.dev.base}/v1/quotes/MSFT`)
    expect(before.headers.get('x-quote-source')).toBe('book') // nothing traded on MSFT yet
    expect(before.headers.get('x-quote-fallback')).toBe('not_cached')

    expect((await ex.order(ex.bob, 'sell', 10, '151.00')).status).toBe(201)
    expect((await ex.order(ex.bob, 'sell', 5, '150.00')).status).toBe(201)
    expect((await ex.order(ex.alice, 'buy', 5, '150.00')).body.status).toBe('filled')
    expect((await ex.order(ex.alice, 'buy', 3, '149.00')).status).toBe(201)

    const want = {
      symbol: 'AAPL', bid: '149.00', bid_size: 3, ask: '151.00', ask_size: 10,
      last: { price: '150.00', qty: 5, side: 'buy', ts: expect.any(Number) },
    }
    let stored: unknown
    for (let i = 0; i < 50 && !stored; i++) {
      const raw = await redis.get(`${prefix}:quote:AAPL`)
      stored = raw && JSON.parse(raw).bid === '149.00' ? JSON.parse(raw) : undefined
      if (!stored) await Bun.sleep(20)
    }
    expect(stored).toMatchObject(want)

    const one = await fetch(`${ex.dev.base}/v1/quotes/AAPL`)
    expect(one.status).toBe(200)
    expect(one.headers.get('x-quote-source')).toBe('redis')
    expect(one.headers.get('x-quote-fallback')).toBeNull()
    expect(await one.json()).toMatchObject(want)

    const many = await fetch(`${ex.dev.base}/v1/quotes?symbols=AAPL,MSFT,ZZZZ`)
    expect(many.headers.get('x-quote-source')).toBe('mixed')
    const body = (await many.json()) as { quotes: { symbol: string }[]; unknown: string[] }
    expect(body.quotes.map((q) => q.symbol)).toEqual(['AAPL', 'MSFT'])
    expect(body.unknown).toEqual(['ZZZZ'])
  })
})

describe('quotes when Redis is down', () => {
  let ex: Awaited<ReturnType<typeof exchange>>

  beforeAll(async () => {
    // Redis configured, but nothing listens there
    const down = ['--var', 'UPSTASH_REDIS_REST_URL:http://127.0.0.1:9', '--var', 'UPSTASH_REDIS_REST_TOKEN:x']
    ex = await exchange({ env: { REDIS_URL: '' }, wranglerArgs: down })
  }, 90_000)

  afterAll(async () => {
    await ex?.dev.stop()
  }, 30_000)

  test('the Worker is ready but degraded: Redis down, Postgres and the objects up', async () => {
    const res = await fetch(`${ex.dev.base}/readyz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      status: 'degraded',
      checks: { postgres: { state: 'up' }, durable_object: { state: 'up' }, redis: { state: 'down' } },
    })
  })

  test('orders still trade; reads fall back to the book and say so; bad requests are 4xx', async () => {
    expect((await ex.order(ex.bob, 'sell', 2, '152.00')).status).toBe(201)
    const res = await fetch(`${ex.dev.base}/v1/quotes/AAPL`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-quote-source')).toBe('book')
    expect(res.headers.get('x-quote-fallback')).toBe('redis_error')
    expect(await res.json()).toMatchObject({ symbol: 'AAPL', ask: '152.00', ask_size: 2, bid: null })

    expect((await fetch(`${ex.dev.base}/v1/quotes/ZZZZ`)).status).toBe(404)
    const bad = await fetch(`${ex.dev.base}/v1/quotes?symbols=`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { code: string }).code).toBe('invalid_request')
  })
})
