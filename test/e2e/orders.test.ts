// The order gateway end to end under wrangler dev: the Worker validates and reserves in Postgres,
// the symbol's Durable Object (the WASM book in workerd) matches, and the ack comes back as the
// order. The seed's scenario: a resting sell of 100 AAPL at 150.00, then a buy of 100 at 150.00.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { DEMO_USERS } from '../../src/db/seed.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth, Json } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import { UNLIMITED } from '../helpers/rate-limit.ts'

let dev: DevServer
let api: ReturnType<typeof apiClient>
let alice: Auth // 100,000.00 cash, 100 AAPL, 50 MSFT
let bob: Auth // 50,000.00 cash, 200 AAPL, 80 NVDA
let alicePlain: Auth // a token without the second factor

const call = (...args: Parameters<typeof api.call>) => api.call(...args)
const login = (email: string) => api.login(email)

/** the order once the drain has brought its `filled` shares to Postgres */
async function settled(auth: Auth, id: number, filled: number): Promise<Json> {
  const until = Date.now() + 10_000
  for (;;) {
    const { body } = await call('GET', `/v1/orders/${id}`, auth)
    if (body.status !== 'pending' && body.filled_qty === filled) return body
    if (Date.now() > until) return body
    await Bun.sleep(50)
  }
}

const account = async (auth: Auth) => (await call('GET', '/v1/account', auth)).body
const position = async (auth: Auth, symbol: string) =>
  (await call('GET', `/v1/positions/${symbol}`, auth)).body

beforeAll(async () => {
  dev = await startDevServer({ env: UNLIMITED }) // bursts of one trader's orders, polling
  api = apiClient(dev.base)
  alicePlain = await login(DEMO_USERS[0].email)
  ;[alice, bob] = await Promise.all([
    api.withTwoFactor(DEMO_USERS[0].email),
    api.withTwoFactor(DEMO_USERS[1].email),
  ])
  // the seed's scenario trades AAPL at 150.00: move its reference there (band ±10%)
  const admin = await login(DEMO_USERS[2].email)
  const moved = await call('PATCH', '/v1/admin/symbols/AAPL', admin, { reference_price: '150.00' })
  expect(moved.status).toBe(200)
}, 90_000)

afterAll(async () => {
  await dev?.stop()
}, 30_000)

const limit = (side: string, qty: number, price: string, extra: Json = {}) => ({
  symbol: 'AAPL',
  side,
  type: 'limit',
  qty,
  price,
  time_in_force: 'gtc',
  ...extra,
})

