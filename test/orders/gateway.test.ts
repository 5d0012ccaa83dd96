// The gateway in-process (app.request) with a symbol book of its own: the real journal and WASM
// book on bun:sqlite standing in for the Durable Object, which can be made to fail. What the
// wrangler dev tests cannot provoke: a book that does not answer, a retry that resolves the
// pending order, a cancel of a pending order, a reduce while fills are still in the outbox.
import { beforeAll, describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { updateUser } from '../../src/accounts/service.ts'
import { createApp } from '../../src/app.ts'
import { issueAccessToken } from '../../src/auth/tokens.ts'
import { orders, positions, symbols, users } from '../../src/db/schema.ts'
import { BookJournal } from '../../src/engine/journal.ts'
import { bookModule } from '../../src/engine/wasm-file.ts'
import { settingsFrom } from '../../src/env.ts'
import type { Env } from '../../src/env.ts'
import type { NewOrder } from '../../src/engine/types.ts'
import { OrderDesk, toProblem } from '../../src/orders/desk.ts'
import { marketClosed } from '../../src/orders/rules.ts'
import { orderBody } from '../../src/orders/schema.ts'
import type { DeskItem } from '../../src/orders/desk.ts'
import { applyFills } from '../../src/orders/fills.ts'
import { applyOrderEvents } from '../../src/orders/order-events.ts'
import { STALE_PENDING_MS, bookClients, cancelOrder, sweepPending } from '../../src/orders/service.ts'
import { sessionOf } from '../../src/settlement/calendar.ts'
import { testEnv, uniqueEmail } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'
import { formatCents, parseCents } from '../../src/lib/money.ts'
import { orderFixtures } from '../helpers/orders.ts'
import { sqliteStore } from '../helpers/sqlite-store.ts'

type Json = Record<string, any>

const journals = new Map<string, BookJournal>()
let down = false
function journal(symbol: string) {
  let j = journals.get(symbol)
  if (!j) {
    j = new BookJournal(sqliteStore(), bookModule())
    j.open()
    journals.set(symbol, j)
  }
  return j
}
const gate = async () => {
  await Bun.sleep(0)
  if (down) throw new Error('Durable Object unavailable')
}
/** the object itself does not answer (its RPC fails before it does anything) */
let unreachable = false
/** placeMany calls per symbol (one per symbol per batch) */
const batchCalls = new Map<string, number>()
const up = () => {
  if (down) throw new Error('Durable Object unavailable')
}
/** the order desk each symbol's object runs (one per object), on this test's database and book */
const desks = new Map<string, OrderDesk>()
function desk(symbol: string) {
  const book = {
    submit: (o: NewOrder) => (up(), journal(symbol).submit(o)),
    submitBatch: (os: NewOrder[]) => (up(), os.map((o) => journal(symbol).submit(o))),
    refuseUnseen: (os: NewOrder[]) => (up(), os.map((o) => journal(symbol).refuseUnseen(o))),
    pendingFills: (limit?: number) => journal(symbol).pendingFills(limit),
  }
  if (!desks.has(symbol)) desks.set(symbol, new OrderDesk(() => db, book))
  return desks.get(symbol)!
}
const SYMBOL_BOOK = {
  idFromName: (name: string) => name,
  get: (symbol: string) => ({
    // `down` fails the book inside the object, after the reservation (the desk's own path)
    place: async (userId: number, item: DeskItem) => {
      if (unreachable) throw new Error('Durable Object unreachable')
      return desk(symbol).place(userId, item)
    },
    placeMany: async (userId: number, items: DeskItem[]) => {
      batchCalls.set(symbol, (batchCalls.get(symbol) ?? 0) + 1)
      return desk(symbol).placeMany(userId, items)
    },
    placeClosed: async (userId: number, item: DeskItem) => desk(symbol).place(userId, item),
    placeManyClosed: async (userId: number, items: DeskItem[]) => desk(symbol).placeMany(userId, items),
    submit: async (o: never) => (await gate(), journal(symbol).submit(o)),
    submitBatch: async (os: never[]) => (await gate(), os.map((o) => journal(symbol).submit(o))),
    refuseUnseen: async (os: never[]) => (await gate(), os.map((o) => journal(symbol).refuseUnseen(o))),
    cancel: async (id: number) => (await gate(), journal(symbol).cancel(id)),
    amend: async (id: number, qty: number) => (await gate(), journal(symbol).amend(id, qty)),
    pendingFills: async (limit?: number) => (await gate(), journal(symbol).pendingFills(limit)),
  }),
}

let env: Env
const app = createApp()
let db: Awaited<ReturnType<typeof testDatabase>>['handle']['db']
const fixtures = orderFixtures(() => db)

beforeAll(async () => {
  env = { ...(await testEnv()), SYMBOL_BOOK } as unknown as Env
  db = (await testDatabase()).handle.db
}, 60_000)

async function trader(cash = '0') {
  const email = uniqueEmail('gw')
  const reg = await app.request(
    '/v1/auth/register',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery' }),
    },
    env,
  )
  const { id } = (await reg.json()) as { id: number }
  const token = await issueAccessToken(env, settingsFrom(env), id, ['pwd', 'otp'])
  const auth = { authorization: `Bearer ${token}` }
  if (cash !== '0') await call('POST', '/v1/account/deposits', auth, { amount: cash })
  return { id, auth }
}

