// Crash safety under wrangler dev: three traders with 2FA send a concurrent stream of crossing
// orders (AAPL and MSFT; limits, markets, cancels). In the middle of it the whole dev server
// (dev.ts, wrangler, workerd) is SIGKILLed and restarted on the same state; requests in flight
// fail and are retried with the same Idempotency-Key, as a client would. Postgres lives outside
// the killed processes (test/helpers/dev-server.ts, externalDb). Once the outbox drain has
// settled, the server is stopped and each symbol's Durable Object SQLite file is read offline:
//  - every acked order and every fill of an ack is in Postgres, each fill exactly once;
//  - Postgres' fills are exactly the fills of the books' event logs, and every order's status,
//    filled_qty and reservation agree with its fills and with what its book did with it;
//  - a fresh replay of each log (from its first command, not a snapshot) reproduces every logged
//    event and ends at the hash, seq and depth the live book reported (GET /v1/admin/books/:symbol)
//    — and passes through the hash the restarted book reported just after the restart;
//  - cash and positions are what the logged fills imply from the starting balances; trading
//    conserves total cash and total shares per symbol; reservations add up; nothing negative;
//    every trader's audit chain verifies.
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../scripts/lib/db.ts'
import { DEMO_USERS } from '../../src/db/seed.ts'
import { BookJournal } from '../../src/engine/journal.ts'
import type { BookState } from '../../src/engine/journal.ts'
import type { BookEvent, Command } from '../../src/engine/types.ts'
import { bookModule, newOrderBook } from '../../src/engine/wasm-file.ts'
import { formatCents } from '../../src/lib/money.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth, Json, Reply } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import { UNLIMITED } from '../helpers/rate-limit.ts'
import { sqliteStore } from '../helpers/sqlite-store.ts'

const SYMBOLS = { AAPL: 19_000, MSFT: 41_500 } as Record<string, number> // seed reference prices
const STREAM = 300 // orders and cancels
const WORKERS = 6 // requests in flight at once
const KILL_AFTER = 120 // finished requests before the crash

let dev: DevServer
let api: ReturnType<typeof apiClient>
let db: Awaited<ReturnType<typeof connect>>
let admin: Auth
const traders: { email: string; auth: Auth; id: number }[] = []

/** a read straight from Postgres */
const q = async <T = Json>(query: ReturnType<typeof sql>): Promise<T[]> =>
  (await db.db.execute(query)).rows as T[]
const num = (v: unknown) => Number(v)

/** what the client saw */
const acks = new Map<number, Json>() // order id → the 201 body
const cancels = new Map<number, number>() // order id → canceled_qty of a 200
const cutOffCancels = new Map<number, string>() // order id → the answer to a cut-off DELETE's retry
let networkErrors = 0 // attempts that died with the server
let serverErrors = 0 // 5xx answers
let retriedRequests = 0
let replayedAfterCrash = 0 // retried POSTs whose first attempt had reached the gateway: same order
let rejected = 0 // 422s (buying power, shares): the gateway refused, nothing reached the book
const restarted: Record<string, BookState> = {} // each book just after the restart
const auditChains: Json[] = []
const live: Record<string, BookState> = {}
const liveDepth: Record<string, Json> = {}
let before: { cash: Map<number, number>; pos: Map<string, { qty: number; cost: number }> }
interface LoggedCommand {
  seq: number
  op: string
  command: Command
  events: BookEvent[]
  fillsBefore: number
}
/** read from each symbol's Durable Object SQLite file once the server is down */
const logs: Record<string, { commands: LoggedCommand[]; outbox: number; restoredHash: string }> = {}

function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One request until it gets an answer that is not the crash's: network errors, 5xx, in flight. */
async function send(method: string, path: string, auth: Auth, body?: unknown, key?: string) {
  const until = Date.now() + 45_000
  let failed = false
  const answer = (res: Reply) => {
    if (failed) retriedRequests++
    if (failed && res.headers.get('idempotent-replayed') === 'true') replayedAfterCrash++
    if (failed && method === 'DELETE') {
      const id = Number(path.split('/').pop())
      cutOffCancels.set(id, `${res.status} ${res.body.code ?? res.body.status}`)
    }
    return res
  }
  for (;;) {
    let res: Reply | undefined
    try {
      res = await api.call(method, path, auth, body, key ? { 'idempotency-key': key } : {})
    } catch {
      networkErrors++ // connection refused or reset, or a non-JSON answer while workerd goes down
    }
    const retry =
      !res ||
      res.status >= 500 ||
      (res.status === 409 && res.body.code === 'idempotency_in_flight')
    if (!retry) return answer(res!)
    if (res && res.status >= 500) serverErrors++
    failed = true
    if (Date.now() > until) {
      throw new Error(`${method} ${path} kept failing: ${JSON.stringify(res?.body)}`)
    }
    await Bun.sleep(res?.status === 409 ? 500 : 100)
  }
}

