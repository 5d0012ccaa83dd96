// Idempotency abuse on POST /v1/orders (issue 9), in process against the test database with each
// symbol's real journal and book. What the API does, pinned down exactly:
//  - the same key (or client_order_id) with other parameters: 422 idempotency_mismatch, nothing
//    changes, and the first request again still replays the first order;
//  - concurrent requests with one new key: one order and one reservation; every other answer is
//    that order replayed (201, Idempotent-Replayed) or 409 idempotency_in_flight, never a second;
//  - a first request that was refused (validation, risk: 400/422) left nothing behind, the key
//    included, so the retry is judged on its own: a refusal for a reason that passes (no buying
//    power, then a deposit) is not replayed forever. (Brokers and payment APIs differ here:
//    some replay a 4xx for its key, some release the key; Bourse stores the key on the order, so
//    only a request that made an order is ever replayed.) An order the book itself rejected
//    (post-only that would cross) exists, with its reason: that answer is replayed;
//  - keys belong to their user: another user's same key is a request of its own.
import { beforeAll, describe, expect, test } from 'bun:test'
import { and, asc, eq } from 'drizzle-orm'
import type { Db } from '../../src/db/client.ts'
import { cashLedger, orders, positions, symbols, users } from '../../src/db/schema.ts'
import type { Env } from '../../src/env.ts'
import { PASSWORD, uniqueEmail } from '../helpers/app.ts'
import { inProcessApp, secondFactorAuth } from '../helpers/in-process-app.ts'

type Json = Record<string, any>

const { app, fixtures, open } = inProcessApp()
let db: Db
let env: Env
let symbol: string
let other: string

async function post(auth: Record<string, string>, body: unknown, key?: string, path = '/v1/orders') {
  const res = await app.request(
    path,
    {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    },
    env,
  )
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as Json }
}

async function trader(cash = '0') {
  const email = uniqueEmail('idem')
  const reg = await app.request(
    '/v1/auth/register',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) },
    env,
  )
  const { id } = (await reg.json()) as { id: number }
  const auth = await secondFactorAuth(env, id)
  if (cash !== '0') expect((await post(auth, { amount: cash }, undefined, '/v1/account/deposits')).status).toBe(201)
  return { id, auth }
}

/** the user's balances, positions, orders and ledger, from Postgres */
async function stateOf(userId: number) {
  const [u] = await db.select().from(users).where(eq(users.id, userId))
  return {
    cash: u.cashCents,
    reserved: u.reservedCashCents,
    auditSeq: u.auditSeq,
    positions: await db.select().from(positions).where(eq(positions.userId, userId)),
    orders: await db.select().from(orders).where(eq(orders.userId, userId)).orderBy(asc(orders.id)),
    ledger: (await db.select().from(cashLedger).where(eq(cashLedger.userId, userId))).length,
  }
}

const buy = (qty = 1, price = '140.00') => ({ symbol, side: 'buy', type: 'limit', qty, price, time_in_force: 'gtc' })

let keys = 0
const newKey = () => `idem-${process.pid}-${Date.now()}-${++keys}`

beforeAll(async () => {
  ;({ db, env } = await open())
  symbol = await fixtures.newSymbol() // reference 150.00
  other = await fixtures.newSymbol()
}, 60_000)

describe('the same key with other parameters', () => {
  test('each parameter changed: 422 idempotency_mismatch naming the first order; the first request still replays it', async () => {
    const u = await trader('10000.00')
    const key = newKey()
    const first = await post(u.auth, buy(2), key)
    expect(first.status).toBe(201)
    const before = await stateOf(u.id)
    const variants: Record<string, Json> = {
      qty: buy(3),
      price: buy(2, '141.00'),
      side: { ...buy(2), side: 'sell' },
      time_in_force: { ...buy(2), time_in_force: 'day' },
      type: { ...buy(2), type: 'market', price: undefined },
      symbol: { ...buy(2), symbol: other },
      client_order_id: { ...buy(2), client_order_id: 'mine' },
      post_only: { ...buy(2), post_only: true },
    }
    for (const [changed, body] of Object.entries(variants)) {
      const res = await post(u.auth, body, key)
      expect({ changed, status: res.status, code: res.body.code, order_id: res.body.order_id }).toEqual({
        changed, status: 422, code: 'idempotency_mismatch', order_id: first.body.id,
      })
      expect(res.body.differs).toContain(changed) // named as in the body
    }
    expect(await stateOf(u.id)).toEqual(before)
    const again = await post(u.auth, buy(2), key)
    expect([again.status, again.replayed, again.body.id]).toEqual([201, 'true', first.body.id])
    expect(await stateOf(u.id)).toEqual(before)
  })

  test('a repeated client_order_id with other parameters: 422 idempotency_mismatch', async () => {
    const u = await trader('10000.00')
    const first = await post(u.auth, { ...buy(1), client_order_id: 'c-1' })
    expect(first.status).toBe(201)
    const before = await stateOf(u.id)
    const res = await post(u.auth, { ...buy(2), client_order_id: 'c-1' })
    expect([res.status, res.body.code]).toEqual([422, 'idempotency_mismatch'])
    expect(await stateOf(u.id)).toEqual(before)
  })
})

