// Audit and compliance reads under wrangler dev: the regulators' trade report (one row per
// execution with both order ids, capacities and the aggressor, CSV and JSON Lines alike, admins
// only), a user's activity feed (paged without gaps or repeats, their own only) and the monthly
// statement (it reconciles, and its holdings are the account's). Postgres is outside the dev
// server (externalDb) so the test can record settled obligations, which the clearinghouse's
// confirmations would.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { connect } from '../../scripts/lib/db.ts'
import { addDays, nyDate } from '../../src/settlement/calendar.ts'
import { tradeDateOf } from '../../src/settlement/clearing.ts'
import { apiClient } from '../helpers/api.ts'
import { testDatabase } from '../helpers/db.ts'
import type { Auth, Json } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'

let dev: DevServer
let api: ReturnType<typeof apiClient>
let alice: Auth
let bob: Auth
let admin: Auth
let aliceId: number
let bobId: number
/** the executions placed here: [buy order id, sell order id, aggressor side] */
const executions: [number, number, 'buy' | 'sell'][] = []

const order = (auth: Auth, side: string, qty: number, price: string) =>
  api.call('POST', '/v1/orders', auth, { symbol: 'AAPL', side, type: 'limit', qty, price, time_in_force: 'gtc' })

/** the order once Postgres has all its fills (the drain applies them) */
async function filled(auth: Auth, id: number, qty: number): Promise<Json> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const { body } = await api.call('GET', `/v1/orders/${id}`, auth)
    if (body.filled_qty === qty || Date.now() > deadline) return body
    await Bun.sleep(50)
  }
}

/** resting order first, then the one that takes it */
async function cross(maker: [Auth, string], taker: [Auth, string], qty: number, price: string) {
  const resting = await order(maker[0], maker[1], qty, price)
  expect(resting.body.status).toBe('open')
  const taking = await order(taker[0], taker[1], qty, price)
  expect(taking.body.status).toBe('filled')
  expect((await filled(maker[0], resting.body.id, qty)).status).toBe('filled')
  expect((await filled(taker[0], taking.body.id, qty)).status).toBe('filled')
  const [buy, sell] = taker[1] === 'buy' ? [taking, resting] : [resting, taking]
  executions.push([buy.body.id, sell.body.id, taker[1] as 'buy' | 'sell'])
}

const get = (path: string, auth: Auth) => fetch(dev.base + path, { headers: auth })

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\n')
  const columns = header.split(',')
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v])))
}

beforeAll(async () => {
  dev = await startDevServer({ externalDb: true })
  api = apiClient(dev.base)
  ;({ alice, bob, admin } = await api.demoTraders())
  aliceId = (await api.call('GET', '/v1/account', alice)).body.id
  bobId = (await api.call('GET', '/v1/account', bob)).body.id
  // Bob provides liquidity for his own account: his side's capacity is principal
  const promoted = await api.call('PATCH', `/v1/admin/users/${bobId}`, admin, { role: 'market_maker' })
  expect(promoted.status).toBe(200)
  await cross([bob, 'sell'], [alice, 'buy'], 3, '150.00')
  await cross([alice, 'sell'], [bob, 'buy'], 2, '151.00')
  await cross([alice, 'buy'], [bob, 'sell'], 1, '149.00')
}, 120_000)

afterAll(async () => {
  await dev?.stop()
}, 30_000)