describe('POST /v1/orders under wrangler dev', () => {
  test('trading needs a token from a login with a one-time code', async () => {
    const res = await call('POST', '/v1/orders', alicePlain, limit('sell', 1, '150.00'))
    expect(res.status).toBe(403)
    expect(res.body.code).toBe('two_factor_required')
  })

  test('unknown fields are refused, never applied', async () => {
    const res = await call(
      'POST',
      '/v1/orders',
      alice,
      limit('sell', 1, '150.00', { status: 'filled', user_id: 1 }),
    )
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('invalid_request')
    expect(res.body.errors.map((e: Json) => e.path).sort()).toEqual(['status', 'user_id'])
  })

  test('the seed: a resting sell of 100 AAPL at 150.00, then a crossing buy of 100 at 150.00', async () => {
    const sell = await call('POST', '/v1/orders', alice, limit('sell', 100, '150.00'))
    expect(sell.status).toBe(201)
    expect(sell.body).toMatchObject({
      symbol: 'AAPL',
      side: 'sell',
      qty: 100,
      price: '150.00',
      status: 'open',
      filled_qty: 0,
      open_qty: 100,
      avg_fill_price: null,
      fills: [],
      time_in_force: 'gtc',
    })
    expect(await position(alice, 'AAPL')).toMatchObject({
      qty: 100,
      reserved_qty: 100,
      available_qty: 0,
    })
    const book = (await call('GET', '/v1/book/AAPL', {})).body
    expect(book.asks).toEqual([['150.00', 100, 1]])

    const bobBefore = await account(bob)
    const buy = await call('POST', '/v1/orders', bob, limit('buy', 100, '150.00'))
    expect(buy.status).toBe(201)
    expect(buy.body).toMatchObject({
      side: 'buy',
      status: 'filled',
      filled_qty: 100,
      open_qty: 0,
      avg_fill_price: '150.00',
    })
    expect(buy.body.fills).toHaveLength(1)
    expect(buy.body.fills[0]).toMatchObject({ qty: 100, price: '150.00', liquidity: 'taker' })
    expect(typeof buy.body.created_at).toBe('string')
    expect(typeof buy.body.acked_at).toBe('string')
    expect((await call('GET', '/v1/book/AAPL', {})).body.asks).toEqual([])
    // the buy's cash was reserved before it reached the book (the drain settles the fill)
    expect(bobBefore.reserved_cash).toBe('0.00')
    expect((await call('GET', `/v1/orders/${buy.body.id}`, alice)).status).toBe(404)

    // the book's outbox drain settles the fill in Postgres: both sides exact to the cent
    const own = await settled(bob, buy.body.id, 100)
    expect(own).toMatchObject({ status: 'filled', filled_qty: 100, avg_fill_price: '150.00' })
    expect(own.fills).toEqual([expect.objectContaining({ qty: 100, price: '150.00' })])
    expect((await settled(alice, sell.body.id, 100)).status).toBe('filled')
    expect(await account(bob)).toMatchObject({ cash: '35000.00', reserved_cash: '0.00' })
    expect(await account(alice)).toMatchObject({ cash: '115000.00', reserved_cash: '0.00' })
    expect(await position(bob, 'AAPL')).toMatchObject({
      qty: 300,
      reserved_qty: 0,
      cost_basis: '52000.00',
    })
    expect(await position(alice, 'AAPL')).toMatchObject({
      qty: 0,
      reserved_qty: 0,
      cost_basis: '0.00',
    })
  })

  test('reservations refused with the numbers: buying power and shares', async () => {
    const before = await account(alice)
    // one share more than the buying power pays for (the drain may have credited the sale)
    const qty = Math.floor(Number(before.buying_power) / 150) + 1
    const cash = await call('POST', '/v1/orders', alice, limit('buy', qty, '150.00'))
    expect(cash.status).toBe(422)
    expect(cash.body).toMatchObject({
      code: 'insufficient_buying_power',
      needed: `${qty * 150}.00`,
      available: before.buying_power,
    })
    const shares = await call('POST', '/v1/orders', alice, {
      ...limit('sell', 51, '415.00'),
      symbol: 'MSFT',
    })
    expect(shares.status).toBe(422)
    expect(shares.body).toMatchObject({
      code: 'insufficient_shares',
      asked: 51,
      held: 50,
      available: 50,
    })
    const band = await call('POST', '/v1/orders', alice, limit('buy', 1, '170.00'))
    expect(band.status).toBe(422)
    expect(band.body).toMatchObject({
      code: 'price_out_of_band',
      band_low: '135.00',
      band_high: '165.00',
    })
    expect(await account(alice)).toMatchObject({ reserved_cash: before.reserved_cash })
  })

  test('an idempotent retry returns the same order; the key with other parameters is refused', async () => {
    const order = { ...limit('buy', 10, '415.00'), symbol: 'MSFT', client_order_id: 'e2e-msft-1' }
    const key = { 'idempotency-key': 'e2e-order-1' }
    const before = Number((await account(alice)).reserved_cash)
    const first = await call('POST', '/v1/orders', alice, order, key)
    expect(first.status).toBe(201)
    expect(first.body.status).toBe('open')
    const reserved = (await account(alice)).reserved_cash
    expect(Number(reserved) - before).toBe(4150)
    const again = await call('POST', '/v1/orders', alice, order, key)
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.body).toEqual(first.body)
    const byClientId = await call('POST', '/v1/orders', alice, order)
    expect(byClientId.body).toEqual(first.body)
    const other = await call('POST', '/v1/orders', alice, { ...order, qty: 11 }, key)
    expect(other.status).toBe(422)
    expect(other.body.code).toBe('idempotency_mismatch')
    expect((await account(alice)).reserved_cash).toBe(reserved)
    const list = await call('GET', '/v1/orders?symbol=MSFT', alice)
    expect(list.body.orders.map((o: Json) => o.id)).toEqual([first.body.id])
  })

  test('concurrent requests with one new key make one order; the rest replay it or get 409', async () => {
    const order = { ...limit('buy', 1, '415.00'), symbol: 'MSFT', client_order_id: 'e2e-msft-2' }
    const key = { 'idempotency-key': 'e2e-order-2' }
    const burst = await Promise.all(
      Array.from({ length: 5 }, () => call('POST', '/v1/orders', alice, order, key)),
    )
    const ids = new Set(burst.filter((r) => r.status === 201).map((r) => r.body.id))
    expect(ids.size).toBe(1)
    for (const r of burst) {
      if (r.status !== 201) expect([r.status, r.body.code]).toEqual([409, 'idempotency_in_flight'])
    }
    const list = await call('GET', '/v1/orders?symbol=MSFT&limit=1', alice)
    expect(list.body.orders.map((o: Json) => o.id)).toEqual([...ids])
  })

  test('cancel releases the reservation; a second cancel is 409 not_cancelable', async () => {
    const placed = await call('POST', '/v1/orders', alice, { ...limit('buy', 20, '140.00') })
    expect(placed.status).toBe(201)
    const held = await account(alice)
    const canceled = await call('DELETE', `/v1/orders/${placed.body.id}`, alice)
    expect(canceled.status).toBe(200)
    expect(canceled.body).toMatchObject({
      status: 'canceled',
      canceled_qty: 20,
      reserved_cash: '0.00',
    })
    const after = await account(alice)
    expect(Number(held.reserved_cash) - Number(after.reserved_cash)).toBe(2800)
    const again = await call('DELETE', `/v1/orders/${placed.body.id}`, alice)
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('not_cancelable')
  })

  test('a market buy trades up to its collar and never beyond; the IOC remainder is released', async () => {
    // asks at 151.00 (10) and 160.00 (10): the collar of a market buy is 150.00 + 5% = 157.50
    for (const price of ['151.00', '160.00']) {
      expect((await call('POST', '/v1/orders', bob, limit('sell', 10, price))).status).toBe(201)
    }
    const before = Number((await account(alice)).reserved_cash)
    const buy = await call('POST', '/v1/orders', alice, {
      symbol: 'AAPL',
      side: 'buy',
      type: 'market',
      qty: 15,
      time_in_force: 'day',
    })
    expect(buy.status).toBe(201)
    expect(buy.body).toMatchObject({
      type: 'market',
      price: null,
      collar_price: '157.50',
      status: 'canceled',
      filled_qty: 10,
      avg_fill_price: '151.00',
      reason: 'ioc',
    })
    const order = await settled(alice, buy.body.id, 10)
    expect(order).toMatchObject({ status: 'canceled', filled_qty: 10, reserved_cash: '0.00' })
    expect(Number((await account(alice)).reserved_cash)).toBe(before)
    expect((await call('GET', '/v1/book/AAPL', {})).body.asks).toEqual([['160.00', 10, 1]])
  })

  test('PATCH reduces the open quantity (keeping priority) and releases the cut', async () => {
    const placed = await call('POST', '/v1/orders', bob, limit('sell', 30, '162.00'))
    expect(placed.status).toBe(201)
    const before = await position(bob, 'AAPL')
    const reduced = await call('PATCH', `/v1/orders/${placed.body.id}`, bob, { qty: 12 })
    expect(reduced.status).toBe(200)
    expect(reduced.body).toMatchObject({ qty: 12, open_qty: 12, reduced_by: 18, reserved_qty: 12 })
    expect((await position(bob, 'AAPL')).reserved_qty).toBe(before.reserved_qty - 18)
    const bad = await call('PATCH', `/v1/orders/${placed.body.id}`, bob, { qty: 12 })
    expect(bad.status).toBe(422)
    expect(bad.body.code).toBe('invalid_amend')
    expect((await call('GET', '/v1/book/AAPL', {})).body.asks).toContainEqual(['162.00', 12, 1])
  })

  test('GET /v1/orders: newest first, filtered, with a cursor', async () => {
    const page1 = await call('GET', '/v1/orders?symbol=AAPL&limit=2', bob)
    expect(page1.status).toBe(200)
    expect(page1.body.orders).toHaveLength(2)
    const [a, b] = page1.body.orders.map((o: Json) => o.id)
    expect(a).toBeGreaterThan(b)
    const page2 = await call(
      'GET',
      `/v1/orders?symbol=AAPL&limit=2&cursor=${page1.body.next_cursor}`,
      bob,
    )
    expect(page2.body.orders.every((o: Json) => o.id < b)).toBe(true)
    const filled = await call('GET', '/v1/orders?status=filled', bob)
    expect(filled.body.orders.every((o: Json) => o.status === 'filled')).toBe(true)
    expect((await call('GET', '/v1/orders?status=nope', bob)).status).toBe(400)
  })

  test('a post-only buy that would cross is rejected and its reservation released', async () => {
    const before = await account(alice)
    // the best ask is 160.00 (left by the market-order test)
    const res = await call(
      'POST',
      '/v1/orders',
      alice,
      limit('buy', 5, '160.00', { post_only: true }),
    )
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ status: 'rejected', reason: 'post_only', fills: [] })
    const order = (await call('GET', `/v1/orders/${res.body.id}`, alice)).body
    expect(order).toMatchObject({ status: 'rejected', reserved_cash: '0.00' })
    expect((await account(alice)).reserved_cash).toBe(before.reserved_cash)
  })

  test('a batch: one result per order, one Durable Object call per symbol, fills like single orders', async () => {
    const sells = await call('POST', '/v1/orders/batch', alice, {
      orders: [
        limit('sell', 2, '151.00'),
        { ...limit('sell', 2, '420.00'), symbol: 'MSFT' },
        limit('sell', 2, '999.00'), // outside the band
      ],
    })
    expect(sells.status).toBe(200)
    expect(sells.body.results.map((r: Json) => [r.status, r.order?.status ?? r.error.code])).toEqual([
      [201, 'open'],
      [201, 'open'],
      [422, 'price_out_of_band'],
    ])
    const buys = await call('POST', '/v1/orders/batch', bob, {
      orders: [limit('buy', 2, '151.00'), { ...limit('buy', 2, '420.00'), symbol: 'MSFT' }],
    })
    expect(buys.body.results.map((r: Json) => [r.order.status, r.order.avg_fill_price])).toEqual([
      ['filled', '151.00'],
      ['filled', '420.00'],
    ])
    const [aapl, msft] = sells.body.results
    expect((await settled(alice, aapl.order.id, 2)).status).toBe('filled')
    expect((await settled(alice, msft.order.id, 2)).status).toBe('filled')
  })

  test('no overspend: concurrent buys across symbols and concurrent sells of one position', async () => {
    const before = await account(bob)
    const buyingPower = Number(before.buying_power)
    // each order costs a little over a tenth of the buying power: at most 9 of 20 can be reserved
    const symbols = [
      ['MSFT', 415],
      ['NVDA', 120],
      ['AMZN', 185],
      ['GOOGL', 170],
    ] as const
    const buys = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const [symbol, price] = symbols[i % symbols.length]
        const qty = Math.floor(buyingPower / 10 / (price - 10)) + 1
        return call('POST', '/v1/orders', bob, {
          ...limit('buy', qty, `${price - 10}.00`),
          symbol,
        }).then((r) => ({ ...r, cost: qty * (price - 10) }))
      }),
    )
    const accepted = buys.filter((r) => r.status === 201)
    for (const r of buys) {
      if (r.status !== 201) expect(r.body.code).toBe('insufficient_buying_power')
    }
    expect(accepted.length).toBeGreaterThan(0)
    expect(accepted.length).toBeLessThan(10)
    const after = await account(bob)
    const reserved = Math.round(Number(after.reserved_cash) * 100)
    const expected =
      Math.round(Number(before.reserved_cash) * 100) +
      accepted.reduce((s, r) => s + r.cost * 100, 0)
    expect(reserved).toBe(expected)
    expect(Number(after.reserved_cash)).toBeLessThanOrEqual(Number(after.cash))

    // bob holds 80 NVDA: 10 concurrent sells of 10 → exactly 8 reserved
    const sells = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('POST', '/v1/orders', bob, { ...limit('sell', 10, '130.00'), symbol: 'NVDA' }),
      ),
    )
    expect(sells.filter((r) => r.status === 201)).toHaveLength(8)
    for (const r of sells) {
      if (r.status !== 201) expect(r.body.code).toBe('insufficient_shares')
    }
    expect(await position(bob, 'NVDA')).toMatchObject({ qty: 80, reserved_qty: 80 })
  })
})
