// End of day under wrangler dev: closing a trading day expires every book's DAY orders (their
// reservations released, status expired), keeps GTC orders, and a second run changes nothing;
// `npm run eod` takes the same path. And market hours: with MARKET_ALWAYS_OPEN=0, an order
// outside its symbol's hours is refused with market_closed.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { confirm } from '../../scripts/lib/clearinghouse.ts'
import { DEMO_USERS } from '../../src/db/seed.ts'
import { tradingHours } from '../../src/settlement/calendar.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth, Json } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'

let dev: DevServer
let api: ReturnType<typeof apiClient>
let alice: Auth
let bob: Auth
let admin: Auth

const order = (auth: Auth, side: string, qty: number, price: string, tif: string) =>
  api.call('POST', '/v1/orders', auth, { symbol: 'AAPL', side, type: 'limit', qty, price, time_in_force: tif })

/** the order once Postgres shows `status` (the drain applies the expiry) */
async function until(auth: Auth, id: number, status: string): Promise<Json> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const { body } = await api.call('GET', `/v1/orders/${id}`, auth)
    if (body.status === status || Date.now() > deadline) return body
    await Bun.sleep(50)
  }
}

beforeAll(async () => {
  dev = await startDevServer()
  api = apiClient(dev.base)
  ;({ alice, bob, admin } = await api.demoTraders())
}, 90_000)

afterAll(async () => {
  await dev?.stop()
}, 30_000)