async function call(method: string, path: string, auth: Json, body?: unknown, headers = {}) {
  const res = await app.request(
    path,
    {
      method,
      headers: { ...auth, ...headers, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    },
    env,
  )
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json }
}

async function newSymbol() {
  const symbol = await fixtures.newSymbol() // reference 150.00
  await db.update(symbols).set({ referencePriceCents: 15_000 }).where(eq(symbols.symbol, symbol))
  return symbol
}

const order = (symbol: string, side: string, qty: number, price: string) => ({
  symbol,
  side,
  type: 'limit',
  qty,
  price,
  time_in_force: 'gtc',
})

/** An order reserved while its book fails (503): left pending; its id. */
async function leftPending(auth: Json, body: Json): Promise<number> {
  down = true
  try {
    return (await call('POST', '/v1/orders', auth, body)).body.order_id
  } finally {
    down = false
  }
}

describe('the gateway with a book that can fail', () => {
  test('a book that does not answer: 503, the order stays pending with its reservation; the retry resolves it', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const key = { 'idempotency-key': `gw-${sym}` }
    down = true
    const failed = await call('POST', '/v1/orders', u.auth, order(sym, 'buy', 5, '150.00'), key)
    down = false
    expect(failed.status).toBe(503)
    expect(failed.body.code).toBe('book_unavailable')
    const id = failed.body.order_id
    const pending = await call('GET', `/v1/orders/${id}`, u.auth)
    expect(pending.body).toMatchObject({ status: 'pending', reserved_cash: '750.00' })
    expect((await call('GET', '/v1/account', u.auth)).body.reserved_cash).toBe('750.00')

    const retry = await call('POST', '/v1/orders', u.auth, order(sym, 'buy', 5, '150.00'), key)
    expect(retry.status).toBe(201)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(retry.body).toMatchObject({ id, status: 'open', open_qty: 5 })
    expect((await call('GET', `/v1/orders/${id}`, u.auth)).body.status).toBe('open')
    expect(journal(sym).depth().bids).toEqual([[15_000, 5, 1]])
  })

  test('an object that does not answer at all: 503, nothing reserved', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    unreachable = true
    const failed = await call('POST', '/v1/orders', u.auth, order(sym, 'buy', 5, '150.00'))
    unreachable = false
    expect(failed.status).toBe(503)
    expect(failed.body).toMatchObject({ code: 'book_unavailable', retry_after: 1 })
    expect((await call('GET', '/v1/orders', u.auth)).body.orders).toEqual([])
    expect((await call('GET', '/v1/account', u.auth)).body.reserved_cash).toBe('0.00')
    // not listed: refused by the Worker, no object involved
    unreachable = true
    const unknown = await call('POST', '/v1/orders', u.auth, order('NOPE', 'buy', 1, '1.00'))
    unreachable = false
    expect(unknown.body).toMatchObject({ code: 'unknown_symbol', symbol: 'NOPE' })
  })

  test('a request repeated while its first is being placed: 409 idempotency_in_flight at once; once answered, replayed', async () => {
    const sym = await newSymbol()
    const buyer = await trader('10000.00')
    for (const item of [
      { body: orderBody.parse(order(sym, 'buy', 1, '140.00')), idempotencyKey: 'in-flight-1' },
      { body: orderBody.parse({ ...order(sym, 'buy', 1, '140.00'), client_order_id: 'in-flight-2' }) },
    ]) {
      // the second call starts while the first waits on Postgres
      const [first, second] = await Promise.all([desk(sym).place(buyer.id, item), desk(sym).place(buyer.id, item)])
      expect(first.ok).toBe(true)
      expect(second).toMatchObject({ ok: false, problem: { status: 409, code: 'idempotency_in_flight' } })
      const again = await desk(sym).place(buyer.id, item)
      expect(again.ok && [again.placed.replayed, again.placed.order.id]).toEqual([true, first.ok && first.placed.order.id])
    }
  })

  test('a batch repeated while its first is being placed: only the orders under way are 409', async () => {
    const sym = await newSymbol()
    const buyer = await trader('10000.00')
    const item = (key: string) => ({ body: orderBody.parse(order(sym, 'buy', 1, '140.00')), idempotencyKey: key })
    const [first, second] = await Promise.all([
      desk(sym).placeMany(buyer.id, [item('batch-a'), item('batch-b')]),
      desk(sym).placeMany(buyer.id, [item('batch-a'), item('batch-c')]),
    ])
    expect(first.map((r) => r.ok)).toEqual([true, true])
    expect(second[0]).toMatchObject({ ok: false, problem: { status: 409, code: 'idempotency_in_flight' } })
    expect(second[1].ok && second[1].placed.replayed).toBe(false)
  })

  test('market closed: a new order is refused with it, a repeat of one placed before is replayed', async () => {
    const sym = await newSymbol()
    const buyer = await trader('10000.00')
    const body = orderBody.parse(order(sym, 'buy', 1, '140.00'))
    const first = await desk(sym).place(buyer.id, { body, idempotencyKey: 'closed-1' })
    expect(first.ok).toBe(true)
    const closed = toProblem(marketClosed(sym, new Date('2026-11-27T14:30:00Z')))
    const repeat = await desk(sym).place(buyer.id, { body, idempotencyKey: 'closed-1', closed })
    expect(repeat.ok && [repeat.placed.replayed, repeat.placed.order.id]).toEqual([true, first.ok && first.placed.order.id])
    const fresh = await desk(sym).place(buyer.id, { body, idempotencyKey: 'closed-2', closed })
    expect(fresh).toMatchObject({ ok: false, problem: { status: 422, code: 'market_closed' } })
    // reserved, but the book never got it (it did not answer); retried once the market closed:
    // not placed late, rejected market_closed, nothing held
    down = true
    await desk(sym).place(buyer.id, { body, idempotencyKey: 'closed-3' }).catch(() => {})
    down = false
    const late = await desk(sym).place(buyer.id, { body, idempotencyKey: 'closed-3', closed })
    expect(late.ok && [late.placed.replayed, late.placed.outcome.status, late.placed.outcome.reason]).toEqual([
      true, 'rejected', 'market_closed',
    ])
    expect((await call('GET', `/v1/orders/${late.ok && late.placed.order.id}`, buyer.auth)).body).toMatchObject({
      status: 'rejected', reserved_cash: '0.00',
    })
  })

  test('canceling a pending order the book never got, with the market closed: ended, never placed', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const id = await leftPending(u.auth, order(sym, 'buy', 2, '140.00'))
    const closed = await cancelOrder(db, bookClients(SYMBOL_BOOK as never), u.id, id, async () => false)
    expect(closed.canceledQty).toBe(0)
    expect(closed.order).toMatchObject({ status: 'rejected', reason: 'market_closed', reservedCashCents: 0 })
    expect(journal(sym).depth().bids).toEqual([])
  })

  test('canceling a pending order submits it first, then cancels and releases', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const id = await leftPending(u.auth, order(sym, 'buy', 2, '140.00'))
    const canceled = await call('DELETE', `/v1/orders/${id}`, u.auth)
    expect(canceled.status).toBe(200)
    expect(canceled.body).toMatchObject({
      status: 'canceled',
      canceled_qty: 2,
      reserved_cash: '0.00',
    })
    expect((await call('GET', '/v1/account', u.auth)).body.reserved_cash).toBe('0.00')
    expect(journal(sym).depth().bids).toEqual([])
  })

  test('reducing a partly filled sell whose fill is still in the outbox releases exactly the cut', async () => {
    const sym = await newSymbol()
    const seller = await trader()
    await fixtures.giveShares(seller.id, sym, 10, 150_000)
    const buyer = await trader('2000.00')
    const sell = await call('POST', '/v1/orders', seller.auth, order(sym, 'sell', 10, '150.00'))
    expect(sell.body.status).toBe('open')
    const buy = await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 4, '150.00'))
    expect(buy.body.status).toBe('filled')
    // the fill is in the book's outbox, not in Postgres: the book has 6 open, Postgres sees 10
    const cut = await call('PATCH', `/v1/orders/${sell.body.id}`, seller.auth, { qty: 3 })
    expect(cut.status).toBe(200)
    expect(cut.body).toMatchObject({ qty: 7, reduced_by: 3, reserved_qty: 7, open_qty: 3 })
    // the drain applies the fill: 4 of 7 filled, 3 shares still held for the 3 open
    await applyFills(db, sym, journal(sym).pendingFills())
    const after = (await call('GET', `/v1/orders/${sell.body.id}`, seller.auth)).body
    expect(after).toMatchObject({ status: 'partial', filled_qty: 4, qty: 7, reserved_qty: 3 })
    const [pos] = await db
      .select()
      .from(positions)
      .where(and(eq(positions.userId, seller.id), eq(positions.symbol, sym)))
    expect([pos.qty, pos.reservedQty]).toEqual([6, 3])
    // the rest fills: the order is filled and holds nothing
    const rest = await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 3, '150.00'))
    expect(rest.body.status).toBe('filled')
    await applyFills(db, sym, journal(sym).pendingFills())
    const done = (await call('GET', `/v1/orders/${sell.body.id}`, seller.auth)).body
    expect(done).toMatchObject({ status: 'filled', filled_qty: 7, reserved_qty: 0 })
  })

  test('an amend Postgres missed (a crash), then a cancel: the drain still releases the cut', async () => {
    // found by the chaos harness (seed 20260426): the cancel applied at once, the amend's cut
    // came later through the drain, to an order already canceled, and was kept for good
    const sym = await newSymbol()
    const buyer = await trader('10000.00')
    const before = (await call('GET', '/v1/account', buyer.auth)).body
    const buy = await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 17, '140.00'))
    expect(buy.body.status).toBe('open')
    journal(sym).amend(buy.body.id, 12) // the book cut 5; the gateway's transaction never committed
    const cancel = await call('DELETE', `/v1/orders/${buy.body.id}`, buyer.auth)
    expect(cancel.body).toMatchObject({ status: 'canceled', canceled_qty: 12 })
    await applyOrderEvents(db, sym, journal(sym).pendingOrderEvents())
    const after = (await call('GET', `/v1/orders/${buy.body.id}`, buyer.auth)).body
    expect(after).toMatchObject({ status: 'canceled', qty: 12, reserved_cash: '0.00' })
    expect((await call('GET', '/v1/account', buyer.auth)).body.reserved_cash).toBe(before.reserved_cash)
  })

  test('two PATCHes applied at once, then the drain: the first amend is not applied again, the rest of the outbox goes on', async () => {
    // found in review: the drain computed the first amend's cut against the quantity the second
    // had left (6 of 3 open), refused it, and every later event of the symbol waited behind it
    const sym = await newSymbol()
    const buyer = await trader('10000.00')
    const before = (await call('GET', '/v1/account', buyer.auth)).body
    const buy = await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 10, '150.00'))
    const other = await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 1, '150.00'))
    expect((await call('PATCH', `/v1/orders/${buy.body.id}`, buyer.auth, { qty: 6 })).status).toBe(200)
    expect((await call('PATCH', `/v1/orders/${buy.body.id}`, buyer.auth, { qty: 3 })).status).toBe(200)
    journal(sym).cancel(other.body.id) // a cancel whose gateway transaction never committed
    await applyOrderEvents(db, sym, journal(sym).pendingOrderEvents())
    expect((await call('GET', `/v1/orders/${buy.body.id}`, buyer.auth)).body).toMatchObject({
      status: 'open', qty: 3, reserved_cash: '450.00',
    })
    expect((await call('GET', `/v1/orders/${other.body.id}`, buyer.auth)).body).toMatchObject({
      status: 'canceled', reserved_cash: '0.00',
    })
    const account = (await call('GET', '/v1/account', buyer.auth)).body
    expect(account.reserved_cash).toBe(formatCents(parseCents(before.reserved_cash) + 45_000))
  })

  test('an amend Postgres missed, then a second PATCH: the second releases both cuts, the first nothing more', async () => {
    const sym = await newSymbol()
    const buyer = await trader('10000.00')
    const buy = await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 10, '150.00'))
    journal(sym).amend(buy.body.id, 6) // the book cut 4; the gateway's transaction never committed
    const second = await call('PATCH', `/v1/orders/${buy.body.id}`, buyer.auth, { qty: 3 })
    expect(second.body).toMatchObject({ qty: 3, reserved_cash: '450.00' })
    await applyOrderEvents(db, sym, journal(sym).pendingOrderEvents())
    expect((await call('GET', `/v1/orders/${buy.body.id}`, buyer.auth)).body).toMatchObject({
      status: 'open', qty: 3, reserved_cash: '450.00',
    })
  })

  test('an amend Postgres missed, then fills of all the rest: the order ends filled, holding nothing', async () => {
    const sym = await newSymbol()
    const seller = await trader()
    await fixtures.giveShares(seller.id, sym, 10, 150_000)
    const buyer = await trader('2000.00')
    const sell = await call('POST', '/v1/orders', seller.auth, order(sym, 'sell', 10, '150.00'))
    journal(sym).amend(sell.body.id, 4) // cut 6, missed by Postgres
    await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 4, '150.00'))
    await applyFills(db, sym, journal(sym).pendingFills())
    await applyOrderEvents(db, sym, journal(sym).pendingOrderEvents())
    const done = (await call('GET', `/v1/orders/${sell.body.id}`, seller.auth)).body
    expect(done).toMatchObject({ status: 'filled', qty: 4, filled_qty: 4, reserved_qty: 0 })
  })

  test('a stop triggered by another order: its IOC remainder is released from that ack', async () => {
    const sym = await newSymbol()
    const seller = await trader()
    await fixtures.giveShares(seller.id, sym, 6, 90_000)
    const stopper = await trader('2000.00')
    const other = await trader('1000.00')
    const stop = await call('POST', '/v1/orders', stopper.auth, {
      symbol: sym,
      side: 'buy',
      type: 'stop',
      qty: 10,
      stop_price: '151.00',
      time_in_force: 'ioc',
    })
    expect(stop.body).toMatchObject({ status: 'open', collar_price: '158.55' })
    expect((await call('GET', '/v1/account', stopper.auth)).body.reserved_cash).toBe('1585.50')
    await call('POST', '/v1/orders', seller.auth, order(sym, 'sell', 6, '151.00'))
    // a trade at 151.00 triggers the stop: it buys the 5 left, its other 5 are canceled (IOC)
    const trade = await call('POST', '/v1/orders', other.auth, order(sym, 'buy', 1, '151.00'))
    expect(trade.body.status).toBe('filled')
    await applyFills(db, sym, journal(sym).pendingFills())
    const done = (await call('GET', `/v1/orders/${stop.body.id}`, stopper.auth)).body
    expect(done).toMatchObject({ status: 'canceled', filled_qty: 5, reserved_cash: '0.00' })
    expect((await call('GET', '/v1/account', stopper.auth)).body).toMatchObject({
      reserved_cash: '0.00',
      cash: '1245.00', // 2000.00 − 5 × 151.00
    })
  })
})