describe('a retry gets the first answer, whatever changed since', () => {
  test('the band moved away from its price, then the symbol halted: still replayed', async () => {
    const sym = await fixtures.newSymbol() // reference 150.00
    const u = await trader('10000.00')
    const key = newKey()
    const first = await post(u.auth, { ...buy(2), symbol: sym }, key)
    expect(first.status).toBe(201)
    await db.update(symbols).set({ referencePriceCents: 25_000 }).where(eq(symbols.symbol, sym))
    const moved = await post(u.auth, { ...buy(2), symbol: sym }, key)
    expect([moved.status, moved.replayed, moved.body]).toEqual([201, 'true', first.body])
    await db.update(symbols).set({ status: 'halted' }).where(eq(symbols.symbol, sym))
    const halted = await post(u.auth, { ...buy(2), symbol: sym }, key)
    expect([halted.status, halted.replayed, halted.body]).toEqual([201, 'true', first.body])
    // a new order is refused, though, and a changed one is a mismatch before any rule
    expect((await post(u.auth, { ...buy(2), symbol: sym }, newKey())).body.code).toBe('symbol_not_trading')
    const changed = await post(u.auth, { ...buy(2), symbol: sym, price: '139.99' }, key)
    expect([changed.status, changed.body.code]).toEqual([422, 'idempotency_mismatch'])
  })

  test('reduced by a PATCH: the first request replays the first answer; the reduced qty is another request', async () => {
    const u = await trader('10000.00')
    const body = { ...buy(10), client_order_id: `reduce-${newKey()}` }
    const first = await post(u.auth, body)
    expect(first.body).toMatchObject({ status: 'open', qty: 10, open_qty: 10 })
    const reduce = await app.request(`/v1/orders/${first.body.id}`, {
      method: 'PATCH', headers: { ...u.auth, 'content-type': 'application/json' }, body: JSON.stringify({ qty: 4 }),
    }, env)
    expect(reduce.status).toBe(200)
    const again = await post(u.auth, body)
    expect([again.status, again.replayed, again.body]).toEqual([201, 'true', first.body])
    const reduced = await post(u.auth, { ...body, qty: 4 })
    expect([reduced.status, reduced.body.code, reduced.body.differs]).toEqual([422, 'idempotency_mismatch', ['qty']])
  })

  test('a market order: the time in force the client sent is compared, not the IOC it became', async () => {
    const u = await trader('10000.00')
    const key = newKey()
    const market = { symbol, side: 'buy', type: 'market', qty: 1, time_in_force: 'day' }
    const first = await post(u.auth, market, key)
    expect(first.status).toBe(201)
    const other = await post(u.auth, { ...market, time_in_force: 'ioc' }, key)
    expect([other.status, other.body.code, other.body.differs]).toEqual([422, 'idempotency_mismatch', ['time_in_force']])
    // an order placed before orders.request was kept: only its IOC is known, and still replays
    await db.update(orders).set({ request: null }).where(eq(orders.id, first.body.id))
    const legacy = await post(u.auth, market, key)
    expect([legacy.status, legacy.replayed, legacy.body.id]).toEqual([201, 'true', first.body.id])
  })
})

