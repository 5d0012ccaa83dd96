// Bad input, end to end (issue 9): property-based fuzzing of every endpoint of the README's API
// table against one wrangler dev. For each, fast-check sends wrong types, missing and extra
// fields, huge and negative numbers, prices with too many decimals, qty × price overflow, unicode
// and control characters, oversized bodies, malformed JSON, wrong content types, duplicate keys,
// bad path params and query strings, and bad tokens. What must hold:
//  - never a 5xx;
//  - every refusal is a 4xx application/problem+json with a stable `code` and RFC 9457's members;
//  - refused requests change nothing: the accounts' cash, reserved cash, positions, orders and
//    ledger read the same before and after each property (GET /v1/account, /v1/positions,
//    /v1/orders, /v1/account/ledger).
// Idempotency abuse and mass assignment have their own suites in test/security/.
//
// Reproducible: FUZZ_SEED (printed with every failure) and FUZZ_RUNS (runs per property).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { DEMO_PASSWORD } from '../../src/db/seed.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth, Json } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import {
  FUZZ_SEED, PRIVILEGED_FIELDS, answered, asRaw, badAuthorization, badIdempotencyKey,
  badMoney, badQty, badQuery, badSegment, checkProblem, fuzzParams, hostileBodies, nastyString,
  refused, wrongContentType,
} from '../helpers/fuzz.ts'
import type { Body, Raw } from '../helpers/fuzz.ts'
import { UNLIMITED } from '../helpers/rate-limit.ts'

let dev: DevServer
let api: ReturnType<typeof apiClient>
let base: string
let alice: Auth // 2FA; 100,000.00, 100 AAPL, 50 MSFT
let bob: Auth // 2FA; 50,000.00, 200 AAPL, 80 NVDA
let admin: Auth
let carol: Auth // a fresh trader without the second factor
let ids: { alice: number; bob: number; carol: number }
let aliceOpen: number // alice's open GTC buy of 10 AAPL at 140.00
let aliceDone: number // alice's canceled order
let bobOpen: number // bob's open GTC buy

const J = { 'content-type': 'application/json' }

/** What refused requests must leave alone: balances, positions, orders, the ledger's head. */
async function snapshot(auth: Auth) {
  const [account, positions, orders, ledger] = await Promise.all([
    api.call('GET', '/v1/account', auth),
    api.call('GET', '/v1/positions', auth),
    api.call('GET', '/v1/orders?limit=200', auth),
    api.call('GET', '/v1/account/ledger?limit=1', auth),
  ])
  for (const r of [account, positions, orders, ledger]) expect(r.status).toBe(200)
  const a = account.body
  return {
    account: [a.cash, a.reserved_cash, a.role, a.tier, a.short_limit, a.display_name, a.two_factor],
    positions: positions.body.positions.map((p: Json) => [p.symbol, p.qty, p.reserved_qty, p.cost_basis]),
    orders: orders.body.orders.map((o: Json) => [o.id, o.status, o.qty, o.filled_qty, o.reserved_cash, o.reserved_qty]),
    ledgerHead: ledger.body.entries[0]?.id ?? null,
  }
}
const everyone = () => Promise.all([alice, bob, admin, carol].map(snapshot))

/** Runs the property; alice's, bob's, the admin's and carol's state must read the same after. */
async function unchanged(run: () => Promise<void>) {
  const before = await everyone()
  await run()
  expect(await everyone()).toEqual(before)
}

/** fc.assert of an async property with the suite's seed and a run count */
const check = <T,>(arb: fc.Arbitrary<T>, body: (t: T) => Promise<unknown>, runs?: number) =>
  fc.assert(fc.asyncProperty(arb, async (t) => void (await body(t))), fuzzParams(runs))

/** Segments that Number() (z.coerce) reads as a positive integer could name a real row. */
const notAnId = (s: string) => {
  let text: string
  try {
    text = decodeURIComponent(s)
  } catch {
    return true
  }
  const n = Number(text)
  return !(Number.isInteger(n) && n > 0)
}

const ORDER: Body = { symbol: 'AAPL', side: 'buy', type: 'limit', qty: 1, price: '136.00', time_in_force: 'gtc' }
const orderBad: Record<string, fc.Arbitrary<unknown>> = {
  symbol: fc.oneof(nastyString.filter((s) => !/^[A-Z][A-Z0-9.]{0,9}$/.test(s)), fc.constantFrom('aapl', 'AAPL ', 'A'.repeat(11), '', 1, null, ['AAPL'])),
  side: fc.oneof(fc.constantFrom('BUY', 'short', 'Buy', '', 'buy\u0000', 0, true, null), nastyString),
  type: fc.oneof(fc.constantFrom('LIMIT', 'iceberg', '', 'limit ', null, 1), nastyString),
  qty: badQty,
  price: badMoney,
  time_in_force: fc.oneof(fc.constantFrom('GTC', 'gtd', 'opg', '', null, 0), nastyString),
  post_only: fc.constantFrom('true', 1, 0, 'yes', null, []),
  client_order_id: fc.oneof(
    fc.constantFrom('', 'has space', 'x'.repeat(65), 'caf\u00e9', 'tab\t', 'nul\u0000', 7, null, true),
    nastyString.filter((s) => !/^[\x21-\x7e]{1,64}$/.test(s)),
  ),
  stop_price: fc.oneof(badMoney, fc.constant('150.00')), // a stop price on a limit order is refused too
}