/** The stream: a queue drained by WORKERS concurrent clients; the crash after KILL_AFTER answers. */
async function runStream() {
  const rand = rng(20260426)
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]
  const items = Array.from({ length: STREAM }, (_, i) => {
    const trader = pick(traders)
    if (i > 10 && rand() < 0.12) return { trader, cancel: true as const }
    const key = `crash-${i}`
    const symbol = pick(Object.keys(SYMBOLS))
    const side = pick(['buy', 'sell'])
    const qty = 1 + Math.floor(rand() * 25)
    if (rand() < 0.15) {
      return { trader, key, order: { symbol, side, type: 'market', qty, time_in_force: 'day' } }
    }
    // within ±1% of the reference, buys a little higher than sells: most orders cross
    const bias = side === 'buy' ? 0.4 : 0.6
    const offset = Math.round(((rand() - bias) * 0.02 * SYMBOLS[symbol]) / 5) * 5
    const price = formatCents(SYMBOLS[symbol] + offset)
    const tif = pick(['gtc', 'gtc', 'gtc', 'day', 'ioc'])
    return {
      trader,
      key,
      order: { symbol, side, type: 'limit', qty, price, time_in_force: tif },
    }
  })

  let next = 0
  let finished = 0
  let crash: Promise<void> | undefined
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]
      if ('cancel' in item) {
        // one of this trader's acked orders that may still rest
        const open = [...acks.values()].filter(
          (a) =>
            a.user === item.trader.id &&
            ['open', 'partial'].includes(a.status) &&
            !cancels.has(a.id),
        )
        if (open.length > 0) {
          const id = pick(open).id
          const res = await send('DELETE', `/v1/orders/${id}`, item.trader.auth)
          if (res.status === 200) cancels.set(id, res.body.canceled_qty)
          else expect([res.status, res.body.code]).toEqual([409, 'not_cancelable'])
        }
      } else {
        const res = await send('POST', '/v1/orders', item.trader.auth, item.order, item.key)
        if (res.status === 201) acks.set(res.body.id, { ...res.body, user: item.trader.id })
        else {
          expect(['insufficient_buying_power', 'insufficient_shares']).toContain(res.body.code)
          rejected++
        }
      }
      if (++finished === KILL_AFTER) {
        // SIGKILL the dev server's process group while the other workers' requests are in flight
        crash = dev.restart().then(async () => {
          for (const symbol of Object.keys(SYMBOLS)) restarted[symbol] = await bookState(symbol)
        })
      }
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker))
  await crash
}

const bookState = async (symbol: string): Promise<BookState> => {
  const { status, body } = await send('GET', `/v1/admin/books/${symbol}`, admin)
  expect(status).toBe(200)
  return { seq: body.seq, fillSeq: body.fill_seq, hash: body.hash, outbox: body.outbox }
}

/** until every order has its answer in Postgres and every book's outbox is drained into it */
async function settle() {
  const until = Date.now() + 45_000
  for (;;) {
    let pending = 0
    for (const t of traders) {
      pending += (await send('GET', '/v1/orders?status=pending', t.auth)).body.orders.length
    }
    let drained = pending === 0
    for (const symbol of Object.keys(SYMBOLS)) {
      live[symbol] = await bookState(symbol)
      const [{ last }] = await q<{ last: string }>(
        sql`SELECT coalesce(max(seq), 0) AS last FROM fills WHERE symbol = ${symbol}`,
      )
      drained &&= live[symbol].outbox === 0 && num(last) === live[symbol].fillSeq
    }
    if (drained) return
    if (Date.now() > until) {
      throw new Error(`not settled: ${pending} pending, ${JSON.stringify(live)}`)
    }
    await Bun.sleep(200)
  }
}

