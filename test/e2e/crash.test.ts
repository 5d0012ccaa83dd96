// Crash safety under wrangler dev: three traders with 2FA send a concurrent stream of crossing
// orders (AAPL and MSFT; limits, markets, cancels). In the middle of it the whole dev server
// (dev.ts, wrangler, workerd) is SIGKILLed and restarted on the same state; requests in flight
// fail and are retried with the same Idempotency-Key, as a client would. Postgres lives outside
// the killed processes (test/helpers/dev-server.ts, externalDb). Once the outbox drain has
// settled, the server is stopped and each symbol's Durable Object SQLite file is read offline
// for the checks the chaos harness also runs (scripts/lib/chaos/checks.ts; test/e2e/chaos.test.ts
// repeats this with faults of every kind):
//  - every acked order and every fill of an ack is in Postgres, each fill exactly once;
//  - Postgres' fills are exactly the fills of the books' event logs, and every order's status,
//    filled_qty and reservation agree with its fills and with what its book did with it;
//  - a fresh replay of each log (from its first command, not a snapshot) reproduces every logged
//    event and ends at the hash, seq and depth the live book reported (GET /v1/admin/books/:symbol)
//    — and passes through the hash the restarted book reported just after the restart;
//  - cash and positions are what the logged fills imply from the starting balances; trading
//    conserves total cash and total shares per symbol; reservations add up; nothing negative;
//    every trader's audit chain verifies.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { balances, readBookLogs, runChecks } from '../../scripts/lib/chaos/checks.ts'
import type { CheckResult, Observed } from '../../scripts/lib/chaos/checks.ts'
import { chaosClient } from '../../scripts/lib/chaos/client.ts'
import { seededRng } from '../../scripts/lib/chaos/rng.ts'
import { connect } from '../../scripts/lib/db.ts'
import { DEMO_USERS } from '../../src/db/seed.ts'
import type { BookState } from '../../src/engine/journal.ts'
import { formatCents } from '../../src/lib/money.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import { UNLIMITED } from '../helpers/rate-limit.ts'

const SYMBOLS = { AAPL: 19_000, MSFT: 41_500 } as Record<string, number> // seed reference prices
const STREAM = 300 // orders and cancels
const WORKERS = 6 // requests in flight at once
const KILL_AFTER = 120 // finished requests before the crash

let dev: DevServer
let client: ReturnType<typeof chaosClient>
let admin: Auth
const traders: { email: string; auth: Auth; id: number }[] = []
let rejected = 0 // 422s (buying power, shares): the gateway refused, nothing reached the book
let networkErrorsAtCrash = 0
const seen: Observed = {
  symbols: Object.keys(SYMBOLS),
  acks: new Map(),
  cancels: new Map(),
  amends: new Map(),
  checkpoints: {},
  live: {},
  liveDepth: {},
  before: { cash: new Map(), pos: new Map() },
  auditChains: [],
}
let checks: CheckResult[] = []

/** The stream: a queue drained by WORKERS concurrent clients; the crash after KILL_AFTER. */
async function runStream() {
  const rand = seededRng(20260426)
  const items = Array.from({ length: STREAM }, (_, i) => {
    const trader = rand.pick(traders)
    if (i > 10 && rand.chance(0.12)) return { trader, cancel: true as const }
    const key = `crash-${i}`
    const symbol = rand.pick(Object.keys(SYMBOLS))
    const side = rand.pick(['buy', 'sell'])
    const qty = 1 + rand.int(25)
    if (rand.chance(0.15)) {
      return { trader, key, order: { symbol, side, type: 'market', qty, time_in_force: 'day' } }
    }
    // within ±1% of the reference, buys a little higher than sells: most orders cross
    const bias = side === 'buy' ? 0.4 : 0.6
    const offset = Math.round(((rand.next() - bias) * 0.02 * SYMBOLS[symbol]) / 5) * 5
    const price = formatCents(SYMBOLS[symbol] + offset)
    const tif = rand.pick(['gtc', 'gtc', 'gtc', 'day', 'ioc'])
    return { trader, key, order: { symbol, side, type: 'limit', qty, price, time_in_force: tif } }
  })

  let next = 0
  let finished = 0
  let crash: Promise<void> | undefined
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]
      if ('cancel' in item) {
        // one of this trader's acked orders that may still rest
        const open = [...seen.acks.values()].filter(
          (a) =>
            a.user === item.trader.id &&
            ['open', 'partial'].includes(a.status) &&
            !seen.cancels.has(a.id),
        )
        if (open.length > 0) {
          const id = rand.pick(open).id
          const res = await client.send('DELETE', `/v1/orders/${id}`, item.trader.auth)
          if (res.status === 200) seen.cancels.set(id, res.body.canceled_qty)
          else expect([res.status, res.body.code]).toEqual([409, 'not_cancelable'])
        }
      } else {
        const res = await client.send('POST', '/v1/orders', item.trader.auth, {
          body: item.order,
          key: item.key,
        })
        if (res.status === 201) seen.acks.set(res.body.id, { ...res.body, user: item.trader.id })
        else {
          expect(['insufficient_buying_power', 'insufficient_shares']).toContain(res.body.code)
          rejected++
        }
      }
      if (++finished === KILL_AFTER) {
        // SIGKILL the dev server's process group while the other workers' requests are in flight
        networkErrorsAtCrash = client.stats.cutOff
        crash = dev.restart().then(async () => {
          for (const symbol of seen.symbols) seen.checkpoints[symbol] = [await bookState(symbol)]
        })
      }
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker))
  await crash
}