/** Orders of a valid shape that a rule refuses (422): the symbol, the band, the size, the money. */
const ruleRefusedOrder = fc.oneof(
  fc.constantFrom('ZZZZ', 'NOPE.X', 'Q').map((symbol) => ({ ...ORDER, symbol })),
  fc.constantFrom('1.00', '100.00', '134.99', '165.01', '1000.00', '9999999999999.99', '0.01').map((price) => ({ ...ORDER, price })),
  fc.integer({ min: 100_001, max: Number.MAX_SAFE_INTEGER }).map((qty) => ({ ...ORDER, qty })),
  // qty × price beyond 10,000,000.00 (and far beyond 2^53 cents with the largest price)
  fc.tuple(fc.integer({ min: 66_700, max: 100_000 }), fc.constantFrom('150.00', '160.00', '9999999999999.99')).map(([qty, price]) => ({ ...ORDER, qty, price })),
  // more than alice's buying power (100,000.00 − 1,400.00 reserved)
  fc.integer({ min: 700, max: 66_000 }).map((qty) => ({ ...ORDER, qty, price: '150.00' })),
  // more shares than alice holds (100 AAPL)
  fc.integer({ min: 101, max: 66_000 }).map((qty) => ({ ...ORDER, side: 'sell', qty, price: '150.00' })),
  fc.constantFrom('market', 'stop').map((type) => ({ ...ORDER, type, side: 'sell', qty: 5000, price: undefined, ...(type === 'stop' && { stop_price: '149.00' }) })),
)

beforeAll(async () => {
  console.log(`fuzz: FUZZ_SEED=${FUZZ_SEED} (set it to rerun), FUZZ_RUNS=${fuzzParams().numRuns}`)
  dev = await startDevServer({
    env: UNLIMITED,
    // wrong codes and passwords of a valid shape are throttled: keep the fuzzer's own accounts usable
    wranglerArgs: ['--var', 'LOGIN_LOCK_THRESHOLD:1000', '--var', 'AUTH_IP_MAX_FAILURES:100000'],
  })
  base = dev.base
  api = apiClient(base)
  ;({ alice, bob, admin } = await api.demoTraders())
  const reg = await api.call('POST', '/v1/auth/register', {}, { email: 'carol@fuzz.example', password: DEMO_PASSWORD })
  expect(reg.status).toBe(201)
  carol = await api.login('carol@fuzz.example')
  const me = async (auth: Auth) => (await api.call('GET', '/v1/account', auth)).body.id as number
  ids = { alice: await me(alice), bob: await me(bob), carol: await me(carol) }

  const place = async (auth: Auth, body: Body) => {
    const r = await api.call('POST', '/v1/orders', auth, body)
    expect(r.status).toBe(201)
    return r.body.id as number
  }
  aliceOpen = await place(alice, { ...ORDER, qty: 10, price: '140.00' })
  aliceDone = await place(alice, { ...ORDER, qty: 1, price: '139.00' })
  expect((await api.call('DELETE', `/v1/orders/${aliceDone}`, alice)).status).toBe(200)
  bobOpen = await place(bob, { ...ORDER, qty: 2, price: '137.00' })
  // the drain brings the cancel's release to Postgres: wait for a steady state
  for (let i = 0; i < 100; i++) {
    const o = (await api.call('GET', `/v1/orders/${aliceDone}`, alice)).body
    if (o.status === 'canceled' && o.reserved_cash === '0.00') break
    await Bun.sleep(50)
  }
}, 120_000)

afterAll(async () => {
  await dev?.stop()
}, 30_000)