describe('the trade report', () => {
  const today = nyDate(Date.now())
  // today's fills belong to today's trade date, or the next one on a weekend or holiday
  const range = `from=${today}&to=${tradeDateOf(today)}`

  test('one row per execution: both orders and accounts, the taker, capacities, ms UTC time', async () => {
    const res = await get(`/v1/admin/reports/trades?${range}&format=csv`, admin)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="trades_${today}_${tradeDateOf(today)}.csv"`,
    )
    const rows = parseCsv(await res.text())
    expect(rows.map((r) => [Number(r.buy_order_id), Number(r.sell_order_id), r.aggressor_side])).toEqual(executions)
    const [first, second, third] = rows
    expect(first).toMatchObject({
      venue: 'BOURSE', symbol: 'AAPL', qty: '3', price: '150.00',
      buyer_account_id: String(aliceId), seller_account_id: String(bobId),
      buyer_capacity: 'agency', seller_capacity: 'principal',
    })
    expect(second).toMatchObject({
      qty: '2', price: '151.00', buyer_account_id: String(bobId), buyer_capacity: 'principal',
      seller_capacity: 'agency',
    })
    expect(third).toMatchObject({ qty: '1', price: '149.00', aggressor_side: 'sell' })
    for (const r of rows) {
      expect(r.execution_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      expect(r.trade_id).toMatch(/^AAPL-\d+$/)
    }
    expect(new Set(rows.map((r) => r.trade_id)).size).toBe(3)
    const times = rows.map((r) => r.execution_time)
    expect(times).toEqual([...times].sort())
  })

  test('JSON Lines carries the same records as the CSV', async () => {
    const csv = parseCsv(await (await get(`/v1/admin/reports/trades?${range}`, admin)).text())
    const res = await get(`/v1/admin/reports/trades?${range}&format=jsonl`, admin)
    expect(res.headers.get('content-type')).toBe('application/x-ndjson')
    expect(res.headers.get('content-disposition')).toContain('.jsonl"')
    const text = await res.text()
    expect(text.endsWith('\n')).toBe(true)
    const records = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Json)
    // (a null in JSON is an empty CSV field)
    expect(records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)])))).toEqual(csv)
    expect(typeof records[0].buy_order_id).toBe('number')
  })

  test('a range before the trades is just the header; bad ranges are refused', async () => {
    const empty = await get('/v1/admin/reports/trades?from=2026-01-05&to=2026-01-09', admin)
    expect(await empty.text()).toBe(
      'execution_time,trade_id,venue,symbol,qty,price,buy_order_id,sell_order_id,buyer_account_id,seller_account_id,aggressor_side,buyer_capacity,seller_capacity,nbbo_bid,nbbo_ask,routed_qty,price_improvement\n',
    )
    const backwards = await api.call('GET', '/v1/admin/reports/trades?from=2026-02-01&to=2026-01-31', admin)
    expect(backwards.status).toBe(422)
    expect(backwards.body.code).toBe('invalid_date_range')
    const long = await api.call('GET', '/v1/admin/reports/trades?from=2025-01-01&to=2026-01-02', admin)
    expect(long.status).toBe(422)
    expect(long.body).toMatchObject({ code: 'date_range_too_long', max_days: 366 })
    const format = await api.call('GET', '/v1/admin/reports/trades?from=2026-01-01&to=2026-01-02&format=xml', admin)
    expect(format.status).toBe(400)
    expect(format.body.errors[0].path).toBe('format')
  })

  test('anyone but an admin gets 404, as for every admin path', async () => {
    const res = await api.call('GET', `/v1/admin/reports/trades?${range}`, alice)
    expect(res.status).toBe(404)
    expect(res.body.code).toBe('not_found')
    expect((await api.call('GET', `/v1/admin/reports/trades?${range}`, {})).status).toBe(401)
  })
})

describe('a user’s activity', () => {
  beforeAll(async () => {
    expect((await api.call('POST', '/v1/account/deposits', alice, { amount: '250.00' })).status).toBe(201)
    expect((await api.call('POST', '/v1/account/withdrawals', alice, { amount: '40.10' })).status).toBe(201)
    const transfer = { symbol: 'NVDA', qty: 5, cost_basis: '500.00' }
    expect((await api.call('POST', '/v1/account/transfers', alice, transfer)).status).toBe(201)
    // what the clearinghouse's confirmation settles: Alice's obligation of an earlier trade date
    // through the tests' own proxy: the driver's proxy setting is global to this process, and a
    // proxy of this file's, closed after it, would be left there for the next test file
    const pg = await connect(dev.databaseUrl!, (await testDatabase()).proxy)
    try {
      await pg.db.execute(sql`
        INSERT INTO clearing_submissions (trade_date, settle_date, rows, control_qty, control_cents, checksum, csv)
        VALUES ('2026-11-24', '2026-11-25', 1, 4, 0, 'test', 'test')`)
      await pg.db.execute(sql`
        INSERT INTO settlement_obligations
          (trade_date, user_id, symbol, settle_date, qty, cash_cents, proceeds_cents, status, settled_at)
        VALUES ('2026-11-24', ${aliceId}, 'MSFT', '2026-11-25', 4, -164000, 0, 'settled', now())`)
    } finally {
      await pg.close()
    }
  }, 60_000) // the tests' database may start here (PGlite, migrated)

  const all = async (auth: Auth, query = '') =>
    (await api.call('GET', `/v1/account/activities?limit=200${query}`, auth)).body

  test('fills, customer cash movements and settlements, newest first, with their fields', async () => {
    const { activities, next_cursor } = await all(alice)
    expect(next_cursor).toBeNull()
    const types = activities.map((a: Json) => a.type)
    expect(types.filter((t: string) => t === 'fill')).toHaveLength(3)
    // this test's transfer, withdrawal and deposit, then the seed's (its deposit, and its holdings
    // when it records them as transfers in); never a reservation's hold or release
    const kinds = activities.filter((a: Json) => a.type === 'cash').map((a: Json) => a.kind)
    expect(kinds.slice(0, 3)).toEqual(['transfer_in', 'withdrawal', 'deposit'])
    expect(kinds.filter((k: string) => k === 'deposit')).toHaveLength(2)
    expect(kinds.every((k: string) => k === 'deposit' || k === 'withdrawal' || k === 'transfer_in')).toBe(true)
    const times = activities.map((a: Json) => a.time)
    expect(times).toEqual([...times].sort().reverse())
    expect(activities[0]).toMatchObject({
      id: 'settlement_2026-11-24_MSFT', type: 'settlement', symbol: 'MSFT', trade_date: '2026-11-24',
      settle_date: '2026-11-25', qty: 4, settled_amount: '-1640.00', proceeds: '0.00',
    })
    const fills = activities.filter((a: Json) => a.type === 'fill')
    expect(fills.map((f: Json) => [f.order_id, f.side, f.qty, f.price, f.amount, f.liquidity])).toEqual([
      [executions[2][0], 'buy', 1, '149.00', '-149.00', 'maker'],
      [executions[1][1], 'sell', 2, '151.00', '302.00', 'maker'],
      [executions[0][0], 'buy', 3, '150.00', '-450.00', 'taker'],
    ])
    expect(activities.find((a: Json) => a.kind === 'withdrawal').amount).toBe('-40.10')
    expect(activities.find((a: Json) => a.kind === 'transfer_in')).toMatchObject({ symbol: 'NVDA', qty: 5, amount: '0.00' })
  })

  test('pages of any size add up to the whole feed, without gaps or repeats', async () => {
    const whole = (await all(alice)).activities.map((a: Json) => a.id)
    for (const limit of [1, 2, 3]) {
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page: Json = (await api.call('GET', `/v1/account/activities?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, alice)).body
        expect(page.activities.length).toBeLessThanOrEqual(limit)
        seen.push(...page.activities.map((a: Json) => a.id))
        cursor = page.next_cursor
      } while (cursor)
      expect(seen).toEqual(whole)
    }
  })

  test('type filters; a cursor that is not ours is a 400', async () => {
    const fills = (await all(alice, '&type=fill')).activities
    expect(fills.map((a: Json) => a.type)).toEqual(['fill', 'fill', 'fill'])
    const cash = await api.call('GET', '/v1/account/activities?type=cash&limit=2', alice)
    expect(cash.body.activities.map((a: Json) => a.kind)).toEqual(['transfer_in', 'withdrawal'])
    const rest = await api.call('GET', `/v1/account/activities?type=cash&limit=200&cursor=${cash.body.next_cursor}`, alice)
    const whole = (await all(alice, '&type=cash')).activities
    expect([...cash.body.activities, ...rest.body.activities]).toEqual(whole)
    expect(rest.body.next_cursor).toBeNull()
    expect((await all(alice, '&type=settlement')).activities).toHaveLength(1)
    const forged = await api.call('GET', '/v1/account/activities?cursor=bm90LWEtY3Vyc29y', alice)
    expect(forged.status).toBe(400)
    expect(forged.body.errors[0].path).toBe('cursor')
    expect((await api.call('GET', '/v1/account/activities?type=order', alice)).status).toBe(400)
  })

  test('each user sees only their own', async () => {
    const mine = new Set((await all(alice)).activities.map((a: Json) => a.id))
    const bobs = (await all(bob)).activities
    expect(bobs.filter((a: Json) => a.type === 'fill')).toHaveLength(3)
    expect(bobs.some((a: Json) => mine.has(a.id))).toBe(false)
    expect(bobs.some((a: Json) => a.type === 'settlement')).toBe(false)
    expect((await api.call('GET', '/v1/account/activities', {})).status).toBe(401)
  })
})