describe('POST /v1/orders/batch', () => {
  const batch = (auth: Json, orders: unknown[], headers = {}) =>
    call('POST', '/v1/orders/batch', auth, { orders }, headers)

  test('each order gets its own result; one book call per symbol, in the batch order', async () => {
    const [a, b] = [await newSymbol(), await newSymbol()]
    const mm = await trader('10000.00')
    await fixtures.giveShares(mm.id, a, 10, 150_000)
    const res = await batch(mm.auth, [
      order(a, 'buy', 5, '149.00'),
      order(a, 'sell', 5, '151.00'),
      order(b, 'buy', 1, '200.00'), // outside the band
      { ...order(b, 'buy', 2, '150.00'), status: 'filled' }, // unknown field
      order(b, 'buy', 2, '150.00'),
      order(a, 'sell', 20, '152.00'), // more than held
      order(a, 'buy', 5, '151.00'), // would trade with its own sell of index 1
    ])
    expect(res.status).toBe(200)
    expect(res.body.results.map((r: Json) => r.status)).toEqual([201, 201, 422, 400, 201, 422, 201])
    expect(res.body).toMatchObject({ placed: 4, refused: 3 })
    const [, , band, unknown, , shares, cross] = res.body.results
    expect(band.error).toMatchObject({ code: 'price_out_of_band', band_high: '165.00' })
    expect(unknown.error).toMatchObject({
      code: 'invalid_request',
      errors: [{ path: 'status', message: 'unknown field' }],
    })
    expect(shares.error).toMatchObject({ code: 'insufficient_shares', held: 10, available: 5 })
    expect(cross.order).toMatchObject({ status: 'canceled', reason: 'self_trade', filled_qty: 0 })
    expect([batchCalls.get(a), batchCalls.get(b)]).toEqual([1, 1])
    expect(journal(a).depth().bids).toEqual([[14_900, 5, 1]])
    expect(journal(b).depth().bids).toEqual([[15_000, 2, 1]])
    // reserved: 5 × 149.00 + 2 × 150.00 (the self-trade's 5 × 151.00 released at once)
    const account = (await call('GET', '/v1/account', mm.auth)).body
    expect(account.reserved_cash).toBe('1045.00')
  })

  test('an Idempotency-Key replays every order of the batch, never a second one', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const key = { 'idempotency-key': `batch-${sym}` }
    const orders = [order(sym, 'buy', 1, '140.00'), order(sym, 'buy', 2, '141.00')]
    const first = await batch(u.auth, orders, key)
    const again = await batch(u.auth, orders, key)
    expect(again.body.results.map((r: Json) => [r.replayed, r.order.id])).toEqual(
      first.body.results.map((r: Json) => [true, r.order.id]),
    )
    const changed = await batch(u.auth, [orders[0], order(sym, 'buy', 3, '141.00')], key)
    expect(changed.body.results.map((r: Json) => r.status)).toEqual([201, 422])
    expect(changed.body.results[1].error.code).toBe('idempotency_mismatch')
    expect(journal(sym).depth().bids).toEqual([
      [14_100, 2, 1],
      [14_000, 1, 1],
    ])
  })

  test('a book that does not answer fails its own orders only (503, pending); the retry places them', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const key = { 'idempotency-key': `batch-down-${sym}` }
    down = true
    const failed = await batch(u.auth, [order(sym, 'buy', 1, '140.00'), order('NOPE', 'buy', 1, '1.00')], key)
    down = false
    expect(failed.body.results.map((r: Json) => [r.status, r.error.code])).toEqual([
      [503, 'book_unavailable'],
      [422, 'unknown_symbol'],
    ])
    const retry = await batch(u.auth, [order(sym, 'buy', 1, '140.00')], key)
    expect(retry.body.results[0]).toMatchObject({ status: 201, replayed: true })
    expect(retry.body.results[0].order).toMatchObject({
      id: failed.body.results[0].error.order_id,
      status: 'open',
    })
  })

  test('the envelope: 1 to 50 orders, nothing else', async () => {
    const u = await trader()
    const sym = await newSymbol()
    expect((await batch(u.auth, [])).status).toBe(400)
    const many = Array.from({ length: 51 }, () => order(sym, 'buy', 1, '140.00'))
    const tooMany = await batch(u.auth, many)
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.errors[0].path).toBe('orders')
    const extra = await call('POST', '/v1/orders/batch', u.auth, { orders: [], user_id: 1 })
    expect(extra.status).toBe(400)
  })
})