async function balances() {
  const cash = new Map<number, number>()
  for (const u of await q(sql`SELECT id, cash_cents FROM users`)) {
    cash.set(num(u.id), num(u.cash_cents))
  }
  const pos = new Map<string, { qty: number; cost: number }>()
  for (const p of await q(sql`SELECT user_id, symbol, qty, cost_cents FROM positions`)) {
    pos.set(`${p.user_id}:${p.symbol}`, { qty: num(p.qty), cost: num(p.cost_cents) })
  }
  return { cash, pos }
}

/** Reads every SymbolBook SQLite file: its log and outbox, and the hash a restore reaches. */
function readBookFiles() {
  const dir = join(dev.stateDir, 'wrangler/v3/do/bourse-SymbolBook')
  const files = readdirSync(dir).filter((f) => f.endsWith('.sqlite'))
  expect(files.length).toBeGreaterThanOrEqual(Object.keys(SYMBOLS).length)
  return files.map((file) => {
    const store = sqliteStore(new Database(join(dir, file)))
    try {
      const journaled = store.exec(`SELECT 1 FROM sqlite_master WHERE name = 'book_commands'`)
      if (journaled.length === 0) return { file, commands: [], outbox: 0, restoredHash: '' }
      const commands = store.exec('SELECT * FROM book_commands ORDER BY seq').map((r) => ({
        seq: r.seq as number,
        op: r.op as string,
        command: JSON.parse(r.command as string) as Command,
        events: JSON.parse(r.events as string) as BookEvent[],
        fillsBefore: r.fills_before as number,
      }))
      const [{ n }] = store.exec('SELECT COUNT(*) AS n FROM book_outbox')
      // what the Durable Object does when it starts: latest snapshot, then the log after it
      const journal = new BookJournal(store, bookModule())
      journal.open()
      return { file, commands, outbox: Number(n), restoredHash: journal.hash() }
    } finally {
      store.db.close()
    }
  })
}

beforeAll(async () => {
  dev = await startDevServer({ externalDb: true, env: UNLIMITED }) // 6 clients, 3 traders
  api = apiClient(dev.base)
  db = await connect(dev.databaseUrl!)
  admin = await api.login(DEMO_USERS[2].email)

  const carol = { email: `carol-${Date.now()}@example.com`, password: 'carol-long-password' }
  expect((await api.call('POST', '/v1/auth/register', {}, carol)).status).toBe(201)
  for (const [email, password] of [
    [DEMO_USERS[0].email, undefined],
    [DEMO_USERS[1].email, undefined],
    [carol.email, carol.password],
  ]) {
    const auth = await api.withTwoFactor(email!, password)
    const account = (await api.call('GET', '/v1/account', auth)).body
    traders.push({ email: email!, auth, id: num(account.id) })
    // sandbox funding, before the baseline: enough for every order to be accepted
    const deposit = await api.call('POST', '/v1/account/deposits', auth, { amount: '500000.00' })
    expect(deposit.status).toBe(201)
    for (const symbol of Object.keys(SYMBOLS)) {
      const lot = { symbol, qty: 1000, cost_basis: formatCents(1000 * SYMBOLS[symbol]) }
      expect((await api.call('POST', '/v1/account/transfers', auth, lot)).status).toBe(201)
    }
  }
  before = await balances()

  await runStream()
  await settle()
  for (const symbol of Object.keys(SYMBOLS)) {
    liveDepth[symbol] = (await send('GET', `/v1/book/${symbol}?depth=1000`, {})).body
  }
  // the live book must not move between the state read in settle() and the depth read
  for (const symbol of Object.keys(SYMBOLS)) expect(liveDepth[symbol].seq).toBe(live[symbol].seq)
  for (const t of traders) {
    const audit = await send('GET', '/v1/account/audit?limit=1&verify=true', t.auth)
    auditChains.push(audit.body.chain)
  }

  // stop the server to read the Durable Objects' files; Postgres stays up
  await dev.kill('SIGTERM')
  for (const book of readBookFiles()) {
    const first = book.commands.find((c) => c.op === 'new')
    if (!first) continue // not a book (metadata), or a book never sent an order
    const [{ symbol }] = await q<{ symbol: string }>(
      sql`SELECT symbol FROM orders WHERE id = ${(first.command as { id: number }).id}`,
    )
    expect(logs[symbol]).toBeUndefined()
    logs[symbol] = book
  }
}, 180_000)