describe('fuzz: auth', () => {
  const emailBad = fc.oneof(
    fc.constantFrom('', 'no-at', '@x.y', 'a@', 'a@b', 'a b@c.de', `${'a'.repeat(250)}@x.io`, 'a@b..c', 1, null, ['a@b.c']),
    nastyString.filter((s) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s)),
  )
  const passwordShort = fc.oneof(fc.string({ maxLength: 9 }), fc.string({ minLength: 201, maxLength: 300 }), fc.constantFrom(null, 1234567890, []))
  const otpBad = fc.oneof(fc.constantFrom('12345', '1234567', 'abcdef', '12 345', '١٢٣٤٥٦', 123456, null, ''), nastyString.filter((s) => !/^\d{6}$/.test(s)))

  test('register refuses bad emails, short passwords, bad names and extra fields (role, tier, cash…)', () =>
    unchanged(() =>
      check(
        hostileBodies({ email: 'x@fuzz.example', password: 'long enough pass' }, ['email', 'password'], {
          email: emailBad,
          password: passwordShort,
          display_name: fc.oneof(fc.constantFrom('', '   ', 'x'.repeat(101), 7, null, true)),
        }),
        (b) => refused(base, asRaw('POST', '/v1/auth/register', {}, b)),
      ),
    ))

  test('login refuses malformed credentials', () =>
    unchanged(() =>
      check(
        hostileBodies({ email: 'nobody@fuzz.example', password: 'whatever' }, ['email', 'password'], {
          email: emailBad,
          password: fc.constantFrom('', 'x'.repeat(201), null, 5, []),
          otp: otpBad,
        }),
        (b) => refused(base, asRaw('POST', '/v1/auth/login', {}, b)),
      ),
    ))

  test('refresh and logout refuse bad refresh tokens', () =>
    unchanged(() =>
      check(
        fc.tuple(
          fc.constantFrom('/v1/auth/refresh', '/v1/auth/logout'),
          hostileBodies({ refresh_token: 'x'.repeat(40) }, ['refresh_token'], {
            refresh_token: fc.oneof(fc.string({ maxLength: 9 }), fc.string({ minLength: 201, maxLength: 400 }), fc.constantFrom(null, 1, [], {})),
          }),
        ),
        ([path, b]) => refused(base, asRaw('POST', path, {}, b)),
      ),
    ))

  test('refresh with a well-formed token nobody issued: 401', () =>
    unchanged(() =>
      check(
        fc.oneof(fc.string({ minLength: 10, maxLength: 200 }), nastyString.filter((s) => s.length >= 10)),
        // (zod counts a string's length in code points: an astral-heavy one may be short, 400)
        (token) => refused(base, { method: 'POST', path: '/v1/auth/refresh', headers: J, body: JSON.stringify({ refresh_token: token }) }, [400, 401]),
      ),
    ))

  test('password change and TOTP verify/disable refuse bad bodies', () =>
    unchanged(() =>
      check(
        fc.oneof(
          hostileBodies({ current_password: 'wrong', new_password: 'short' }, ['current_password', 'new_password'], {
            current_password: fc.constantFrom('', 'x'.repeat(201), null, 1),
            new_password: passwordShort,
            otp: otpBad,
          }).map((b) => ['/v1/auth/password', b] as const),
          fc.tuple(
            fc.constantFrom('/v1/auth/totp/verify', '/v1/auth/totp/disable'),
            hostileBodies({ code: '000000' }, ['code'], { code: otpBad }),
          ),
        ),
        ([path, b]) => refused(base, asRaw('POST', path, carol, b)),
      ),
    ))

  test('every Bearer route refuses a bad Authorization header with 401 unauthorized', () =>
    unchanged(() => {
      const routes: [string, string, Body?][] = [
        ['POST', '/v1/auth/logout-all'],
        ['POST', '/v1/auth/password', { current_password: DEMO_PASSWORD, new_password: 'another long pass' }],
        ['POST', '/v1/auth/totp/enroll'],
        ['POST', '/v1/auth/totp/verify', { code: '123456' }],
        ['POST', '/v1/auth/totp/disable', { code: '123456' }],
        ['GET', '/v1/account'],
        ['PATCH', '/v1/account', { display_name: 'Mallory' }],
        ['POST', '/v1/account/deposits', { amount: '1.00' }],
        ['POST', '/v1/account/withdrawals', { amount: '1.00' }],
        ['POST', '/v1/account/transfers', { symbol: 'AAPL', qty: 1, cost_basis: '1.00' }],
        ['GET', '/v1/account/ledger'],
        ['GET', '/v1/account/ledger/1'],
        ['GET', '/v1/account/audit?verify=true'],
        ['GET', '/v1/account/activities'],
        ['GET', '/v1/account/statements/2026-01'],
        ['GET', '/v1/positions'],
        ['GET', '/v1/positions/AAPL'],
        ['POST', '/v1/orders', ORDER],
        ['POST', '/v1/orders/batch', { orders: [ORDER] }],
        ['GET', '/v1/orders'],
        ['GET', '/v1/orders/1'],
        ['PATCH', '/v1/orders/1', { qty: 1 }],
        ['DELETE', '/v1/orders/1'],
        ['GET', '/v1/admin/venues'],
        ['POST', '/v1/admin/eod', {}],
        ['PATCH', '/v1/admin/users/1', { role: 'admin' }],
        ['POST', '/v1/admin/accounts/1/deposits', { amount: '1.00' }],
        ['GET', '/v1/admin/reports/trades?from=2026-01-01&to=2026-01-02'],
      ]
      return check(fc.tuple(fc.constantFrom(...routes), badAuthorization), async ([[method, path, body], authorization]) => {
        const a = await refused(base, {
          method,
          path,
          headers: { authorization, ...(body && J) },
          ...(body && { body: JSON.stringify(body) }),
        }, [401])
        expect(a.json.code).toBe('unauthorized')
        expect(a.headers.get('www-authenticate')).toStartWith('Bearer')
      }, 60)
    }))
})