describe('end of day', () => {
  test('DAY orders expire and release what they held, GTC orders stay; once per date', async () => {
    const before = (await api.call('GET', '/v1/account', alice)).body
    const day = await order(alice, 'buy', 10, '140.00', 'day')
    const gtc = await order(alice, 'buy', 5, '141.00', 'gtc')
    const daySell = await order(bob, 'sell', 3, '160.00', 'day')
    for (const o of [day, gtc, daySell]) expect(o.body.status).toBe('open')
    expect((await api.call('GET', '/v1/account', alice)).body.reserved_cash).toBe('2105.00')

    // a past trading day whose close has passed (the day before Thanksgiving 2026)
    const run = await api.call('POST', '/v1/admin/eod', admin, { date: '2026-11-25' })
    expect(run.status).toBe(200)
    expect(run.body).toMatchObject({ date: '2026-11-25', ran: true, expired: 2 })

    expect(await until(alice, day.body.id, 'expired')).toMatchObject({ status: 'expired', reserved_cash: '0.00' })
    expect(await until(bob, daySell.body.id, 'expired')).toMatchObject({ status: 'expired', reserved_qty: 0 })
    expect((await api.call('GET', `/v1/orders/${gtc.body.id}`, alice)).body.status).toBe('open')
    const after = (await api.call('GET', '/v1/account', alice)).body
    expect(after.reserved_cash).toBe('705.00') // the GTC buy's 5 × 141.00
    expect(after.cash).toBe(before.cash)
    const book = (await api.call('GET', '/v1/book/AAPL', alice)).body
    expect(book.bids).toEqual([['141.00', 5, 1]])
    expect(book.asks).toEqual([])

    // again, by the API and by `npm run eod`: nothing changes
    const again = await api.call('POST', '/v1/admin/eod', admin, { date: '2026-11-25' })
    expect(again.body).toMatchObject({ ran: false, expired: 2 })
    const cli = execFileSync('node_modules/.bin/tsx', ['scripts/eod.ts', '--url', dev.base, '--date', '2026-11-25'])
    expect(JSON.parse(cli.toString())).toMatchObject({ date: '2026-11-25', ran: false })
    expect((await api.call('GET', '/v1/admin/books/AAPL', admin)).body.seq).toBe(book.seq)
  })

  test('the closed day’s clearing submission downloads as CSV, the same each time', async () => {
    const url = `${dev.base}/v1/admin/settlement/2026-11-25/submission`
    const res = await fetch(url, { headers: admin })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/csv')
    expect(res.headers.get('x-settle-date')).toBe('2026-11-27') // T+1 over Thanksgiving
    const csv = await res.text()
    const lines = csv.trimEnd().split('\n')
    expect(lines[0]).toBe('trade_date,settle_date,account,symbol,net_qty,net_amount')
    expect(lines.at(-1)).toMatch(new RegExp(`^TRAILER,${lines.length - 2},\\d+,0\\.00,${res.headers.get('x-checksum-sha256')}$`))
    expect(await (await fetch(url, { headers: admin })).text()).toBe(csv)
    const open = await api.call('GET', '/v1/admin/settlement/2026-11-24/submission', admin)
    expect(open.status).toBe(409)
    expect(open.body.code).toBe('day_not_closed')
  })

  test('the clearinghouse’s confirmations: reconciled, queued, resolved once by an admin', async () => {
    const base = `${dev.base}/v1/admin/settlement/2026-11-25`
    const submission = await (await fetch(`${base}/submission`, { headers: admin })).text()
    const demo = await api.call('GET', '/v1/account', alice)
    const file = confirm(submission, {
      extra: { account: demo.body.id, symbol: 'AAPL', qty: 7, amount: '-1050.00', dates: ['2026-11-25', '2026-11-27'] },
    })
    const post = (body: string, headers: Auth = admin, type = 'text/csv') =>
      fetch(`${base}/confirmations`, { method: 'POST', headers: { ...headers, 'content-type': type }, body })

    expect((await post(file, alice)).status).toBe(404)
    const json = await post(file, admin, 'application/json')
    expect([json.status, ((await json.json()) as Json).code]).toEqual([415, 'unsupported_media_type'])
    const first = await post(file)
    expect(first.status).toBe(201)
    const result = (await first.json()) as Json
    const extra = result.discrepancies.find((x: Json) => x.account === String(demo.body.id))
    expect(extra).toMatchObject({ kind: 'extra', symbol: 'AAPL', expected: null, status: 'open' })
    expect(extra.confirmed).toEqual({ qty: 7, amount: '-1050.00', settle_date: '2026-11-27' })
    const again = await post(file)
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([200, 'true'])
    const other = await post(confirm(submission))
    expect([other.status, ((await other.json()) as Json).code]).toEqual([409, 'confirmations_already_received'])

    const queue = await api.call('GET', '/v1/admin/settlement/discrepancies?date=2026-11-25', admin)
    expect(queue.body.discrepancies.map((x: Json) => x.id)).toContain(extra.id)
    const resolve = (action: string, note = 'checked with the clearinghouse') =>
      api.call('POST', `/v1/admin/settlement/discrepancies/${extra.id}/resolution`, admin, { action, note })
    expect((await resolve('settle')).body.code).toBe('nothing_to_settle')
    expect((await resolve('close', '')).status).toBe(400)
    const closed = await resolve('close', 'not an obligation of ours')
    expect(closed.body).toMatchObject({ status: 'resolved', resolution: 'closed', note: 'not an obligation of ours' })
    expect((await resolve('close')).body.code).toBe('already_resolved')

    const day = await api.call('GET', '/v1/admin/settlement/2026-11-25', admin)
    expect(day.body).toMatchObject({ trade_date: '2026-11-25', open_discrepancies: 0 })
    expect(day.body.confirmations).toMatchObject({ checksum: result.checksum })
  })

  test('position reconciliation on demand: the demo accounts reconcile', async () => {
    const run = await api.call('POST', '/v1/admin/reconciliation', admin)
    expect(run.status).toBe(201)
    expect(run.body.accounts).toBeGreaterThanOrEqual(3)
    const demoIds = await Promise.all([alice, bob].map(async (a) => (await api.call('GET', '/v1/account', a)).body.id))
    expect(run.body.details.filter((x: Json) => demoIds.includes(x.account))).toEqual([])
    const runs = await api.call('GET', '/v1/admin/reconciliation?limit=1', admin)
    expect(runs.body.runs[0].id).toBe(run.body.id)
    expect((await api.call('POST', '/v1/admin/reconciliation', alice)).status).toBe(404)
  })

  test('admin actions land in the admin’s audit chain, with where the request came from', async () => {
    const symbol = `AU${Date.now().toString(36).slice(-4).toUpperCase()}`
    const listed = await api.call('POST', '/v1/admin/symbols', admin, { symbol, name: 'Audit Co', reference_price: '10.00' })
    expect(listed.status).toBe(201)
    const patched = await api.call('PATCH', `/v1/admin/symbols/${symbol}`, admin, { reference_price: '11.00' })
    expect(patched.status).toBe(200)
    const audit = await api.call('GET', '/v1/account/audit?verify=1&limit=5', admin)
    expect(audit.body.chain.valid).toBe(true)
    const [updated, created] = audit.body.entries
    expect(created).toMatchObject({ action: 'admin.symbol_listed', data: { symbol, reference_price: '10.00' } })
    expect(updated).toMatchObject({
      action: 'admin.symbol_updated',
      data: { fields: ['reference_price'], after: { symbol, reference_price: '11.00' } },
    })
    // an order is placed inside the symbol's object: the origin crosses with it
    const trail = await api.call('GET', '/v1/account/audit?limit=50', alice)
    const placed = trail.body.entries.find((e: Json) => e.action === 'order.placed')
    for (const entry of [created, updated, placed]) {
      expect(entry.data.origin).toEqual({
        request_id: expect.any(String),
        ip: '127.0.0.1',
        user_agent: expect.stringMatching(/bun/i),
      })
    }
    // a request id the client sends follows its order into the audit trail, and comes back
    const traced = await fetch(`${dev.base}/v1/orders`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json', 'x-request-id': 'trace-order-0001' },
      body: JSON.stringify({ symbol: 'AAPL', side: 'buy', type: 'limit', qty: 1, price: '149.00', time_in_force: 'day' }),
    })
    expect([traced.status, traced.headers.get('x-request-id')]).toEqual([201, 'trace-order-0001'])
    const orderId = ((await traced.json()) as Json).id
    const entries = (await api.call('GET', '/v1/account/audit?limit=10', alice)).body.entries
    const entry = entries.find((e: Json) => e.action === 'order.placed' && e.data.order_id === orderId)
    expect(entry.data.origin.request_id).toBe('trace-order-0001')
    // one the client did not send, or not a sane one, is ours
    const ours = await fetch(`${dev.base}/v1/symbols`, { headers: { 'x-request-id': 'bad id!' } })
    expect(ours.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('readiness: Postgres, a symbol’s object and Redis (when configured) answer', async () => {
    const res = await fetch(`${dev.base}/readyz`)
    expect([res.status, res.headers.get('cache-control')]).toEqual([200, 'no-store'])
    const redis = process.env.REDIS_URL ? 'up' : 'not_configured'
    expect(await res.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { state: 'up' }, durable_object: { state: 'up' }, redis: { state: redis } },
    })
  })

  test('metrics: each symbol’s commands, fills, refusals and latencies, in Prometheus text and JSON', async () => {
    // one refusal of our own, to be counted
    const refused = await order(alice, 'buy', 1, '10.00', 'day')
    expect(refused.body.code).toBe('price_out_of_band')
    const res = await fetch(`${dev.base}/v1/admin/metrics`, { headers: admin })
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4')
    const text = await res.text()
    const value = (line: RegExp) => Number(text.match(line)?.[1] ?? Number.NaN)
    expect(value(/^bourse_commands_total\{symbol="AAPL",kind="new"\} (\d+)$/m)).toBeGreaterThanOrEqual(4)
    expect(value(/^bourse_orders_refused_total\{symbol="AAPL",code="price_out_of_band"\} (\d+)$/m)).toBeGreaterThanOrEqual(1)
    expect(value(/^bourse_order_ack_seconds_count\{symbol="AAPL"\} (\d+)$/m)).toBeGreaterThanOrEqual(5)
    expect(text).toMatch(/^bourse_outbox_backlog\{symbol="AAPL"\} \d+$/m)
    const json = await api.call('GET', '/v1/admin/metrics?format=json', admin)
    const aapl = json.body.symbols.find((x: Json) => x.symbol === 'AAPL')
    expect(aapl.ack.count).toBeGreaterThanOrEqual(5)
    expect(aapl.ack.p99_ms).toBeGreaterThanOrEqual(aapl.ack.p50_ms)
    expect((await api.call('GET', '/v1/admin/metrics', alice)).status).toBe(404)
  })

  test('the Cron Trigger’s jobs run, none failing (GET /__scheduled, as npm run dev allows)', async () => {
    const runs = () => dev.output().match(/"msg":"cron run"[^\n]*/g) ?? []
    const before = runs().length
    const res = await fetch(`${dev.base}/__scheduled`)
    expect([res.status, await res.text()]).toEqual([200, 'Ran scheduled event'])
    // the jobs run on after the answer (waitUntil); the run's last line says how they went
    const deadline = Date.now() + 15_000
    while (runs().length === before && Date.now() < deadline) await Bun.sleep(50)
    expect(runs().slice(before)).toEqual([expect.stringContaining('"failed":[]')])
  })

  test('refused for a day without a session, and before the close', async () => {
    const holiday = await api.call('POST', '/v1/admin/eod', admin, { date: '2026-11-26' })
    expect(holiday.status).toBe(422)
    expect(holiday.body.code).toBe('not_a_trading_day')
    const future = await api.call('POST', '/v1/admin/eod', admin, { date: '2030-01-02' })
    expect(future.status).toBe(409)
    expect(future.body.code).toBe('market_open')
    const trader = await api.call('POST', '/v1/admin/eod', alice, {})
    expect(trader.status).toBe(404)
  })
})

