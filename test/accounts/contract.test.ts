// The account contract of issue 3: GET /v1/account fields, share transfers, strict bodies and
// decimal strings, sandbox funding in production, admin endpoints, BOLA (404 for others' ids),
// ledger integrity and concurrent deposits.
import { beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { postCash } from '../../src/accounts/ledger.ts'
import { symbols, users } from '../../src/db/schema.ts'
import { DEMO_SYMBOLS } from '../../src/db/seed.ts'
import { PASSWORD, newUser, testClient, uniqueEmail } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'
import type { TestDatabase } from '../helpers/db.ts'

type Json = Record<string, any>
type U = Awaited<ReturnType<typeof newUser>>
let client: TestClient
let db: TestDatabase
beforeAll(async () => {
  client = await testClient()
  db = await testDatabase()
  await db.handle.db.insert(symbols).values(DEMO_SYMBOLS).onConflictDoNothing()
}, 60_000)

const json = async (res: Response) => (await res.json()) as Json
const get = (u: U, path: string) => client.request('GET', path, undefined, u.auth)
const post = (u: U, path: string, body: unknown, c = client) =>
  c.request('POST', path, body, u.auth)

async function makeAdmin(c: TestClient, tag: string) {
  const u = await newUser(c, tag)
  await db.handle.db.update(users).set({ role: 'admin' }).where(eq(users.id, u.id))
  return u
}

describe('GET /v1/account', () => {
  test('cash, reserved cash, buying power, equity, tier, 2FA state', async () => {
    const u = await newUser(client, 'view')
    expect(await json(await get(u, '/v1/account'))).toMatchObject({
      id: u.id,
      tier: 'retail',
      role: 'trader',
      cash: '0.00',
      reserved_cash: '0.00',
      buying_power: '0.00',
      equity: '0.00',
      two_factor: 'disabled',
      two_factor_enabled: false,
    })
    expect((await post(u, '/v1/account/deposits', { amount: '1000.50' })).status).toBe(201)
    // what an open buy order does: hold part of the cash
    await db.handle.db.transaction((tx) =>
      postCash(tx, { userId: u.id, kind: 'reserve', cashDelta: 0, reservedDelta: 20_000 }),
    )
    // 10 AAPL at a cost of 1500.00; valued at the reference price 190.00
    expect(
      (await post(u, '/v1/account/transfers', { symbol: 'AAPL', qty: 10, cost_basis: '1500.00' }))
        .status,
    ).toBe(201)
    await post(u, '/v1/auth/totp/enroll', undefined)
    expect(await json(await get(u, '/v1/account'))).toMatchObject({
      cash: '1000.50',
      reserved_cash: '200.00',
      buying_power: '800.50',
      equity: '2900.50',
      two_factor: 'pending',
    })
  })
})

describe('POST /v1/account/transfers {symbol, qty, cost_basis}', () => {
  test('adds shares at their cost basis and writes a transfer_in ledger entry (no cash moves)', async () => {
    const u = await newUser(client, 'xfer')
    const first = await post(u, '/v1/account/transfers', {
      symbol: 'MSFT',
      qty: 4,
      cost_basis: '1600.00',
    })
    expect(first.status).toBe(201)
    const body = await json(first)
    expect(body.entry).toMatchObject({
      kind: 'transfer_in',
      amount: '0.00',
      cash_after: '0.00',
      symbol: 'MSFT',
      qty: 4,
    })
    expect(body.position).toMatchObject({ symbol: 'MSFT', qty: 4, cost_basis: '1600.00' })
    const second = await json(
      await post(u, '/v1/account/transfers', { symbol: 'MSFT', qty: 6, cost_basis: '2600.00' }),
    )
    expect(second.position).toMatchObject({ qty: 10, cost_basis: '4200.00', avg_cost: '420.00' })
    const ledger = await json(await get(u, '/v1/account/ledger'))
    expect(ledger.entries.map((e: Json) => [e.kind, e.symbol, e.qty])).toEqual([
      ['transfer_in', 'MSFT', 6],
      ['transfer_in', 'MSFT', 4],
    ])
    const audit = await json(await get(u, '/v1/account/audit?verify=true'))
    expect(audit.chain.valid).toBe(true)
    expect(audit.entries[0]).toMatchObject({ action: 'position.transfer_in' })
  })

  test('an unknown symbol is 422 unknown_symbol and changes nothing', async () => {
    const u = await newUser(client, 'xferbad')
    const res = await post(u, '/v1/account/transfers', { symbol: 'ZZZZ', qty: 1, cost_basis: '1' })
    expect(res.status).toBe(422)
    expect((await json(res)).code).toBe('unknown_symbol')
    expect((await json(await get(u, '/v1/positions'))).positions).toEqual([])
  })

  test('quantities are integers and amounts decimal strings with ≤ 2 decimals; anything else is 400', async () => {
    const u = await newUser(client, 'strict')
    const cases: [string, unknown, string][] = [
      ['/v1/account/transfers', { symbol: 'AAPL', qty: 1.5, cost_basis: '10.00' }, 'qty'],
      ['/v1/account/transfers', { symbol: 'AAPL', qty: '10', cost_basis: '10.00' }, 'qty'],
      ['/v1/account/transfers', { symbol: 'AAPL', qty: 0, cost_basis: '10.00' }, 'qty'],
      ['/v1/account/transfers', { symbol: 'AAPL', qty: 1, cost_basis: '10.001' }, 'cost_basis'],
      ['/v1/account/transfers', { symbol: 'AAPL', qty: 1, cost_basis: 10 }, 'cost_basis'],
      ['/v1/account/transfers', { symbol: 'aapl', qty: 1, cost_basis: '10' }, 'symbol'],
      ['/v1/account/transfers', { symbol: 'AAPL', qty: 1, cost_basis: '10', x: 1 }, 'x'],
      ['/v1/account/deposits', { amount: 150.25 }, 'amount'],
      ['/v1/account/deposits', { amount: '150.255' }, 'amount'],
      ['/v1/account/deposits', { amount: '1e3' }, 'amount'],
      ['/v1/account/deposits', { amount: '-5.00' }, 'amount'],
      ['/v1/account/deposits', { amount: '5.00', currency: 'USD' }, 'currency'],
    ]
    for (const [path, body, field] of cases) {
      const res = await post(u, path, body)
      expect(res.status).toBe(400)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      const p = await json(res)
      expect(p).toMatchObject({ code: 'invalid_request', status: 400 })
      expect(p.errors.map((e: Json) => e.path)).toContain(field)
    }
    expect((await json(await get(u, '/v1/account/ledger'))).entries).toEqual([])
  })
})

describe('auth bodies', () => {
  test('register takes {email, password}; unknown fields are rejected', async () => {
    const email = uniqueEmail('plain')
    const ok = await client.request('POST', '/v1/auth/register', { email, password: PASSWORD })
    expect(ok.status).toBe(201)
    expect(await json(ok)).toMatchObject({ email, tier: 'retail', role: 'trader' })
    const extra = await client.request('POST', '/v1/auth/register', {
      email: uniqueEmail('extra'),
      password: PASSWORD,
      role: 'admin',
    })
    expect(extra.status).toBe(400)
    expect(await json(extra)).toMatchObject({
      code: 'invalid_request',
      errors: [{ path: 'role', message: 'unknown field' }],
    })
    const login = await client.request('POST', '/v1/auth/login', { email, password: PASSWORD })
    expect(Object.keys(await json(login))).toEqual(
      expect.arrayContaining(['access_token', 'refresh_token', 'expires_in']),
    )
  })
})

describe('sandbox funding with ENVIRONMENT=production', () => {
  test('refused for traders (403 sandbox_only), allowed for an admin, also on others’ accounts', async () => {
    const prod = await testClient({ ENVIRONMENT: 'production' })
    const trader = await newUser(prod, 'prodtrader')
    for (const [path, body] of [
      ['/v1/account/deposits', { amount: '10.00' }],
      ['/v1/account/withdrawals', { amount: '10.00' }],
      ['/v1/account/transfers', { symbol: 'AAPL', qty: 1, cost_basis: '1.00' }],
    ] as const) {
      const res = await post(trader, path, body, prod)
      expect(res.status).toBe(403)
      expect((await json(res)).code).toBe('sandbox_only')
    }
    const admin = await makeAdmin(prod, 'prodadmin')
    expect((await post(admin, '/v1/account/deposits', { amount: '10.00' }, prod)).status).toBe(201)
    const funded = await post(
      admin,
      `/v1/admin/accounts/${trader.id}/deposits`,
      { amount: '250.00' },
      prod,
    )
    expect(funded.status).toBe(201)
    expect(await json(funded)).toMatchObject({ kind: 'deposit', cash_after: '250.00' })
    const shares = await post(
      admin,
      `/v1/admin/accounts/${trader.id}/transfers`,
      { symbol: 'NVDA', qty: 5, cost_basis: '500.00' },
      prod,
    )
    expect(shares.status).toBe(201)
    expect((await json(await get(trader, '/v1/account'))).cash).toBe('250.00')
    // the trader's audit trail names the admin who funded the account
    const audit = await json(await get(trader, '/v1/account/audit'))
    expect(audit.entries.slice(0, 2).map((e: Json) => [e.action, e.data.by])).toEqual([
      ['position.transfer_in', admin.id],
      ['cash.deposit', admin.id],
    ])
  })
})

describe('admin endpoints', () => {
  test('an admin creates symbols, sets tier/role, views any account', async () => {
    const admin = await makeAdmin(client, 'admin')
    const u = await newUser(client, 'managed')
    const sym = `Z${Date.now().toString(36).toUpperCase().slice(-5)}${process.pid % 100}`
    const created = await post(admin, '/v1/admin/symbols', {
      symbol: sym,
      name: 'Zed Corp',
      reference_price: '12.34',
    })
    expect(created.status).toBe(201)
    expect(await json(created)).toEqual({
      symbol: sym,
      name: 'Zed Corp',
      tick_size: '0.01',
      status: 'active',
      reference_price: '12.34',
      extended_hours: false,
    })
    expect(
      (await post(admin, '/v1/admin/symbols', { symbol: sym, name: 'x', reference_price: '1' }))
        .status,
    ).toBe(409)
    expect(
      (await post(admin, '/v1/admin/symbols', { symbol: 'ABC', name: 'x', reference_price: '0' }))
        .status,
    ).toBe(400)
    const halted = await client.request(
      'PATCH',
      `/v1/admin/symbols/${sym}`,
      { status: 'halted', tick_size: '0.05' },
      admin.auth,
    )
    expect(await json(halted)).toMatchObject({ status: 'halted', tick_size: '0.05' })
    const listed = await json(await client.request('GET', '/v1/symbols'))
    expect(listed.symbols.find((s: Json) => s.symbol === sym).status).toBe('halted')

    const patched = await client.request(
      'PATCH',
      `/v1/admin/users/${u.id}`,
      { tier: 'pro', role: 'market_maker' },
      admin.auth,
    )
    expect(patched.status).toBe(200)
    expect(await json(patched)).toMatchObject({ id: u.id, tier: 'pro', role: 'market_maker' })
    expect(await json(await get(u, '/v1/account'))).toMatchObject({ tier: 'pro' })
    const audit = await json(await get(u, '/v1/account/audit'))
    expect(audit.entries[0]).toMatchObject({
      action: 'admin.user_updated',
      data: { by: admin.id, tier: { from: 'retail', to: 'pro' } },
    })
    const limited = await client.request('PATCH', `/v1/admin/users/${u.id}`, { short_limit: 500 }, admin.auth)
    expect(await json(limited)).toMatchObject({ role: 'market_maker', short_limit: 500 })
    const demoted = await client.request('PATCH', `/v1/admin/users/${u.id}`, { role: 'trader' }, admin.auth)
    expect(await json(demoted)).toMatchObject({ role: 'trader', short_limit: 0 })
    const notMm = await client.request('PATCH', `/v1/admin/users/${u.id}`, { short_limit: 1 }, admin.auth)
    expect(notMm.status).toBe(422)
    expect((await json(notMm)).code).toBe('short_limit_not_allowed')
    const bad = await client.request(
      'PATCH',
      `/v1/admin/users/${u.id}`,
      { tier: 'gold' },
      admin.auth,
    )
    expect(bad.status).toBe(400)
    const missing = await client.request(
      'PATCH',
      '/v1/admin/users/2147483000',
      { tier: 'pro' },
      admin.auth,
    )
    expect(missing.status).toBe(404)

    const view = await json(await get(admin, `/v1/admin/accounts/${u.id}`))
    expect(view).toMatchObject({ id: u.id, email: u.email, cash: '0.00', positions: [] })
  })

  test('a demoted admin loses access at once (role read from the database)', async () => {
    const admin = await makeAdmin(client, 'demoted')
    expect((await get(admin, `/v1/admin/accounts/${admin.id}`)).status).toBe(200)
    await db.handle.db.update(users).set({ role: 'trader' }).where(eq(users.id, admin.id))
    expect((await get(admin, `/v1/admin/accounts/${admin.id}`)).status).toBe(404)
  })
})

describe('ledger integrity', () => {
  test('concurrent deposits: no lost update; the ledger sums to the cash', async () => {
    const u = await newUser(client, 'concdep')
    const amounts = Array.from({ length: 16 }, (_, i) => `${i + 1}.${String(i).padStart(2, '0')}`)
    const results = await Promise.all(
      amounts.map((amount) => post(u, '/v1/account/deposits', { amount })),
    )
    expect(results.map((r) => r.status)).toEqual(amounts.map(() => 201))
    const expected = amounts.reduce((s, a) => s + Math.round(Number(a) * 100), 0)
    const [row] = await db.handle.db.select().from(users).where(eq(users.id, u.id))
    expect(row.cashCents).toBe(expected)
    // running balances form one chain: every entry's cash_after = previous + amount
    const entries = (await json(await get(u, '/v1/account/ledger?limit=200'))).entries.reverse()
    let balance = 0
    for (const e of entries) {
      balance += Math.round(Number(e.amount) * 100)
      expect(Math.round(Number(e.cash_after) * 100)).toBe(balance)
    }
    expect(balance).toBe(expected)
  })

  test('for every user in the database, the sum of the ledger is the cash', async () => {
    const mismatches = await db.handle.db.execute(sql`
      SELECT u.id, u.cash_cents, coalesce(sum(l.amount_cents), 0)::bigint AS ledger
      FROM users u LEFT JOIN cash_ledger l ON l.user_id = u.id
      GROUP BY u.id HAVING u.cash_cents <> coalesce(sum(l.amount_cents), 0)`)
    const [{ n }] = (
      await db.handle.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM users`)
    ).rows
    expect(Number(n)).toBeGreaterThan(5)
    expect(mismatches.rows).toEqual([])
  })
})