describe('fuzz: account and funding', () => {
  test('PATCH /v1/account refuses bad display names and any other field', () =>
    unchanged(() =>
      check(
        hostileBodies({ display_name: 'Alice' }, ['display_name'], {
          display_name: fc.oneof(fc.constantFrom('', '   ', '\t\n', 'x'.repeat(101), null, 5, true, ['a'], {})),
        }),
        (b) => refused(base, asRaw('PATCH', '/v1/account', alice, b)),
      ),
    ))

  test('deposits and withdrawals refuse bad amounts, bodies and Idempotency-Keys', () =>
    unchanged(() =>
      check(
        fc.tuple(
          fc.constantFrom('/v1/account/deposits', '/v1/account/withdrawals', `/v1/admin/accounts/${0}/deposits`),
          fc.oneof(
            hostileBodies({ amount: '1.00' }, ['amount'], {
              amount: fc.oneof(badMoney, fc.constantFrom('1000000.01', '9999999999999.99')),
            }).map((b) => [b, {}] as const),
            badIdempotencyKey.map((key) => [{ contentType: 'application/json', body: '{"amount":"1.00"}' }, { 'idempotency-key': key }] as const),
          ),
          fc.constantFrom('alice', 'bob'),
        ),
        ([path, [b, headers], who]) => {
          const [auth, id] = who === 'alice' ? [alice, ids.alice] : [bob, ids.bob]
          const admin_ = path.startsWith('/v1/admin')
          return refused(base, asRaw('POST', admin_ ? `/v1/admin/accounts/${id}/deposits` : path, admin_ ? admin : auth, b, headers))
        },
      ),
    ))

  test('withdrawals beyond buying power: 422, nothing moves', () =>
    unchanged(() =>
      check(fc.integer({ min: 100_000_01, max: 100_000_000 }), async (cents) => {
        const amount = `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
        const a = await refused(base, { method: 'POST', path: '/v1/account/withdrawals', headers: { ...alice, ...J }, body: JSON.stringify({ amount }) }, [422])
        expect(a.json.code).toBe('insufficient_buying_power')
      }, 15),
    ))

  test('share transfers refuse bad symbols, quantities and cost bases (own and admin)', () =>
    unchanged(() =>
      check(
        fc.tuple(
          fc.boolean(),
          hostileBodies({ symbol: 'AAPL', qty: 1, cost_basis: '150.00' }, ['symbol', 'qty', 'cost_basis'], {
            symbol: fc.oneof(orderBad.symbol, fc.constantFrom('ZZZZ', 'NOPE')),
            qty: fc.oneof(badQty, fc.constantFrom(1_000_000_001, 2 ** 31, Number.MAX_SAFE_INTEGER)),
            cost_basis: badMoney.filter((v) => !(typeof v === 'string' && /^(0|[1-9]\d{0,12})(\.\d{1,2})?$/.test(v))),
          }),
        ),
        ([asAdmin, b]) =>
          refused(base, asRaw('POST', asAdmin ? `/v1/admin/accounts/${ids.bob}/transfers` : '/v1/account/transfers', asAdmin ? admin : bob, b)),
      ),
    ))

  test('ledger, audit, activities, statements: bad path params and query strings never 5xx', () =>
    unchanged(() =>
      check(
        fc.oneof(
          badSegment.map((s) => `/v1/account/ledger/${s}`),
          badSegment.map((s) => `/v1/account/statements/${s}`),
          fc.constantFrom('1969-12', '2026-13', '2026-00', '26-01', '2026-1', '9999-12', '2999-01').map((m) => `/v1/account/statements/${m}`),
          badQuery(['limit', 'before']).map((q) => `/v1/account/ledger${q}`),
          badQuery(['limit', 'before', 'verify']).map((q) => `/v1/account/audit${q}`),
          badQuery(['type', 'limit', 'cursor']).map((q) => `/v1/account/activities${q}`),
          badSegment.map((s) => `/v1/positions/${s}`),
        ),
        (path) => answered(base, { method: 'GET', path, headers: alice }),
        60,
      ),
    ))

  test('refused for sure: ids of nobody, months to come, cursors nobody gave, limits out of range', () =>
    unchanged(() =>
      check(
        fc.oneof(
          fc.integer({ min: 1_000_000, max: Number.MAX_SAFE_INTEGER }).map((id) => `/v1/account/ledger/${id}`),
          fc.constantFrom('0', '-1', '1.5', 'abc', '9007199254740993').map((id) => `/v1/account/ledger/${id}`),
          fc.constantFrom('2999-01', '2199-12', '1969-12', '2026-13', 'x').map((m) => `/v1/account/statements/${m}`),
          fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 201 })).map((n) => `/v1/account/activities?limit=${n}`),
          fc.constantFrom('fill', 'trade', 'FILL', '').filter((t) => t !== 'fill').map((t) => `/v1/account/activities?type=${t}x`),
          fc.string({ minLength: 1, maxLength: 60 }).map((c) => `/v1/account/activities?cursor=${encodeURIComponent(c)}`),
          fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 501 })).map((n) => `/v1/account/audit?limit=${n}`),
          fc.constantFrom('yes', 'TRUE', '2', '').map((v) => `/v1/account/audit?verify=${v}x`),
        ),
        (path) => refused(base, { method: 'GET', path, headers: alice }),
      ),
    ))
})

describe('fuzz: free text (unicode, control characters, NUL)', () => {
  test('display names and symbol names of any text: accepted or refused, never a 5xx', async () => {
    const listed = await api.call('POST', '/v1/admin/symbols', admin, { symbol: 'FUZZ', name: 'Fuzz', reference_price: '10.00' })
    expect(listed.status).toBe(201)
    let i = 0
    await check(
      fc.tuple(fc.constantFrom('account', 'register', 'symbol'), nastyString),
      async ([where, text]) => {
        const body = JSON.stringify(
          where === 'account'
            ? { display_name: text }
            : where === 'register'
              ? { email: `t${++i}-${FUZZ_SEED}@fuzz.example`, password: DEMO_PASSWORD, display_name: text }
              : { name: text },
        )
        const [method, path, auth] =
          where === 'account' ? ['PATCH', '/v1/account', carol] : where === 'register' ? ['POST', '/v1/auth/register', {}] : ['PATCH', '/v1/admin/symbols/FUZZ', admin]
        await answered(base, { method, path, headers: { ...auth, ...J }, body })
      },
      40,
    )
    expect((await api.call('PATCH', '/v1/account', carol, { display_name: 'Carol' })).status).toBe(200)
  })

  // found by this suite: Postgres text cannot hold a NUL, which was a 500 (now refused as 400)
  test('NUL in display_name or a symbol’s name is a 4xx, not a 500', async () => {
    const body = (o: Body) => JSON.stringify(o)
    for (const r of [
      { method: 'PATCH', path: '/v1/account', headers: { ...carol, ...J }, body: body({ display_name: 'a\u0000b' }) },
      { method: 'POST', path: '/v1/auth/register', headers: J, body: body({ email: `nul-${FUZZ_SEED}@fuzz.example`, password: DEMO_PASSWORD, display_name: 'a\u0000b' }) },
      { method: 'POST', path: '/v1/admin/symbols', headers: { ...admin, ...J }, body: body({ symbol: 'NUL', name: 'a\u0000b', reference_price: '1.00' }) },
      { method: 'PATCH', path: '/v1/admin/symbols/AAPL', headers: { ...admin, ...J }, body: body({ name: 'a\u0000b' }) },
    ]) await refused(base, r)
  })
})

describe('fuzz: orders', () => {
  test('POST /v1/orders refuses every malformed order', () =>
    unchanged(() =>
      check(
        fc.tuple(
          hostileBodies(ORDER, ['symbol', 'side', 'type', 'qty', 'time_in_force'], orderBad, {
            literalFields: ['symbol', 'side', 'type', 'price', 'time_in_force', 'client_order_id'],
          }),
          fc.option(fc.oneof(badIdempotencyKey, fc.uuid()), { nil: undefined }),
        ),
        ([b, key]) => refused(base, asRaw('POST', '/v1/orders', alice, b, key === undefined ? {} : { 'idempotency-key': key })),
        60,
      ),
    ))

  test('orders of a valid shape that the rules refuse (symbol, band, size, qty × price, money, shares): 422', () =>
    unchanged(() =>
      check(ruleRefusedOrder, async (order) => {
        const a = await refused(base, { method: 'POST', path: '/v1/orders', headers: { ...alice, ...J }, body: JSON.stringify(order) }, [422])
        expect(a.json.code).toBeOneOf([
          'unknown_symbol', 'price_out_of_band', 'qty_above_max', 'notional_above_max',
          'insufficient_buying_power', 'insufficient_shares', 'day_trade_limit',
        ])
      }, 40),
    ))

  test('inconsistent type/price/stop/post_only combinations: 400', () =>
    unchanged(() =>
      check(
        fc.constantFrom(
          { ...ORDER, price: undefined },
          { ...ORDER, type: 'market' },
          { ...ORDER, type: 'stop' },
          { ...ORDER, type: 'stop_limit' },
          { ...ORDER, type: 'stop_limit', price: undefined, stop_price: '140.00' },
          { ...ORDER, post_only: true, time_in_force: 'ioc' },
          { ...ORDER, post_only: true, time_in_force: 'fok' },
          { ...ORDER, type: 'market', price: undefined, post_only: true },
          { ...ORDER, stop_price: '140.00' },
        ),
        (order) => refused(base, { method: 'POST', path: '/v1/orders', headers: { ...alice, ...J }, body: JSON.stringify(order) }, [400]),
        9,
      ),
    ))

  test('a token without the second factor cannot trade: 403 two_factor_required', () =>
    unchanged(() =>
      check(
        fc.tuple(fc.constantFrom('POST /v1/orders', 'POST /v1/orders/batch', `DELETE /v1/orders/${aliceOpen}`, `PATCH /v1/orders/${aliceOpen}`), fc.constant(0)),
        async ([route]) => {
          const [method, path] = route.split(' ')
          const body = path.endsWith('batch') ? { orders: [ORDER] } : method === 'PATCH' ? { qty: 1 } : ORDER
          // carol has no second factor; her PATCH/DELETE of alice's order would be 404 past the check
          const a = await refused(base, { method, path, headers: { ...carol, ...J }, ...(method !== 'DELETE' && { body: JSON.stringify(body) }) }, [403])
          expect(a.json.code).toBe('two_factor_required')
        },
        4,
      ),
    ))

  test('POST /v1/orders/batch: a bad envelope is refused; bad orders are each refused, none placed', () =>
    unchanged(() =>
      check(
        fc.oneof(
          hostileBodies({ orders: [ORDER] }, ['orders'], {
            orders: fc.oneof(
              fc.constantFrom([], null, {}, 'orders', 1),
              fc.integer({ min: 51, max: 200 }).map((n) => Array.from({ length: n }, () => ({ ...ORDER, qty: 100_001 }))),
            ),
          }).map((b) => ({ kind: 'envelope' as const, b })),
          fc
            .array(
              fc.oneof(
                hostileBodies(ORDER, ['symbol', 'side', 'type', 'qty', 'time_in_force'], orderBad)
                  .filter((b) => typeof b.body === 'string' && b.contentType === 'application/json' && b.body.length < 2000)
                  .map((b) => {
                    try {
                      return JSON.parse(b.body as string) as unknown
                    } catch {
                      return 'not json'
                    }
                  }),
                ruleRefusedOrder,
              ),
              { minLength: 1, maxLength: 8 },
            )
            .map((orders) => ({ kind: 'orders' as const, orders })),
        ),
        async (t) => {
          if (t.kind === 'envelope') return refused(base, asRaw('POST', '/v1/orders/batch', alice, t.b))
          const raw: Raw = { method: 'POST', path: '/v1/orders/batch', headers: { ...alice, ...J }, body: JSON.stringify({ orders: t.orders }) }
          const a = await answered(base, raw)
          if (a.status !== 200) return checkProblem(raw, a) // e.g. the whole body over 16 KiB
          expect(a.json.placed).toBe(0)
          expect(a.json.refused).toBe(t.orders.length)
          for (const r of a.json.results) {
            expect(r.status).toBeGreaterThanOrEqual(400)
            expect(r.status).toBeLessThan(500)
            expect(r.error.status).toBe(r.status)
            expect(r.error.type).toBe(`https://bourse.dev/problems/${r.error.code}`)
            expect(typeof r.error.title).toBe('string')
            expect(typeof r.error.detail).toBe('string')
          }
        },
      ),
    ))

  test('GET /v1/orders and /v1/orders/:id: bad params and queries never 5xx; nobody’s ids 404', () =>
    unchanged(() =>
      check(
        fc.oneof(
          badSegment.map((s) => ({ path: `/v1/orders/${s}`, sure: false })),
          badQuery(['status', 'symbol', 'limit', 'cursor']).map((q) => ({ path: `/v1/orders${q}`, sure: false })),
          fc.constantFrom('status=done', 'status=OPEN', 'symbol=aapl', 'limit=0', 'limit=201', 'limit=1.5', 'cursor=-1', 'cursor=abc').map((q) => ({ path: `/v1/orders?${q}`, sure: true })),
          fc.integer({ min: 1_000_000, max: Number.MAX_SAFE_INTEGER }).map((id) => ({ path: `/v1/orders/${id}`, sure: true })),
          fc.constant({ path: `/v1/orders/${0}`, sure: true }),
        ),
        ({ path, sure }) => (sure ? refused : answered)(base, { method: 'GET', path, headers: alice }),
        50,
      ),
    ))

  test('DELETE /v1/orders/:id: bad ids 400, nobody’s or someone else’s 404, a done order 409; nothing canceled', () =>
    unchanged(() =>
      check(
        fc.oneof(
          badSegment.filter(notAnId),
          fc.integer({ min: 1_000_000, max: Number.MAX_SAFE_INTEGER }).map(String),
          // (alice's canceled order: its 409, below)
          fc.constant(String(bobOpen)),
        ),
        async (id) => {
          const a = await refused(base, { method: 'DELETE', path: `/v1/orders/${id}`, headers: alice })
          if (id === String(bobOpen)) expect([a.status, a.json.code]).toEqual([404, 'not_found'])
        },
      ),
    ))

  // found by this suite: the order's status used to replace the problem's `status` member
  test('a done order’s 409 not_cancelable / not_amendable keeps status = 409', async () => {
    const del = await refused(base, { method: 'DELETE', path: `/v1/orders/${aliceDone}`, headers: alice }, [409])
    expect(del.json).toMatchObject({ code: 'not_cancelable', status: 409, order_status: 'canceled' })
    const amend = await refused(base, { method: 'PATCH', path: `/v1/orders/${aliceDone}`, headers: { ...alice, ...J }, body: '{"qty":1}' }, [409])
    expect(amend.json.code).toBe('not_amendable')
  })

  test('PATCH /v1/orders/:id: bad ids and bodies, a qty not below the open one, someone else’s order', () =>
    unchanged(() =>
      check(
        fc.oneof(
          hostileBodies({ qty: 5 }, ['qty'], { qty: badQty }).map((b) => ({ id: String(aliceOpen), b })),
          fc.integer({ min: 10, max: Number.MAX_SAFE_INTEGER }).map((qty) => ({ id: String(aliceOpen), b: { contentType: 'application/json', body: JSON.stringify({ qty }) } })),
          fc.constantFrom(String(bobOpen), '99999999').map((id) => ({ id, b: { contentType: 'application/json', body: '{"qty":1}' } })),
          badSegment.filter(notAnId).map((id) => ({ id, b: { contentType: 'application/json', body: '{"qty":1}' } })),
        ),
        ({ id, b }) => refused(base, asRaw('PATCH', `/v1/orders/${id}`, alice, b)),
      ),
    ))
})