describe('market hours (MARKET_ALWAYS_OPEN=0)', () => {
  let hours: DevServer
  beforeAll(async () => {
    hours = await startDevServer({ env: { MARKET_ALWAYS_OPEN: '0' } })
  }, 90_000)
  afterAll(async () => {
    await hours?.stop()
  }, 30_000)

  test('an order outside its symbol’s hours is market_closed; extended hours widen them', async () => {
    const client = apiClient(hours.base)
    const trader = await client.withTwoFactor(DEMO_USERS[0].email)
    const ops = await client.login(DEMO_USERS[2].email)
    for (const extended of [false, true]) {
      // (a symbol listed now: the Worker keeps the listed symbols, with the flag, a minute)
      const symbol = `X${extended ? 'E' : 'R'}${Date.now() % 100000}`
      const created = await client.call('POST', '/v1/admin/symbols', ops, {
        symbol, name: symbol, reference_price: '10.00', extended_hours: extended,
      })
      expect(created.body.extended_hours).toBe(extended)
      const order = { symbol, side: 'buy', type: 'limit', qty: 1, price: '10.00', time_in_force: 'gtc' }
      // without a key (refused by the Worker) and with one (by the object: it could be a repeat)
      const answers = [
        await client.call('POST', '/v1/orders', trader, order),
        await client.call('POST', '/v1/orders', trader, { ...order, client_order_id: `hours-${symbol}` }),
      ]
      const now = tradingHours(Date.now(), extended)
      for (const res of answers) {
        if (now.open) {
          expect(res.status).toBe(201)
        } else {
          expect(res.status).toBe(422)
          expect(res.body).toMatchObject({ code: 'market_closed', symbol, opens_at: now.opens!.toISOString() })
        }
      }
    }
  })
})