describe('the pattern-day-trader rule', () => {
  /** a new symbol, a trader with `cash`, and a counterparty holding 10 shares (its own day trades never limited) */
  async function market(cash: string) {
    const sym = await newSymbol()
    const u = await trader(cash)
    const mm = await trader('30000.00')
    await fixtures.giveShares(mm.id, sym, 10, 150_000)
    return { sym, u, mm }
  }

  /** a round trip by `u` against `mm`: buy 1 at 150.00, then sell it back; fills applied */
  async function roundTrip(sym: string, u: Json, mm: Json) {
    await call('POST', '/v1/orders', mm.auth, order(sym, 'sell', 1, '150.00'))
    expect((await call('POST', '/v1/orders', u.auth, order(sym, 'buy', 1, '150.00'))).body.status).toBe('filled')
    await applyFills(db, sym, journal(sym).pendingFills())
    await call('POST', '/v1/orders', mm.auth, order(sym, 'buy', 1, '150.00'))
    const sell = await call('POST', '/v1/orders', u.auth, order(sym, 'sell', 1, '150.00'))
    await applyFills(db, sym, journal(sym).pendingFills())
    return sell
  }

  test('under $25,000 equity, the 4th day trade in 5 trading days is refused with its numbers', async () => {
    const { sym, u, mm } = await market('10000.00')
    for (let i = 0; i < 3; i++) expect((await roundTrip(sym, u, mm)).body.status).toBe('filled')
    const fourth = await roundTrip(sym, u, mm)
    expect(fourth.status).toBe(422)
    expect(fourth.body).toMatchObject({
      code: 'day_trade_limit',
      day_trades_used: 3,
      day_trades_remaining: 0,
      max_day_trades: 3,
      window_days: 5,
      equity: '10000.00',
      min_equity: '25000.00',
    })
    // the share bought today is still held, and nothing was reserved for the refused sell
    const [pos] = await db
      .select()
      .from(positions)
      .where(and(eq(positions.userId, u.id), eq(positions.symbol, sym)))
    expect([pos.qty, pos.reservedQty]).toEqual([1, 0])
  })

  /**
   * `u` holds 4 shares overnight, sells one and buys it back three times (three day trades), then
   * sells one more (its fill left in the outbox unless `applied`) and tries to buy it back
   */
  async function fourthBuyBack(applied: boolean) {
    const { sym, u, mm } = await market('10000.00')
    await fixtures.giveShares(u.id, sym, 4, 60_000) // counted as held overnight
    /** `u` trades 1 share at 150.00 against `mm` */
    const trade = async (side: 'buy' | 'sell', apply = true) => {
      await call('POST', '/v1/orders', mm.auth, order(sym, side === 'buy' ? 'sell' : 'buy', 1, '150.00'))
      const placed = await call('POST', '/v1/orders', u.auth, order(sym, side, 1, '150.00'))
      if (apply) await applyFills(db, sym, journal(sym).pendingFills())
      return placed
    }
    // each sell takes an overnight share (no day trade); each buy back is one
    for (let i = 0; i < 3; i++) {
      expect((await trade('sell')).body.status).toBe('filled')
      expect((await trade('buy')).body.status).toBe('filled')
    }
    expect((await trade('sell', applied)).body.status).toBe('filled')
    return trade('buy')
  }

  test('buying back shares held overnight and sold today is a day trade too: the 4th is refused', async () => {
    const fourth = await fourthBuyBack(true)
    expect(fourth.status).toBe(422)
    expect(fourth.body).toMatchObject({ code: 'day_trade_limit', day_trades_used: 3, day_trades_remaining: 0 })
    expect(fourth.body.detail).toContain('This buy would be a day trade')
  })

  test('a fill still in the outbox counts: the sale the drain has not applied yet makes the buy back the 4th', async () => {
    const fourth = await fourthBuyBack(false)
    expect(fourth.status).toBe(422)
    expect(fourth.body).toMatchObject({ code: 'day_trade_limit', day_trades_used: 3 })
  })

  test('with 3 day trades used, sales of shares held overnight before any purchase are not day trades', async () => {
    const { sym, u, mm } = await market('10000.00')
    for (let i = 0; i < 3; i++) expect((await roundTrip(sym, u, mm)).body.status).toBe('filled')
    // round trips pair every share they bought; these 10 were held before (a transfer in)
    await fixtures.giveShares(u.id, sym, 10, 150_000)
    await call('POST', '/v1/orders', mm.auth, order(sym, 'buy', 10, '150.00'))
    // the first sale's fill is left in the outbox: it must not count against the second
    expect((await call('POST', '/v1/orders', u.auth, order(sym, 'sell', 5, '150.00'))).body.status).toBe('filled')
    const second = await call('POST', '/v1/orders', u.auth, order(sym, 'sell', 5, '150.00'))
    expect([second.status, second.body.status]).toEqual([201, 'filled'])
  })

  test('equity of $25,000 or more, or shares held overnight: no limit', async () => {
    const { sym, u: rich, mm } = await market('30000.00')
    for (let i = 0; i < 4; i++) expect((await roundTrip(sym, rich, mm)).body.status).toBe('filled')

    const holder = await trader('1000.00')
    await fixtures.giveShares(holder.id, sym, 5, 75_000) // counted as held overnight
    await call('POST', '/v1/orders', mm.auth, order(sym, 'buy', 5, '150.00'))
    const sell = await call('POST', '/v1/orders', holder.auth, order(sym, 'sell', 5, '150.00'))
    expect(sell.body.status).toBe('filled')
  })
})