describe('fuzz: market data', () => {
  test('symbols, book, quotes, nbbo: bad symbols, depths and lists never 5xx; unknown ones 404', () =>
    unchanged(() =>
      check(
        fc.oneof(
          badSegment.map((s) => ({ path: `/v1/book/${s}`, sure: false })),
          badSegment.map((s) => ({ path: `/v1/quotes/${s}`, sure: false })),
          badSegment.map((s) => ({ path: `/v1/nbbo/${s}`, sure: false })),
          badQuery(['depth']).map((q) => ({ path: `/v1/book/AAPL${q}`, sure: false })),
          badQuery(['symbols']).map((q) => ({ path: `/v1/quotes${q}`, sure: false })),
          badQuery(['x']).map((q) => ({ path: `/v1/symbols${q}`, sure: false })),
          fc.constantFrom('0', '-1', '1001', '1.5', 'abc', '', '1e3', '99999999999999999999').map((d) => ({ path: `/v1/book/AAPL?depth=${d}`, sure: true })),
          fc.tuple(fc.constantFrom('ZZZZ', 'NOPE', 'A1'), fc.constantFrom('book', 'quotes', 'nbbo')).map(([s, r]) => ({ path: `/v1/${r}/${s}`, sure: true })),
          fc.constantFrom('', ',', 'aapl', 'AAPL,,%00', Array.from({ length: 51 }, (_, i) => `S${i}`).join(',')).map((s) => ({ path: `/v1/quotes?symbols=${s}`, sure: true })),
        ),
        ({ path, sure }) => (sure ? refused : answered)(base, { method: 'GET', path, headers: {} }),
        60,
      ),
    ))

  // found by this suite: the book's symbol went to Postgres unchecked, a NUL was a 500
  test('GET /v1/book/%00 is a 4xx, not a 500', async () => {
    for (const path of ['/v1/book/%00', '/v1/book/AAPL%00']) await refused(base, { method: 'GET', path })
  })
})