describe('concurrent requests with one key', () => {
  test('one order and one reservation; the others replay it or are 409 idempotency_in_flight', async () => {
    for (const clients of [2, 5, 8]) {
      const u = await trader('10000.00')
      const key = newKey()
      const answers = await Promise.all(Array.from({ length: clients }, () => post(u.auth, buy(3), key)))
      const placed = answers.filter((a) => a.status === 201)
      expect(placed.length).toBeGreaterThanOrEqual(1)
      expect(new Set(placed.map((a) => a.body.id)).size).toBe(1)
      expect(placed.filter((a) => a.replayed !== 'true')).toHaveLength(1)
      for (const a of answers.filter((a) => a.status !== 201)) {
        expect([a.status, a.body.code]).toEqual([409, 'idempotency_in_flight'])
        // (the order's id when the first had reserved it by then)
        expect([undefined, placed[0].body.id]).toContain(a.body.order_id)
      }
      const state = await stateOf(u.id)
      expect(state.orders.map((o) => o.id)).toEqual([placed[0].body.id])
      expect(state.reserved).toBe(3 * 14_000)
    }
  })

  test('concurrent requests with one key and different bodies: still one order', async () => {
    const u = await trader('10000.00')
    const key = newKey()
    const answers = await Promise.all([1, 2, 3, 4].map((qty) => post(u.auth, buy(qty), key)))
    const placed = answers.filter((a) => a.status === 201)
    expect(new Set(placed.map((a) => a.body.id)).size).toBe(1)
    for (const a of answers.filter((a) => a.status !== 201)) {
      expect(a.body.code).toBeOneOf(['idempotency_in_flight', 'idempotency_mismatch'])
    }
    const state = await stateOf(u.id)
    expect(state.orders).toHaveLength(1)
    expect(state.reserved).toBe(state.orders[0].qty * 14_000)
  })
})

describe('a retry after the first request failed', () => {
  test('refused for lack of buying power, funded, retried with the same key: placed, then replayed', async () => {
    const u = await trader('100.00')
    const key = newKey()
    const refused = await post(u.auth, buy(1), key)
    expect([refused.status, refused.body.code]).toEqual([422, 'insufficient_buying_power'])
    expect((await stateOf(u.id)).orders).toEqual([])
    expect((await post(u.auth, { amount: '1000.00' }, undefined, '/v1/account/deposits')).status).toBe(201)
    const retry = await post(u.auth, buy(1), key)
    expect([retry.status, retry.replayed, retry.body.status]).toEqual([201, null, 'open'])
    const again = await post(u.auth, buy(1), key)
    expect([again.status, again.replayed, again.body.id]).toEqual([201, 'true', retry.body.id])
    const state = await stateOf(u.id)
    expect(state.orders.map((o) => o.idempotencyKey)).toEqual([key])
    expect(state.reserved).toBe(14_000)
  })

  test('refused as invalid (400), or by the rules (422): the key is free, the retry is judged on its own', async () => {
    const u = await trader('1000.00')
    for (const bad of [{ ...buy(1), qty: 0 }, buy(1, '1.00'), { ...buy(1), symbol: 'NOPE' }]) {
      const key = newKey()
      const first = await post(u.auth, bad, key)
      expect(first.status === 400 || first.status === 422).toBe(true)
      const retry = await post(u.auth, buy(1), key)
      expect([retry.status, retry.replayed]).toEqual([201, null])
    }
    expect((await stateOf(u.id)).orders).toHaveLength(3)
  })

  test('an order the book rejected is an outcome: the same key replays the rejection, no second order', async () => {
    const seller = await trader()
    await fixtures.giveShares(seller.id, symbol, 10, 150_000)
    expect((await post(seller.auth, { ...buy(5, '150.00'), side: 'sell' })).status).toBe(201)
    const u = await trader('10000.00')
    const key = newKey()
    const crossing = { ...buy(5, '150.00'), post_only: true }
    const first = await post(u.auth, crossing, key)
    expect([first.status, first.body.status, first.body.reason]).toEqual([201, 'rejected', 'post_only'])
    const again = await post(u.auth, crossing, key)
    expect([again.status, again.replayed, again.body.id, again.body.status]).toEqual([201, 'true', first.body.id, 'rejected'])
    const state = await stateOf(u.id)
    expect(state.orders).toHaveLength(1)
    expect(state.reserved).toBe(0)
  })
})

describe('keys belong to their user', () => {
  test("mallory reusing alice's key gets an order of her own, never alice's", async () => {
    const [alice, mallory] = [await trader('1000.00'), await trader('1000.00')]
    const key = newKey()
    const a = await post(alice.auth, buy(1), key)
    const m = await post(mallory.auth, buy(1), key)
    expect([a.status, m.status, m.replayed]).toEqual([201, 201, null])
    expect(m.body.id).not.toBe(a.body.id)
    const [mine] = await db.select().from(orders).where(and(eq(orders.id, m.body.id), eq(orders.userId, mallory.id)))
    expect(mine.idempotencyKey).toBe(key)
  })
})