describe('market makers sell short within their limit', () => {
  test('short, refused beyond the limit, covered at a profit: positions and cash exact', async () => {
    const sym = await newSymbol()
    const mm = await trader('10000.00')
    await db.update(users).set({ role: 'market_maker', shortLimitQty: 100 }).where(eq(users.id, mm.id))
    const buyer = await trader('20000.00')
    const seller = await trader()
    await fixtures.giveShares(seller.id, sym, 60, 900_000)

    const short = await call('POST', '/v1/orders', mm.auth, order(sym, 'sell', 60, '150.00'))
    expect(short.body.status).toBe('open')
    const beyond = await call('POST', '/v1/orders', mm.auth, order(sym, 'sell', 41, '151.00'))
    expect(beyond.status).toBe(422)
    expect(beyond.body).toMatchObject({ code: 'insufficient_shares', available: 40, short_limit: 100 })

    await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 60, '150.00'))
    await applyFills(db, sym, journal(sym).pendingFills())
    const shortPos = (await call('GET', `/v1/positions/${sym}`, mm.auth)).body
    expect(shortPos).toMatchObject({ qty: -60, avg_cost: '150.00', cost_basis: '-9000.00' })
    // the limit cannot drop below the open short
    await expect(updateUser(db, mm.id, mm.id, { short_limit: 59 })).rejects.toMatchObject({
      code: 'short_position_open',
    })

    // covers at 140.00: 600.00 gained
    await call('POST', '/v1/orders', seller.auth, order(sym, 'sell', 60, '140.00'))
    const cover = await call('POST', '/v1/orders', mm.auth, order(sym, 'buy', 60, '140.00'))
    expect(cover.body.status).toBe('filled')
    await applyFills(db, sym, journal(sym).pendingFills())
    const flat = (await call('GET', `/v1/positions/${sym}`, mm.auth)).body
    expect(flat).toMatchObject({ qty: 0, cost_basis: '0.00' })
    expect((await call('GET', '/v1/account', mm.auth)).body).toMatchObject({
      cash: '10600.00',
      reserved_cash: '0.00',
    })
  })

  test('retail accounts still cannot sell what they do not hold', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const res = await call('POST', '/v1/orders', u.auth, order(sym, 'sell', 1, '150.00'))
    expect(res.body).toMatchObject({ code: 'insufficient_shares', available: 0, short_limit: 0 })
  })
})