describe('fuzz: admin', () => {
  const adminRoutes: [string, string, Body?][] = [
    ['POST', '/v1/admin/venues'],
    ['GET', '/v1/admin/venues'],
    ['POST', '/v1/admin/feeds'],
    ['POST', '/v1/admin/symbols', { symbol: 'EVIL', name: 'Evil', reference_price: '1.00' }],
    ['PATCH', '/v1/admin/symbols/AAPL', { reference_price: '1.00' }],
    ['GET', '/v1/admin/settlement/2026-11-25/submission'],
    ['POST', '/v1/admin/settlement/2026-11-25/confirmations'],
    ['GET', '/v1/admin/settlement/discrepancies'],
    ['POST', '/v1/admin/settlement/discrepancies/1/resolution', { action: 'close', note: 'x' }],
    ['GET', '/v1/admin/settlement/2026-11-25'],
    ['POST', '/v1/admin/reconciliation'],
    ['GET', '/v1/admin/reconciliation'],
    ['POST', '/v1/admin/eod', {}],
    ['PATCH', '/v1/admin/users/1', { role: 'admin' }],
    ['GET', '/v1/admin/accounts/1'],
    ['POST', '/v1/admin/accounts/1/deposits', { amount: '1000.00' }],
    ['POST', '/v1/admin/accounts/1/transfers', { symbol: 'AAPL', qty: 1000, cost_basis: '0.00' }],
    ['GET', '/v1/admin/books/AAPL'],
    ['GET', '/v1/admin/reports/trades?from=2026-01-01&to=2026-01-02'],
    ['GET', '/v1/admin/no-such-thing'],
  ]

  test('a non-admin (with or without 2FA) gets 404 not_found on every admin route, whatever it sends', () =>
    unchanged(() =>
      check(
        fc.tuple(fc.constantFrom(...adminRoutes), fc.constantFrom('alice', 'bob', 'carol'), fc.option(fc.constantFrom(...PRIVILEGED_FIELDS), { nil: undefined })),
        async ([[method, path, body], who, extra]) => {
          const auth = { alice, bob, carol }[who]!
          const sent = body && { ...body, ...(extra && { [extra]: 'admin' }) }
          const userPath = path.replace('/users/1', `/users/${ids[who as 'alice']}`).replace('/accounts/1', `/accounts/${ids[who as 'alice']}`)
          const a = await refused(base, { method, path: userPath, headers: { ...auth, ...(sent && J) }, ...(sent && { body: JSON.stringify(sent) }) }, [404])
          expect(a.json.code).toBe('not_found')
        },
        60,
      ),
    ))

  test('symbols: create and update refuse bad bodies and params; an existing symbol 409', () =>
    unchanged(() =>
      check(
        fc.oneof(
          hostileBodies({ symbol: 'FZZZ', name: 'Fuzz', reference_price: '10.00' }, ['symbol', 'name', 'reference_price'], {
            symbol: fc.oneof(orderBad.symbol, fc.constant('AAPL')),
            name: fc.constantFrom('', '   ', 'x'.repeat(201), null, 1, []),
            reference_price: badMoney,
            tick_size: badMoney,
            status: fc.constantFrom('open', 'ACTIVE', '', null, 1),
            extended_hours: fc.constantFrom('true', 1, null, 'yes'),
          }).map((b) => ['POST', '/v1/admin/symbols', b] as const),
          hostileBodies({ name: 'Apple Inc.' }, [], {
            name: fc.constantFrom('', '   ', 'x'.repeat(201), null, 1, []),
            reference_price: badMoney,
            tick_size: badMoney,
            status: fc.constantFrom('open', 'ACTIVE', '', null, 1),
            extended_hours: fc.constantFrom('true', 1, null, 'yes'),
          }).map((b) => ['PATCH', '/v1/admin/symbols/AAPL', b] as const),
          badSegment
            .filter((s) => !/^[A-Z][A-Z0-9.]{0,9}$/.test(s))
            .map((s) => ['PATCH', `/v1/admin/symbols/${s}`, { contentType: 'application/json', body: '{"name":"x"}' }] as const),
          fc.constantFrom('ZZZZ', 'NOPE').map((s) => ['PATCH', `/v1/admin/symbols/${s}`, { contentType: 'application/json', body: '{"name":"x"}' }] as const),
        ),
        ([method, path, b]) => refused(base, asRaw(method, path, admin, b)),
        50,
      ),
    ))

  test('PATCH /v1/admin/users/:id refuses bad tiers, roles, short limits, cash and ids', () =>
    unchanged(() =>
      check(
        fc.oneof(
          hostileBodies({ tier: 'retail' }, [], {
            tier: fc.oneof(fc.constantFrom('gold', 'PRO', '', null, 1), nastyString),
            role: fc.oneof(fc.constantFrom('root', 'superuser', 'ADMIN', '', null, ['admin']), nastyString),
            short_limit: fc.oneof(badQty, fc.constantFrom(1_000_001, 2 ** 31)),
          }, { literalFields: ['tier', 'role'] }).map((b) => ({ id: String(ids.alice), b })),
          // a short limit is for market makers only: alice is a trader
          fc.integer({ min: 1, max: 1_000_000 }).map((n) => ({ id: String(ids.alice), b: { contentType: 'application/json', body: JSON.stringify({ short_limit: n }) } })),
          badSegment.filter(notAnId).map((id) => ({ id, b: { contentType: 'application/json', body: '{"tier":"pro"}' } })),
          fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }).map((id) => ({ id: String(id), b: { contentType: 'application/json', body: '{"tier":"pro"}' } })),
        ),
        ({ id, b }) => refused(base, asRaw('PATCH', `/v1/admin/users/${id}`, admin, b)),
      ),
    ))

  test('admin reads: accounts, books, settlement, discrepancies, reconciliation, reports refuse bad params', () =>
    unchanged(() =>
      check(
        fc.oneof(
          badSegment.filter(notAnId).map((s) => `/v1/admin/accounts/${s}`),
          fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }).map((id) => `/v1/admin/accounts/${id}`),
          badSegment.filter((s) => !/^[A-Z][A-Z0-9.]{0,9}$/.test(s)).map((s) => `/v1/admin/books/${s}`),
          fc.constantFrom('ZZZZ').map((s) => `/v1/admin/books/${s}`),
          badSegment.map((s) => `/v1/admin/settlement/${s}/submission`),
          fc.constantFrom('2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', '20260101', 'today').map((d) => `/v1/admin/settlement/${d}`),
          fc.constantFrom('status=closed', 'limit=0', 'limit=501', 'cursor=-1', 'date=2026-02-30', 'evil=1', 'limit=1e3x').map((q) => `/v1/admin/settlement/discrepancies?${q}`),
          fc.constantFrom('limit=0', 'limit=101', 'limit=abc', 'extra=1').map((q) => `/v1/admin/reconciliation?${q}`),
          fc.constantFrom(
            'from=2026-01-02&to=2026-01-01', 'from=2020-01-01&to=2026-01-01', 'from=2026-02-30&to=2026-03-01',
            'from=2026-01-01', 'to=2026-01-01', 'from=2026-01-01&to=2026-01-02&format=xml', 'from=x&to=y', '',
          ).map((q) => `/v1/admin/reports/trades?${q}`),
        ),
        (path) => refused(base, { method: 'GET', path, headers: admin }),
        50,
      ),
    ))

  test('admin writes: eod, confirmations, resolutions refuse bad dates, types and bodies', () =>
    unchanged(() =>
      check(
        fc.oneof(
          hostileBodies({ date: '2026-11-26' /* Thanksgiving: not a trading day */ }, [], {
            date: fc.oneof(fc.constantFrom('2026-02-30', '2026-13-01', '26-11-25', 'today', '', null, 20261125), nastyString),
          }, { emptyObjectRefused: false }).map((b) => ['POST', '/v1/admin/eod', b] as const),
          fc.constantFrom('2026-11-26', '2026-11-28', '2026-11-29').map((date) => ['POST', '/v1/admin/eod', { contentType: 'application/json', body: JSON.stringify({ date }) }] as const),
          fc.tuple(fc.constantFrom('2026-11-25', '2026-02-30', 'x'), wrongContentType.filter((t) => t !== 'text/csv'), fc.string({ maxLength: 50 })).map(
            ([date, contentType, body]) => ['POST', `/v1/admin/settlement/${date}/confirmations`, { contentType, body }] as const,
          ),
          fc.tuple(fc.constantFrom('2026-11-25', '2030-01-02'), fc.oneof(fc.string({ maxLength: 200 }), nastyString)).map(
            ([date, body]) => ['POST', `/v1/admin/settlement/${date}/confirmations`, { contentType: 'text/csv', body }] as const,
          ),
          fc.integer({ min: 9 * 1024 * 1024, max: 9 * 1024 * 1024 + 10 }).map((n) => ['POST', '/v1/admin/settlement/2026-11-25/confirmations', { contentType: 'text/csv', body: 'x'.repeat(n) }] as const),
          hostileBodies({ action: 'close', note: 'checked' }, ['action', 'note'], {
            action: fc.oneof(fc.constantFrom('delete', 'SETTLE', '', null), nastyString),
            note: fc.constantFrom('', '   ', 'x'.repeat(2001), null, 1),
          }).map((b) => ['POST', '/v1/admin/settlement/discrepancies/99999999/resolution', b] as const),
          badSegment.filter(notAnId).map((s) => ['POST', `/v1/admin/settlement/discrepancies/${s}/resolution`, { contentType: 'application/json', body: '{"action":"close","note":"x"}' }] as const),
        ),
        ([method, path, b]) => refused(base, asRaw(method, path, admin, b as { contentType?: string; body: string })),
        40,
      ),
    ))

  test('unknown paths and methods anywhere: 404 problem', () =>
    unchanged(() =>
      check(
        fc.tuple(
          fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
          fc.oneof(
            badSegment.map((s) => `/v1/${s}`),
            badSegment.map((s) => `/v1/admin/${s}`),
            fc.constantFrom('/v1/account/deposits', '/v1/symbols', '/v1/orders/batch', '/healthz', '/v1/account/statements'),
          ),
        ).filter(([m, p]) => !(m === 'GET' && (p === '/v1/symbols' || p === '/healthz'))),
        ([method, path]) =>
          answered(base, { method, path, headers: { ...admin, ...J }, ...(method !== 'GET' && { body: '{}' }) }).then((a) => {
            if (a.status < 400) throw new Error(`${method} ${path} answered ${a.status}`)
          }),
        50,
      ),
    ))
})

// Idempotency abuse and mass assignment: test/security/idempotency-abuse.test.ts and
// test/security/auth-attacks.test.ts (every route with a JSON body, read off the app).