afterAll(async () => {
  if (process.env.CRASH_TEST_DEBUG) console.error(dev?.output())
  await db?.close()
  await dev?.stop()
}, 30_000)

/** every fill of a log, numbered like the outbox (fill_seq), with the users of its orders */
function logFills(symbol: string) {
  const user = new Map<number, number>()
  const fills: (Extract<BookEvent, { type: 'fill' }> & { fillSeq: number })[] = []
  for (const c of logs[symbol].commands) {
    if (c.command.op === 'new') user.set(c.command.id, c.command.user)
    for (const e of c.events) {
      if (e.type === 'fill') fills.push({ fillSeq: fills.length + 1, ...e })
    }
  }
  return { fills, user }
}

describe('kill -9 of wrangler dev in the middle of a stream of orders', () => {
  test('the crash hit requests in flight, and the stream went on after the restart', () => {
    console.log(
      `crash: ${acks.size} orders acked, ${cancels.size} cancels, ${rejected} refused, ` +
        `${networkErrors} attempts cut off, ${serverErrors} 5xx, ${retriedRequests} requests retried ` +
        `to an answer (${replayedAfterCrash} of them orders placed before the crash); ` +
        `cancels cut off: ${JSON.stringify(Object.fromEntries(cutOffCancels))}`,
    )
    expect(networkErrors).toBeGreaterThan(0)
    expect(retriedRequests).toBeGreaterThan(0)
    expect(acks.size).toBeGreaterThan(STREAM / 2)
    expect(cancels.size).toBeGreaterThan(0)
    for (const symbol of Object.keys(SYMBOLS)) {
      // the restarted book came back with the commands from before the crash
      expect(restarted[symbol].seq).toBeGreaterThan(0)
      expect(live[symbol].seq).toBeGreaterThan(restarted[symbol].seq)
      expect(live[symbol].fillSeq).toBeGreaterThan(0)
      expect(logs[symbol]).toBeDefined()
    }
  })

  test('every acked order and every fill of an ack is in Postgres, each fill exactly once', async () => {
    const orders = new Map((await q(sql`SELECT * FROM orders`)).map((o) => [num(o.id), o]))
    for (const [id, ack] of acks) {
      const o = orders.get(id)
      expect(o).toBeDefined()
      expect([num(o!.user_id), o!.symbol, o!.side, num(o!.qty)]).toEqual([
        ack.user,
        ack.symbol,
        ack.side,
        ack.qty,
      ])
      expect(num(o!.filled_qty)).toBeGreaterThanOrEqual(ack.filled_qty)
      for (const f of ack.fills) {
        const rows = await q(
          sql`SELECT qty, price_cents, taker FROM fills
              WHERE symbol = ${ack.symbol} AND seq = ${f.fill_seq} AND order_id = ${id}`,
        )
        expect(rows.map((r) => [num(r.qty), formatCents(num(r.price_cents)), r.taker])).toEqual([
          [f.qty, f.price, f.liquidity === 'taker'],
        ])
      }
    }
    for (const [id] of cancels) expect(orders.get(id)!.status).toBe('canceled')
    const dup = await q(
      sql`SELECT symbol, seq, order_id FROM fills GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    )
    expect(dup).toEqual([])
  })

  test("Postgres' fills are exactly the fills of each book's log; the outboxes are empty", async () => {
    for (const symbol of Object.keys(SYMBOLS)) {
      expect(logs[symbol].outbox).toBe(0)
      const { fills, user } = logFills(symbol)
      const expected = fills.flatMap((f) => {
        const other = f.side === 'buy' ? 'sell' : 'buy'
        return [
          [f.fillSeq, f.taker, f.maker, user.get(f.taker), f.side, true, f.qty, f.price],
          [f.fillSeq, f.maker, f.taker, user.get(f.maker), other, false, f.qty, f.price],
        ]
      })
      const rows = await q(
        sql`SELECT seq, order_id, counterparty_order_id, user_id, side, taker, qty, price_cents
            FROM fills WHERE symbol = ${symbol} ORDER BY seq, taker DESC`,
      )
      const got = rows.map((r) => [
        num(r.seq),
        num(r.order_id),
        num(r.counterparty_order_id),
        num(r.user_id),
        r.side,
        r.taker,
        num(r.qty),
        num(r.price_cents),
      ])
      expect(got).toEqual(expected)
      expect(fills.length).toBe(live[symbol].fillSeq)
    }
  })

  test('a fresh replay of each log reproduces its events and the live book: hash, seq, depth', () => {
    for (const symbol of Object.keys(SYMBOLS)) {
      const book = newOrderBook()
      let fillSeq = 0
      let checkedRestart = false
      for (const [i, c] of logs[symbol].commands.entries()) {
        expect([c.seq, c.fillsBefore]).toEqual([i + 1, fillSeq])
        expect(book.apply(c.command)).toEqual(c.events)
        fillSeq += c.events.filter((e) => e.type === 'fill').length
        if (c.seq === restarted[symbol].seq) {
          // the book the restarted object restored (and maybe a few commands more)
          expect([book.hash(), fillSeq]).toEqual([
            restarted[symbol].hash,
            restarted[symbol].fillSeq,
          ])
          checkedRestart = true
        }
      }
      expect(checkedRestart).toBe(true)
      expect({ seq: logs[symbol].commands.length, fillSeq, hash: book.hash() }).toEqual({
        seq: live[symbol].seq,
        fillSeq: live[symbol].fillSeq,
        hash: live[symbol].hash,
      })
      expect(logs[symbol].restoredHash).toBe(live[symbol].hash)
      const level = ([price, qty, n]: number[]) => [formatCents(price), qty, n]
      const { bids, asks } = book.depth(1000)
      expect({ bids: liveDepth[symbol].bids, asks: liveDepth[symbol].asks }).toEqual({
        bids: bids.map(level),
        asks: asks.map(level),
      })
    }
  })

  /** Each order as Postgres has it and as its book's log says it should be. */
  async function ordersVersusBooks() {
    // what each book did with each order, from its log
    const book = new Map<number, { qty: number; filled: number; end?: string }>()
    for (const symbol of Object.keys(SYMBOLS)) {
      for (const c of logs[symbol].commands) {
        if (c.command.op === 'new') book.set(c.command.id, { qty: c.command.qty, filled: 0 })
        for (const e of c.events) {
          if (e.type === 'fill') {
            book.get(e.taker)!.filled += e.qty
            book.get(e.maker)!.filled += e.qty
          } else if (e.type === 'canceled') book.get(e.id)!.end = 'canceled'
          // a cancel of an order no longer in the book is rejected: the cancel, not the order
          else if (e.type === 'rejected' && c.op === 'new') book.get(e.id)!.end = 'rejected'
        }
      }
    }
    const orders = await q(
      sql`SELECT o.*, (SELECT coalesce(sum(qty), 0) FROM fills f WHERE f.order_id = o.id) AS fills_qty
          FROM orders o`,
    )
    expect(new Set(orders.map((o) => num(o.id)))).toEqual(new Set(book.keys()))
    return orders.map((o) => {
      const id = num(o.id)
      const qty = num(o.qty)
      const filled = num(o.filled_qty)
      const b = book.get(id)!
      const status = b.end ?? (b.filled === b.qty ? 'filled' : b.filled > 0 ? 'partial' : 'open')
      const open = ['open', 'partial'].includes(o.status) ? qty - filled : 0
      const reservePrice = num(o.reserve_price_cents ?? o.price_cents)
      return {
        id,
        postgres: {
          status: o.status,
          filled,
          fills: num(o.fills_qty),
          reservedCash: num(o.reserved_cash_cents),
          reservedQty: num(o.reserved_qty),
        },
        // filled_qty is its fills; what it holds is what its open quantity needs
        book: {
          status,
          filled: b.filled,
          fills: b.filled,
          reservedCash: o.side === 'buy' ? open * reservePrice : 0,
          reservedQty: o.side === 'sell' ? open : 0,
        },
      }
    })
  }

  test("every order's status, filled_qty and reservation agree with its fills and its book", async () => {
    const checked = (await ordersVersusBooks()).filter((o) => !cutOffCancels.has(o.id))
    expect(checked.length).toBeGreaterThan(STREAM / 2)
    for (const o of checked) expect({ id: o.id, ...o.postgres }).toEqual({ id: o.id, ...o.book })
  })

  // Apart from the test above, so that it names the failure: a DELETE cut off after the book
  // canceled the order but before Postgres released it. Its retry is 409 not_cancelable (the
  // book answers unknown_order), the order stays open in Postgres with what it held, and nothing
  // repairs it. Passes trivially in a run where no DELETE was in flight at the kill.
  test('an order whose DELETE the crash cut off ends as its book has it, reservation released', async () => {
    for (const o of await ordersVersusBooks()) {
      if (!cutOffCancels.has(o.id)) continue
      expect({ id: o.id, retry: cutOffCancels.get(o.id), ...o.postgres }).toEqual({
        id: o.id,
        retry: cutOffCancels.get(o.id),
        ...o.book,
      })
    }
  })

  test('cash and positions are what the fills imply; trading conserves cash and shares', async () => {
    const cash = new Map(before.cash)
    const pos = new Map([...before.pos].map(([k, v]) => [k, { ...v }]))
    for (const symbol of Object.keys(SYMBOLS)) {
      const { fills, user } = logFills(symbol)
      for (const f of fills) {
        const [buyer, seller] = f.side === 'buy' ? [f.taker, f.maker] : [f.maker, f.taker]
        const b = user.get(buyer)!
        const s = user.get(seller)!
        const notional = f.qty * f.price
        cash.set(b, cash.get(b)! - notional)
        cash.set(s, cash.get(s)! + notional)
        const bp = pos.get(`${b}:${symbol}`) ?? { qty: 0, cost: 0 }
        pos.set(`${b}:${symbol}`, { qty: bp.qty + f.qty, cost: bp.cost + notional })
        // the seller's cost goes down at its average cost, half up (src/orders/fills.ts)
        const sp = pos.get(`${s}:${symbol}`)!
        const out =
          f.qty === sp.qty ? sp.cost : Math.floor((2 * sp.cost * f.qty + sp.qty) / (2 * sp.qty))
        pos.set(`${s}:${symbol}`, { qty: sp.qty - f.qty, cost: sp.cost - out })
      }
    }
    const after = await balances()
    expect(Object.fromEntries(after.cash)).toEqual(Object.fromEntries(cash))
    expect(Object.fromEntries(after.pos)).toEqual(Object.fromEntries(pos))

    // conservation: every fill moves x·p of cash from buyer to seller and x shares the other way
    // (total cost is not conserved: a seller's cost leaves at its average cost, not at p)
    const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0)
    expect(sum(after.cash.values())).toBe(sum(before.cash.values()))
    for (const symbol of Object.keys(SYMBOLS)) {
      const shares = (m: typeof pos) =>
        sum([...m].filter(([k]) => k.endsWith(`:${symbol}`)).map(([, p]) => p.qty))
      expect(shares(after.pos)).toBe(shares(before.pos))
    }
    // and the traders did trade with each other
    expect(after.cash).not.toEqual(before.cash)
  })

  test("each trader's audit chain is whole", () => {
    expect(auditChains).toHaveLength(traders.length)
    for (const chain of auditChains) expect(chain).toMatchObject({ valid: true, broken_at: null })
  })

  test('reservations add up to the active orders; nothing is negative', async () => {
    const users = await q(
      sql`SELECT u.id, u.cash_cents, u.reserved_cash_cents,
            (SELECT coalesce(sum(reserved_cash_cents), 0) FROM orders o
              WHERE o.user_id = u.id AND o.status IN ('pending', 'open', 'partial')) AS held
          FROM users u`,
    )
    for (const u of users) {
      expect(num(u.reserved_cash_cents)).toBe(num(u.held))
      expect(num(u.reserved_cash_cents)).toBeGreaterThanOrEqual(0)
      expect(num(u.cash_cents)).toBeGreaterThanOrEqual(num(u.reserved_cash_cents))
    }
    const positions = await q(
      sql`SELECT p.qty, p.reserved_qty, p.cost_cents,
            (SELECT coalesce(sum(reserved_qty), 0) FROM orders o
              WHERE o.user_id = p.user_id AND o.symbol = p.symbol AND o.side = 'sell'
                AND o.status IN ('pending', 'open', 'partial')) AS held
          FROM positions p`,
    )
    for (const p of positions) {
      expect(num(p.reserved_qty)).toBe(num(p.held))
      expect(num(p.reserved_qty)).toBeGreaterThanOrEqual(0)
      expect(num(p.qty)).toBeGreaterThanOrEqual(num(p.reserved_qty))
      expect(num(p.cost_cents)).toBeGreaterThanOrEqual(0)
    }
  })
})