describe('the pending-order sweeper', () => {
  const open = async () => true

  test('submits orders left pending once they are stale, and records what the book did', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const seller = await trader()
    await fixtures.giveShares(seller.id, sym, 3, 45_000)
    await call('POST', '/v1/orders', seller.auth, order(sym, 'sell', 3, '150.00'))
    const id = await leftPending(u.auth, order(sym, 'buy', 5, '150.00'))
    const books = bookClients(SYMBOL_BOOK as never)
    // not stale yet: left for the client's retry
    expect(await sweepPending(db, books, open)).toEqual({ stale: 0, resolved: 0 })
    // 3 fill against the resting sell, 2 rest (other tests' abandoned orders are swept too)
    const later = Date.now() + STALE_PENDING_MS + 1
    const first = await sweepPending(db, books, open, later)
    expect(first.resolved).toBe(first.stale)
    expect(first.resolved).toBeGreaterThanOrEqual(1)
    await applyFills(db, sym, journal(sym).pendingFills())
    const swept = (await call('GET', `/v1/orders/${id}`, u.auth)).body
    expect(swept).toMatchObject({ status: 'partial', filled_qty: 3, reserved_cash: '300.00' })
    expect(await sweepPending(db, books, open, later)).toEqual({ stale: 0, resolved: 0 })
  })

  test('an order the book never got is not placed late: market closed, or a DAY order of an earlier day', async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const pending = (tif: string) => leftPending(u.auth, { ...order(sym, 'buy', 1, '140.00'), time_in_force: tif })
    const [never, got, yesterday] = [await pending('gtc'), await pending('gtc'), await pending('day')]
    // the book got this one, Postgres never heard back
    journal(sym).submit({ id: got, user: u.id, side: 'buy', type: 'limit', qty: 1, price: 14_000, tif: 'GTC' })
    const dayBefore = new Date(Date.now() - 2 * 86_400_000)
    await db.update(orders).set({ createdAt: dayBefore, updatedAt: dayBefore }).where(eq(orders.id, yesterday))
    const books = bookClients(SYMBOL_BOOK as never)
    const later = Date.now() + STALE_PENDING_MS + 1
    // the market open: yesterday's DAY order is not placed today
    await sweepPending(db, books, open, later)
    expect((await call('GET', `/v1/orders/${yesterday}`, u.auth)).body).toMatchObject({
      status: 'rejected', reason: 'market_closed', reserved_cash: '0.00',
    })
    expect((await call('GET', `/v1/orders/${got}`, u.auth)).body.status).toBe('open')
    expect((await call('GET', `/v1/orders/${never}`, u.auth)).body.status).toBe('open') // placed: on time
    // the market closed: a pending order the book has keeps its outcome, one it has not is refused
    const other = await trader('1000.00')
    const closedNever = await leftPending(other.auth, order(sym, 'buy', 2, '140.00'))
    await sweepPending(db, books, async () => false, Date.now() + STALE_PENDING_MS + 1)
    expect((await call('GET', `/v1/orders/${closedNever}`, other.auth)).body).toMatchObject({
      status: 'rejected', reason: 'market_closed', reserved_cash: '0.00',
    })
    expect((await call('GET', '/v1/account', other.auth)).body.reserved_cash).toBe('0.00')
    // and it never reaches the book, even submitted again
    const again = journal(sym).submit({ id: closedNever, user: other.id, side: 'buy', type: 'limit', qty: 2, price: 14_000, tif: 'GTC' })
    expect(again.events).toEqual([{ type: 'rejected', id: closedNever, reason: 'market_closed' }])
    expect(journal(sym).depth().bids).toHaveLength(1) // got and never, both at 140.00
  })

  test("a DAY order is late from its day's regular close, not from midnight", async () => {
    const sym = await newSymbol()
    const u = await trader('1000.00')
    const place = () => leftPending(u.auth, { ...order(sym, 'buy', 1, '140.00'), time_in_force: 'day' })
    const [beforeClose, afterClose] = [await place(), await place()]
    const close = sessionOf('2026-11-25')!.close.getTime() // 16:00 New York
    const at = async (id: number, ms: number) =>
      db.update(orders).set({ createdAt: new Date(ms), updatedAt: new Date(ms) }).where(eq(orders.id, id))
    await at(beforeClose, close - 30_000)
    await at(afterClose, close + 7 * 3_600_000) // 23:00: it lives to the next trading day's close
    // swept at 00:10 the next day (the market open, as for extended hours or MARKET_ALWAYS_OPEN)
    await sweepPending(db, bookClients(SYMBOL_BOOK as never), open, close + 8 * 3_600_000 + 600_000)
    expect((await call('GET', `/v1/orders/${beforeClose}`, u.auth)).body).toMatchObject({
      status: 'rejected', reason: 'market_closed',
    })
    expect((await call('GET', `/v1/orders/${afterClose}`, u.auth)).body.status).toBe('open')
  })
})