describe('the monthly statement', () => {
  const month = nyDate(Date.now()).slice(0, 7)
  const cents = (s: string) => Math.round(Number(s) * 100)
  const statement = async (m: string) => {
    const res = await get(`/v1/account/statements/${m}`, alice)
    expect(res.status).toBe(200)
    return { res, rows: parseCsv(await res.text()) }
  }

  test('opening cash + every movement of the month = closing cash = the account’s cash', async () => {
    const { res, rows } = await statement(month)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="statement_${month}.csv"`)
    const opening = rows.find((r) => r.record === 'opening_cash')!
    const closing = rows.find((r) => r.record === 'closing_cash')!
    const activity = rows.filter((r) => r.record === 'activity')
    const moved = activity.reduce((n, r) => n + (r.amount ? cents(r.amount) : 0), 0)
    expect(cents(opening.cash) + moved).toBe(cents(closing.cash))
    const account = (await api.call('GET', '/v1/account', alice)).body
    expect(closing.cash).toBe(account.cash)
    // every activity of the month, oldest first: the feed's, reversed
    const feed = (await api.call('GET', '/v1/account/activities?limit=200', alice)).body.activities
    expect(activity.map((r) => r.activity_id)).toEqual(feed.map((a: Json) => a.id).reverse())
    const settled = activity.find((r) => r.type === 'settlement')!
    expect(settled).toMatchObject({ amount: '', settled_amount: '-1640.00', trade_date: '2026-11-24' })
  })

  test('holdings at the month’s end are the positions; before it, without the month’s movements', async () => {
    const { rows } = await statement(month)
    const held = rows.filter((r) => r.record === 'position').map((r) => [r.symbol, Number(r.qty)])
    const positions = (await api.call('GET', '/v1/positions', alice)).body.positions
    expect(held).toEqual(
      positions.filter((p: Json) => p.qty !== 0).map((p: Json) => [p.symbol, p.qty]).sort(),
    )
    expect(held).toContainEqual(['AAPL', 100 + 3 - 2 + 1])
    // last month nothing had happened yet: no cash; the shares are today's less every fill and
    // transfer of this month (the feed's), which leaves the seed's holdings if it wrote them
    // straight into positions, nothing if it recorded them as transfers in
    const before = addDays(`${month}-01`, -1).slice(0, 7)
    const last = (await statement(before)).rows
    expect(last.filter((r) => r.record !== 'position').map((r) => [r.record, r.cash])).toEqual([
      ['opening_cash', '0.00'],
      ['closing_cash', '0.00'],
    ])
    const shares = new Map<string, number>(held as [string, number][])
    const feed = (await api.call('GET', '/v1/account/activities?limit=200', alice)).body.activities
    for (const a of feed) {
      const moved = a.type === 'fill' ? (a.side === 'buy' ? a.qty : -a.qty) : a.kind === 'transfer_in' ? a.qty : 0
      if (moved) shares.set(a.symbol, (shares.get(a.symbol) ?? 0) - moved)
    }
    const expected = [...shares].filter(([, qty]) => qty !== 0).sort()
    expect(last.filter((r) => r.record === 'position').map((r) => [r.symbol, Number(r.qty)])).toEqual(expected)
  })

  test('a month not started is 422 month_not_started; a malformed one 400', async () => {
    const next = addDays(`${month}-01`, 32).slice(0, 7)
    const future = await api.call('GET', `/v1/account/statements/${next}`, alice)
    expect(future.status).toBe(422)
    expect(future.body.code).toBe('month_not_started')
    for (const bad of ['2026-13', '0000-01', '1969-12']) {
      expect((await api.call('GET', `/v1/account/statements/${bad}`, alice)).status).toBe(400)
    }
  })
})