const bookState = async (symbol: string): Promise<BookState> => {
  const { status, body } = await client.send('GET', `/v1/admin/books/${symbol}`, admin)
  expect(status).toBe(200)
  return { seq: body.seq, fillSeq: body.fill_seq, hash: body.hash, outbox: body.outbox }
}

/** until every order has its answer in Postgres and every book's outbox is drained into it */
async function settle(db: Awaited<ReturnType<typeof connect>>['db']) {
  const until = Date.now() + 45_000
  for (;;) {
    let pending = 0
    for (const t of traders) {
      pending += (await client.send('GET', '/v1/orders?status=pending', t.auth)).body.orders.length
    }
    let drained = pending === 0
    for (const symbol of seen.symbols) {
      seen.live[symbol] = await bookState(symbol)
      const { rows } = await db.execute(
        sql`SELECT coalesce(max(seq), 0) AS last FROM fills WHERE symbol = ${symbol}`,
      )
      const { outbox, fillSeq } = seen.live[symbol]
      drained &&= outbox === 0 && Number(rows[0].last) === fillSeq
    }
    if (drained) return
    if (Date.now() > until) {
      throw new Error(`not settled: ${pending} pending, ${JSON.stringify(seen.live)}`)
    }
    await Bun.sleep(200)
  }
}

beforeAll(async () => {
  dev = await startDevServer({ externalDb: true, env: UNLIMITED }) // 6 clients, 3 traders
  const api = apiClient(dev.base)
  client = chaosClient(dev.base)
  const db = await connect(dev.databaseUrl!)
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
    traders.push({ email: email!, auth, id: Number(account.id) })
    // sandbox funding, before the baseline: enough for every order to be accepted
    const deposit = await api.call('POST', '/v1/account/deposits', auth, { amount: '500000.00' })
    expect(deposit.status).toBe(201)
    for (const symbol of seen.symbols) {
      const lot = { symbol, qty: 1000, cost_basis: formatCents(1000 * SYMBOLS[symbol]) }
      expect((await api.call('POST', '/v1/account/transfers', auth, lot)).status).toBe(201)
    }
  }
  try {
    seen.before = await balances(db.db)
    await runStream()
    await settle(db.db)
    for (const symbol of seen.symbols) {
      seen.liveDepth[symbol] = (await client.send('GET', `/v1/book/${symbol}?depth=1000`, {})).body
    }
    // the live book must not move between the state read in settle() and the depth read
    for (const symbol of seen.symbols) {
      expect(seen.liveDepth[symbol].seq).toBe(seen.live[symbol].seq)
    }
    for (const t of traders) {
      const audit = await client.send('GET', '/v1/account/audit?limit=1&verify=true', t.auth)
      seen.auditChains.push(audit.body.chain)
    }
    // stop the server to read the Durable Objects' files; Postgres stays up
    await dev.kill('SIGTERM')
    checks = await runChecks(db.db, seen, await readBookLogs(db.db, dev.stateDir))
  } finally {
    await db.close()
  }
}, 180_000)

afterAll(async () => {
  if (process.env.CRASH_TEST_DEBUG) console.error(dev?.output())
  await dev?.stop()
}, 30_000)

describe('kill -9 of wrangler dev in the middle of a stream of orders', () => {
  test('the crash hit requests in flight, and the stream went on after the restart', () => {
    const { cutOff, serverErrors, retried, replayed } = client.stats
    console.log(
      `crash: ${seen.acks.size} orders acked, ${seen.cancels.size} cancels, ${rejected} refused, ` +
        `${cutOff} attempts cut off, ${serverErrors} 5xx, ${retried} requests retried ` +
        `to an answer (${replayed} of them orders placed before the crash)`,
    )
    expect(cutOff).toBeGreaterThan(networkErrorsAtCrash)
    expect(retried).toBeGreaterThan(0)
    expect(seen.acks.size).toBeGreaterThan(STREAM / 2)
    expect(seen.cancels.size).toBeGreaterThan(0)
    for (const symbol of seen.symbols) {
      // the restarted book came back with the commands from before the crash
      expect(seen.checkpoints[symbol][0].seq).toBeGreaterThan(0)
      expect(seen.live[symbol].seq).toBeGreaterThan(seen.checkpoints[symbol][0].seq)
      expect(seen.live[symbol].fillSeq).toBeGreaterThan(0)
    }
  })

  test('every check of the chaos harness holds (scripts/lib/chaos/checks.ts)', () => {
    expect(checks.map((c) => c.name)).toContain('a fresh replay reproduces each book')
    for (const c of checks) {
      expect({ check: c.name, violations: c.violations }).toEqual({ check: c.name, violations: [] })
    }
  })
})