describe('market orders', () => {
  test('the collar follows the last trade in Postgres', async () => {
    const sym = await newSymbol() // reference 150.00
    const buyer = await trader('5000.00')
    const seller = await trader()
    await fixtures.giveShares(seller.id, sym, 10, 150_000)
    const first = await call('POST', '/v1/orders', buyer.auth, { symbol: sym, side: 'buy', type: 'market', qty: 1, time_in_force: 'ioc' })
    expect(first.body).toMatchObject({ collar_price: '157.50', status: 'canceled' }) // nothing to buy
    await call('POST', '/v1/orders', seller.auth, order(sym, 'sell', 1, '140.00'))
    await call('POST', '/v1/orders', buyer.auth, order(sym, 'buy', 1, '140.00'))
    await applyFills(db, sym, journal(sym).pendingFills())
    const next = await call('POST', '/v1/orders', buyer.auth, { symbol: sym, side: 'buy', type: 'market', qty: 1, time_in_force: 'ioc' })
    expect(next.body.collar_price).toBe('147.00')
  })
})

describe('one account, many orders at once', () => {
  test('concurrent placements of one account all land (a conflict is read again, then locked): reservations exact', async () => {
    const symbols = [await newSymbol(), await newSymbol(), await newSymbol()]
    const u = await trader('100000.00')
    const placed = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        call('POST', '/v1/orders', u.auth, order(symbols[i % 3], 'buy', 1, '140.00')),
      ),
    )
    expect(placed.map((r) => r.status)).toEqual(Array(120).fill(201))
    expect((await call('GET', '/v1/account', u.auth)).body.reserved_cash).toBe('16800.00')
  })
})
