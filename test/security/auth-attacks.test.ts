// Attacks on authentication and authorization, gathered in one suite (issue 9), against the whole
// app in process (createApp, the test database, each symbol's real journal and book standing in
// for its Durable Object). Each case checks the exact status and problem code, and that the
// attacker changed nothing: the victim's user row, positions, orders and ledger read the same
// afterwards, straight from Postgres.
//  - forged and stale access tokens: alg none, HS256 made with the public key, forged or unknown
//    kid, an embedded jwk, a bad signature, expired, not yet valid, wrong iss / aud / typ, no exp;
//  - the tokens of a deleted user;
//  - refresh-token reuse (the whole family is revoked) and concurrent refreshes;
//  - one-time codes: a replayed code, and guessing (the account locks);
//  - BOLA on every route with a path parameter, read off the app's own route table, so a route
//    added later is covered or fails here until it is classified: another user's ids are 404 like
//    missing ones (never 403: ids do not leak), admin routes are 404 for everyone else;
//  - mass assignment on every route that takes a JSON body, also read off the app: role, tier,
//    cash, status, filled_qty and the like are 400 invalid_request naming the field.
import { beforeAll, describe, expect, test } from 'bun:test'
import { asc, eq, inArray, sql } from 'drizzle-orm'
import { SignJWT, base64url, exportJWK, generateKeyPair, importJWK } from 'jose'
import type { JWK } from 'jose'
import { createClient } from '../../src/client/index.ts'
import { generateSigningKey } from '../../src/auth/keys.ts'
import { hashPassword } from '../../src/auth/password.ts'
import { issueAccessToken, newRefreshToken, sha256Hex } from '../../src/auth/tokens.ts'
import { currentStep, totpAt } from '../../src/auth/totp.ts'
import type { Db } from '../../src/db/client.ts'
import { cashLedger, orders, positions, refreshTokens, users } from '../../src/db/schema.ts'
import { settingsFrom } from '../../src/env.ts'
import type { Env } from '../../src/env.ts'
import { validators } from '../../src/lib/validate.ts'
import { PASSWORD, uniqueEmail } from '../helpers/app.ts'
import { inProcessApp, secondFactorAuth } from '../helpers/in-process-app.ts'
import { turnOnTwoFactor } from '../helpers/two-factor.ts'

type Json = Record<string, any>

const { app, fixtures, envWith, open } = inProcessApp()
let db: Db
let env: Env

interface User {
  id: number
  email: string
  /** headers with an access token from a login with a one-time code */
  auth: Record<string, string>
  refresh_token: string
}
let alice: User // the victim: funded, holds shares, has an open order
let mallory: User // the attacker, an ordinary trader
let symbol: string
let aliceOrder: number
let aliceEntry: number

async function request(
  method: string,
  path: string,
  auth: Record<string, string> = {},
  body?: unknown,
  e: Env = env,
) {
  const res = await app.request(
    path,
    {
      method,
      headers: { ...auth, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    },
    e,
  )
  const text = await res.text()
  let json: Json = {}
  try {
    json = JSON.parse(text)
  } catch {
    // CSV, HTML
  }
  return { status: res.status, headers: res.headers, text, body: json }
}

/** registers and logs in; the access token is issued with the second factor, as trading needs */
async function newUser(tag: string, e: Env = env): Promise<User> {
  const email = uniqueEmail(tag)
  const reg = await request('POST', '/v1/auth/register', {}, { email, password: PASSWORD }, e)
  expect(reg.status).toBe(201)
  const login = await request('POST', '/v1/auth/login', {}, { email, password: PASSWORD }, e)
  expect(login.status).toBe(200)
  return {
    id: reg.body.id,
    email,
    auth: await secondFactorAuth(e, reg.body.id),
    refresh_token: login.body.refresh_token,
  }
}

/** Everything of a user an attack could change, read from Postgres. */
async function stateOf(userId: number) {
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  return {
    user,
    positions: await db.select().from(positions).where(eq(positions.userId, userId)).orderBy(asc(positions.symbol)),
    orders: await db.select().from(orders).where(eq(orders.userId, userId)).orderBy(asc(orders.id)),
    ledger: await db.select().from(cashLedger).where(eq(cashLedger.userId, userId)).orderBy(asc(cashLedger.id)),
  }
}

/** Runs the attack; alice's and mallory's state must read the same afterwards. */
async function nothingChanges(attack: () => Promise<void>) {
  const before = await Promise.all([stateOf(alice.id), stateOf(mallory.id)])
  await attack()
  expect(await Promise.all([stateOf(alice.id), stateOf(mallory.id)])).toEqual(before)
}

function expectProblem(res: Awaited<ReturnType<typeof request>>, status: number, code: string) {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code })
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  expect(res.body.type).toBe(`https://bourse.dev/problems/${code}`)
}

beforeAll(async () => {
  ;({ db, env } = await open())
  symbol = await fixtures.newSymbol() // reference 150.00
  alice = await newUser('alice')
  mallory = await newUser('mallory')
  const deposit = await request('POST', '/v1/account/deposits', alice.auth, { amount: '4242.42' })
  expect(deposit.status).toBe(201)
  aliceEntry = deposit.body.id
  await fixtures.giveShares(alice.id, symbol, 50, 700_000)
  const placed = await request('POST', '/v1/orders', alice.auth, {
    symbol, side: 'buy', type: 'limit', qty: 10, price: '140.00', time_in_force: 'gtc',
  })
  expect(placed.status).toBe(201)
  aliceOrder = placed.body.id
}, 60_000)

describe('forged and stale access tokens: 401 unauthorized with a reason, nothing changes', () => {
  let jwk: JWK & { kid: string }
  let key: CryptoKey
  beforeAll(async () => {
    jwk = JSON.parse(env.JWT_PRIVATE_KEY!)
    key = (await importJWK(jwk, 'ES256')) as CryptoKey
  })

  const now = () => Math.floor(Date.now() / 1000)

  /** a token exactly like ours for alice, with `change` applied to the builder before signing */
  async function token(
    change: (b: SignJWT) => SignJWT = (b) => b,
    opts: { header?: Record<string, unknown>; key?: CryptoKey | Uint8Array } = {},
  ) {
    const b = new SignJWT({ amr: ['pwd', 'otp'] })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt', ...opts.header })
      .setSubject(String(alice.id))
      .setIssuer('bourse')
      .setAudience('bourse-api')
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .setExpirationTime(now() + 300)
    return change(b).sign(opts.key ?? key)
  }

  /** a read and two writes (a withdrawal, an order) with the header: each 401, nothing moves */
  const refused = (authorization: string | undefined, reason: string) =>
    nothingChanges(async () => {
      const auth: Record<string, string> = authorization === undefined ? {} : { authorization }
      for (const [method, path, body] of [
        ['GET', '/v1/account', undefined],
        ['POST', '/v1/account/withdrawals', { amount: '100.00' }],
        ['DELETE', `/v1/orders/${aliceOrder}`, undefined],
      ] as const) {
        const res = await request(method, path, auth, body)
        expectProblem(res, 401, 'unauthorized')
        expect(res.body.reason).toBe(reason)
        expect(res.headers.get('www-authenticate')).toStartWith('Bearer')
      }
    })

  /** header.payload with no signature */
  const unsigned = (header: object, payload: object) =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.`

  const goodClaims = () => ({
    sub: String(alice.id),
    iss: 'bourse',
    aud: 'bourse-api',
    iat: now(),
    exp: now() + 300,
    jti: crypto.randomUUID(),
    amr: ['pwd', 'otp'],
  })

  test('control: our own token is accepted', async () => {
    expect((await request('GET', '/v1/account', { authorization: `Bearer ${await token()}` })).status).toBe(200)
  })

  test('missing', () => refused(undefined, 'token_missing'))
  test('not a Bearer header', () => refused(`Basic ${btoa('a:b')}`, 'token_malformed'))
  test('malformed', () => refused('Bearer not-a-jwt', 'token_malformed'))
  test('malformed: three parts of garbage', () => refused('Bearer abc.def.ghi', 'token_malformed'))

  test('bad signature (payload changed after signing: mallory makes her own token say alice)', async () => {
    const [h, payload, s] = mallory.auth.authorization.slice('Bearer '.length).split('.')
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)))
    expect(claims.sub).toBe(String(mallory.id))
    const forged = base64url.encode(JSON.stringify({ ...claims, sub: String(alice.id) }))
    await refused(`Bearer ${h}.${forged}.${s}`, 'bad_signature')
  })

  test('signed by a key that is not ours, with our kid', async () => {
    const { privateKey } = await generateKeyPair('ES256')
    await refused(`Bearer ${await token(undefined, { key: privateKey })}`, 'bad_signature')
  })

  test('alg: none', () =>
    refused(`Bearer ${unsigned({ alg: 'none', typ: 'at+jwt', kid: jwk.kid }, goodClaims())}`, 'alg_not_allowed'))

  test('HS256 "signed" with our public key (algorithm confusion)', async () => {
    const jwks = (await request('GET', '/.well-known/jwks.json')).body as { keys: JWK[] }
    const publicJwk = jwks.keys[0]
    // the attacker uses the published public key as an HMAC secret, in both usual encodings
    for (const secret of [
      new TextEncoder().encode(JSON.stringify(publicJwk)),
      new TextEncoder().encode(`${publicJwk.x}${publicJwk.y}`),
    ]) {
      await refused(`Bearer ${await token(undefined, { header: { alg: 'HS256' }, key: secret })}`, 'alg_not_allowed')
    }
  })

  test('forged kid: unknown, absent, or naming a key we do not hold that signed it', async () => {
    await refused(`Bearer ${await token(undefined, { header: { kid: 'nope' } })}`, 'unknown_kid')
    await refused(`Bearer ${await token(undefined, { header: { kid: undefined } })}`, 'unknown_kid')
    const other = JSON.parse(await generateSigningKey('stranger')) as JWK
    const otherKey = (await importJWK(other, 'ES256')) as CryptoKey
    await refused(`Bearer ${await token(undefined, { header: { kid: 'stranger' }, key: otherKey })}`, 'unknown_kid')
  })

  test('a key embedded in the header (jwk) is never used', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const embedded = await exportJWK(publicKey)
    for (const kid of [jwk.kid, 'attacker']) {
      const t = await token(undefined, { header: { kid, jwk: embedded }, key: privateKey })
      await refused(`Bearer ${t}`, kid === jwk.kid ? 'bad_signature' : 'unknown_kid')
    }
  })

  test('wrong issuer', async () => refused(`Bearer ${await token((b) => b.setIssuer('evil'))}`, 'wrong_issuer'))
  test('wrong audience', async () =>
    refused(`Bearer ${await token((b) => b.setAudience('other-api'))}`, 'wrong_audience'))

  test('expired', async () =>
    refused(`Bearer ${await token((b) => b.setIssuedAt(now() - 1000).setExpirationTime(now() - 100))}`, 'token_expired'))

  test('not yet valid (nbf in the future)', async () =>
    refused(`Bearer ${await token((b) => b.setNotBefore(now() + 600))}`, 'token_not_yet_valid'))

  test('no exp at all', async () => {
    const { exp: _exp, ...claims } = goodClaims()
    const t = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' }).sign(key)
    await refused(`Bearer ${t}`, 'missing_claim')
  })

  test('not an access token (typ)', async () =>
    refused(`Bearer ${await token(undefined, { header: { typ: 'JWT' } })}`, 'wrong_type'))

  test('a password-only token cannot trade: 403 two_factor_required, reads work', async () => {
    const pwdOnly = {
      authorization: `Bearer ${await issueAccessToken(env, settingsFrom(env), alice.id, ['pwd'])}`,
    }
    expect((await request('GET', '/v1/orders', pwdOnly)).status).toBe(200)
    await nothingChanges(async () => {
      const order = { symbol, side: 'buy', type: 'limit', qty: 1, price: '140.00', time_in_force: 'gtc' }
      expectProblem(await request('POST', '/v1/orders', pwdOnly, order), 403, 'two_factor_required')
      expectProblem(await request('DELETE', `/v1/orders/${aliceOrder}`, pwdOnly), 403, 'two_factor_required')
      expectProblem(await request('PATCH', `/v1/orders/${aliceOrder}`, pwdOnly, { qty: 1 }), 403, 'two_factor_required')
    })
  })
})

describe('the tokens of a deleted user', () => {
  test('grant nothing: account and session routes 401 unknown_user, funding 404, reads empty, never a 5xx', async () => {
    // a user with no history yet (an audited user cannot be deleted: the audit log is append-only)
    const email = uniqueEmail('gone')
    const passwordHash = await hashPassword(PASSWORD, settingsFrom(env).pbkdf2Iterations)
    const [{ id }] = await db
      .insert(users)
      .values({ email, displayName: 'gone', passwordHash })
      .returning({ id: users.id })
    const auth = await secondFactorAuth(env, id)
    expect((await request('GET', '/v1/account', auth)).status).toBe(200)
    // a session's refresh token, as a login would have stored it (a login itself is audited)
    const refresh_token = newRefreshToken()
    await db.insert(refreshTokens).values({
      userId: id,
      tokenHash: await sha256Hex(refresh_token),
      familyId: crypto.randomUUID(),
      mfa: true,
      expiresAt: new Date(Date.now() + 3_600_000),
    })
    // (the user's sessions go with the user)
    await db.delete(refreshTokens).where(eq(refreshTokens.userId, id))
    await db.delete(users).where(eq(users.id, id))
    const unknownUser = (r: Awaited<ReturnType<typeof request>>) => {
      expectProblem(r, 401, 'unauthorized')
      expect(r.body.reason).toBe('unknown_user')
    }
    await nothingChanges(async () => {
      unknownUser(await request('GET', '/v1/account', auth))
      unknownUser(await request('PATCH', '/v1/account', auth, { display_name: 'back' }))
      unknownUser(await request('POST', '/v1/auth/logout-all', auth))
      unknownUser(await request('POST', '/v1/auth/password', auth, { current_password: PASSWORD, new_password: 'a new passphrase' }))
      unknownUser(await request('POST', '/v1/auth/totp/enroll', auth))
      // neither the session's refresh token nor the password opens a new session
      const refreshed = await request('POST', '/v1/auth/refresh', {}, { refresh_token })
      expectProblem(refreshed, 401, 'unauthorized')
      expect(refreshed.body.reason).toBe('invalid_refresh_token')
      const login = await request('POST', '/v1/auth/login', {}, { email, password: PASSWORD })
      expectProblem(login, 401, 'invalid_credentials')
      for (const [path, body] of [
        ['/v1/account/deposits', { amount: '1.00' }],
        ['/v1/account/withdrawals', { amount: '1.00' }],
        ['/v1/account/transfers', { symbol, qty: 1, cost_basis: '1.00' }],
        ['/v1/orders', { symbol, side: 'buy', type: 'limit', qty: 1, price: '140.00', time_in_force: 'gtc' }],
      ] as const) {
        expectProblem(await request('POST', path, auth, body), 404, 'not_found')
      }
      // reads find nothing of anyone's: the user's own rows are gone, ids are never reused
      expect((await request('GET', '/v1/orders', auth)).body).toEqual({ orders: [], next_cursor: null })
      expect((await request('GET', '/v1/positions', auth)).body).toEqual({ positions: [] })
      expect((await request('GET', '/v1/account/ledger', auth)).body).toEqual({ entries: [], next_before: null })
      expectProblem(await request('GET', `/v1/orders/${aliceOrder}`, auth), 404, 'not_found')
    })
    expect(await db.select().from(users).where(eq(users.id, id))).toEqual([])
  })
})

describe('refresh tokens', () => {
  test('reusing a rotated refresh token revokes the whole family: 401 invalid_refresh_token', async () => {
    const u = await newUser('reuse')
    const r1 = await request('POST', '/v1/auth/refresh', {}, { refresh_token: u.refresh_token })
    expect(r1.status).toBe(200)
    // the old token again: theft is assumed, the family dies
    const replay = await request('POST', '/v1/auth/refresh', {}, { refresh_token: u.refresh_token })
    expectProblem(replay, 401, 'unauthorized')
    expect(replay.body.reason).toBe('invalid_refresh_token')
    // so the legitimately rotated token no longer works either
    const r2 = await request('POST', '/v1/auth/refresh', {}, { refresh_token: r1.body.refresh_token })
    expectProblem(r2, 401, 'unauthorized')
    const live = await db.select().from(refreshTokens).where(eq(refreshTokens.userId, u.id))
    expect(live.filter((t) => t.revokedAt === null)).toEqual([])
  })

  test('concurrent refreshes of one token: exactly one wins', async () => {
    const u = await newUser('race')
    const results = await Promise.all(
      Array.from({ length: 5 }, () => request('POST', '/v1/auth/refresh', {}, { refresh_token: u.refresh_token })),
    )
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401])
  })
})

describe('one-time codes', () => {
  const lockEnv = () => envWith({ LOGIN_LOCK_THRESHOLD: '3', LOGIN_LOCK_SECONDS: '60' })

  /** a user with TOTP on; the code that enabled it is spent */
  async function withTotp(e: Env) {
    const u = await newUser('otp', e)
    const user = createClient('http://bourse.test', {
      token: u.auth.authorization.slice('Bearer '.length),
      fetch: async (url, init) => app.request(url, init, e),
    })
    return { ...u, secret: await turnOnTwoFactor(user) }
  }

  test('a code works once: replayed at login it is 401 invalid_otp', async () => {
    const u = await withTotp(env)
    const next = await totpAt(u.secret, currentStep() + 1)
    const login = (otp: string) => request('POST', '/v1/auth/login', {}, { email: u.email, password: PASSWORD, otp })
    expect((await login(next)).status).toBe(200)
    expectProblem(await login(next), 401, 'invalid_otp')
    // nor can it turn the second factor off
    expectProblem(await request('POST', '/v1/auth/totp/disable', u.auth, { code: next }), 401, 'invalid_otp')
    const [row] = await db.select().from(users).where(eq(users.id, u.id))
    expect(row.totpEnabled).toBe(true)
  })

  test('guessing codes locks the account: the 3rd wrong code, then even the right one is 429', async () => {
    const e = await lockEnv()
    const u = await withTotp(e)
    const valid = new Set(await Promise.all([-1, 0, 1, 2].map((d) => totpAt(u.secret, currentStep() + d))))
    const guesses = ['123456', '654321', '111111', '222222', '333333', '444444'].filter((g) => !valid.has(g))
    const attempt = (otp: string) => request('POST', '/v1/auth/login', {}, { email: u.email, password: PASSWORD, otp }, e)
    for (const g of guesses.slice(0, 3)) expectProblem(await attempt(g), 401, 'invalid_otp')
    const [third] = await db.select().from(users).where(eq(users.id, u.id))
    const sent = Date.now()
    const locked = await attempt(await totpAt(u.secret, currentStep() + 1))
    const answered = Date.now()
    expectProblem(locked, 429, 'rate_limited')
    expect(locked.body.scope).toBe('account')
    // Retry-After is what the lock has left when the server answered
    expectRetryAfter(locked, third.lockedUntil!, sent, answered)
    const [row] = await db.select().from(users).where(eq(users.id, u.id))
    expect(row.failedLogins).toBe(3) // the locked attempt was not even looked at
    expect(row.lockedUntil).toEqual(third.lockedUntil)

    // once the lock runs out, one more wrong code locks it for twice as long
    await db.update(users).set({ lockedUntil: sql`now() - interval '1 second'` }).where(eq(users.id, u.id))
    const fourthSent = Date.now()
    expectProblem(await attempt(guesses[3]), 401, 'invalid_otp')
    const fourthAnswered = Date.now()
    const [fourth] = await db.select().from(users).where(eq(users.id, u.id))
    // twice the first lock (LOGIN_LOCK_SECONDS), from the moment of that wrong code
    const lock = settingsFrom(e).loginLockSeconds * 2 * 1000
    expect(fourth.lockedUntil!.getTime()).toBeGreaterThanOrEqual(fourthSent + lock - 1)
    expect(fourth.lockedUntil!.getTime()).toBeLessThanOrEqual(fourthAnswered + lock)
    const againSent = Date.now()
    const again = await attempt(await totpAt(u.secret, currentStep() + 1))
    expectProblem(again, 429, 'rate_limited')
    expectRetryAfter(again, fourth.lockedUntil!, againSent, Date.now())
  })

  /** Retry-After (whole seconds, rounded up) is the lock's end less the server's now, within the call */
  function expectRetryAfter(res: { headers: Headers }, lockedUntil: Date, sent: number, answered: number) {
    const retryAfter = Number(res.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil((lockedUntil.getTime() - answered) / 1000))
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((lockedUntil.getTime() - sent) / 1000))
  }

  test('a burst of wrong codes in parallel gets no more tries than the threshold', async () => {
    const e = await lockEnv()
    const u = await withTotp(e)
    const valid = new Set(await Promise.all([-1, 0, 1, 2].map((d) => totpAt(u.secret, currentStep() + d))))
    // 12 at once: PGlite (one Postgres session behind a socket) copes with that many clients
    const guesses = Array.from({ length: 12 }, (_, i) => String(100000 + i * 7919)).filter((g) => !valid.has(g))
    const results = await Promise.all(
      guesses.map((otp) => request('POST', '/v1/auth/login', {}, { email: u.email, password: PASSWORD, otp }, e)),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3)
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(guesses.length - 3)
  })
})

/** The app's routes, each method and path once (as src/openapi.ts reads them). */
function routeTable() {
  const seen = new Map<string, { method: string; path: string; handlers: unknown[] }>()
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue
    const key = `${r.method} ${r.path}`
    if (!seen.has(key)) seen.set(key, { method: r.method, path: r.path, handlers: [] })
    seen.get(key)!.handlers.push(r.handler)
  }
  return [...seen.values()]
}

describe('BOLA: every route with a path parameter', () => {
  const routes = routeTable().filter((r) => r.path.includes('/:'))
  /** alice's own resources, by route: mallory must get 404 for them, as for ids that do not exist */
  const OWNED: Record<string, () => string> = {
    '/v1/account/ledger/:id': () => `/v1/account/ledger/${aliceEntry}`,
    '/v1/orders/:id': () => `/v1/orders/${aliceOrder}`,
  }
  /** the parameter picks among the caller's own data: mallory sees hers, never a trace of alice's */
  const CALLERS_OWN: Record<string, () => string> = {
    '/v1/positions/:symbol': () => `/v1/positions/${symbol}`,
    '/v1/account/statements/:month': () => `/v1/account/statements/${new Date().toISOString().slice(0, 7)}`,
  }
  /** public market data: nobody's own */
  const PUBLIC = ['/v1/book/:symbol', '/v1/nbbo/:symbol', '/v1/quotes/:symbol', '/v1/market-data/:symbol']
  const BODIES: Record<string, unknown> = { PATCH: { qty: 1 }, POST: {} }

  test('every such route is classified (a new one must be added here)', () => {
    const known = new Set([...Object.keys(OWNED), ...Object.keys(CALLERS_OWN), ...PUBLIC])
    const unclassified = routes.filter((r) => !r.path.startsWith('/v1/admin/') && !known.has(r.path))
    expect(unclassified.map((r) => `${r.method} ${r.path}`)).toEqual([])
  })

  test("another user's ids: 404 not_found on every method, like an id that does not exist", () =>
    nothingChanges(async () => {
      const owned = routes.filter((r) => r.path in OWNED)
      expect(owned.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
        'DELETE /v1/orders/:id', 'GET /v1/account/ledger/:id', 'GET /v1/orders/:id', 'PATCH /v1/orders/:id',
      ])
      for (const r of owned) {
        const path = OWNED[r.path]()
        const stolen = await request(r.method, path, mallory.auth, BODIES[r.method])
        expectProblem(stolen, 404, 'not_found')
        // the same answer as for an id nobody has
        const missing = await request(r.method, path.replace(/\d+$/, '2000000000'), mallory.auth, BODIES[r.method])
        const shape = (r: typeof stolen) => [r.status, r.body.code, String(r.body.detail).replace(/\d+/g, 'N')]
        expect(shape(missing)).toEqual(shape(stolen))
      }
      // control: alice reads her own
      for (const r of owned.filter((r) => r.method === 'GET')) {
        expect((await request('GET', OWNED[r.path](), alice.auth)).status).toBe(200)
      }
    }))

  test('routes that pick among the caller’s own data show mallory no trace of alice’s', async () => {
    for (const r of routes.filter((r) => r.path in CALLERS_OWN)) {
      const res = await request(r.method, CALLERS_OWN[r.path](), mallory.auth)
      expect(res.status).toBeLessThan(500)
      expect(res.text).not.toContain('4242.42') // alice's deposit
      expect(res.text).not.toContain(alice.email)
    }
    expectProblem(await request('GET', `/v1/positions/${symbol}`, mallory.auth), 404, 'not_found')
    expect((await request('GET', `/v1/positions/${symbol}`, alice.auth)).body.qty).toBe(50)
  })

  test('admin routes, with any parameters: 404 not_found for a trader, as if they did not exist', () =>
    nothingChanges(async () => {
      const params: Record<string, string> = { id: String(alice.id), symbol, date: '2026-11-25' }
      const admin = routeTable().filter((r) => r.path.startsWith('/v1/admin/'))
      expect(admin.length).toBeGreaterThan(15)
      for (const r of admin) {
        const path = r.path.replace(/:(\w+)/g, (_, name: string) => params[name] ?? '1')
        const res = await request(r.method, path, mallory.auth, r.method === 'GET' ? undefined : { role: 'admin' })
        expectProblem(res, 404, 'not_found')
      }
    }))
})

describe('mass assignment: every route that takes a JSON body', () => {
  /** fields a client must never set, with values an attacker would want */
  const PRIVILEGED: [string, unknown][] = [
    ['role', 'admin'], ['tier', 'pro'], ['cash', '99999999.00'], ['cash_cents', 9_999_999_999],
    ['reserved_cash', '0.00'], ['status', 'filled'], ['filled_qty', 10], ['user_id', 1], ['id', 1],
    ['short_limit', 1_000_000], ['two_factor_enabled', false], ['avg_fill_price', '0.01'],
  ]
  const order = () => ({ symbol, side: 'buy', type: 'limit', qty: 1, price: '140.00', time_in_force: 'gtc' })
  /** a valid body for each route (and who sends it): with a privileged field added, refused */
  const VALID: Record<string, () => { auth: Record<string, string>; body: Json }> = {
    'POST /v1/auth/register': () => ({ auth: {}, body: { email: uniqueEmail('mass'), password: PASSWORD } }),
    'POST /v1/auth/login': () => ({ auth: {}, body: { email: mallory.email, password: PASSWORD } }),
    'POST /v1/auth/refresh': () => ({ auth: {}, body: { refresh_token: mallory.refresh_token } }),
    'POST /v1/auth/logout': () => ({ auth: {}, body: { refresh_token: mallory.refresh_token } }),
    'POST /v1/auth/password': () => ({ auth: mallory.auth, body: { current_password: PASSWORD, new_password: 'another passphrase' } }),
    'POST /v1/auth/totp/verify': () => ({ auth: mallory.auth, body: { code: '123456' } }),
    'POST /v1/auth/totp/disable': () => ({ auth: mallory.auth, body: { code: '123456' } }),
    'PATCH /v1/account': () => ({ auth: mallory.auth, body: { display_name: 'Mallory' } }),
    'POST /v1/account/deposits': () => ({ auth: mallory.auth, body: { amount: '1.00' } }),
    'POST /v1/account/withdrawals': () => ({ auth: mallory.auth, body: { amount: '1.00' } }),
    'POST /v1/account/transfers': () => ({ auth: mallory.auth, body: { symbol, qty: 1, cost_basis: '1.00' } }),
    'POST /v1/orders': () => ({ auth: mallory.auth, body: order() }),
    'POST /v1/orders/batch': () => ({ auth: mallory.auth, body: { orders: [order()] } }),
    'PATCH /v1/orders/:id': () => ({ auth: alice.auth, body: { qty: 5 } }),
  }
  const writable = routeTable().filter(
    (r) =>
      !r.path.startsWith('/v1/admin/') && // an admin's job is to set roles and tiers (404 to others: above)
      r.handlers.some((h) => validators.get(h as object)?.target === 'json'),
  )
  const pathOf = (path: string) => path.replace(':id', String(aliceOrder))

  test('every such route has a valid body here (a new one must be added)', () => {
    expect(writable.map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(VALID).sort())
  })

  test('role, tier, cash, status, filled_qty… added to any body: 400 invalid_request naming the field, never applied', () =>
    nothingChanges(async () => {
      for (const r of writable) {
        for (const [field, value] of PRIVILEGED) {
          const { auth, body } = VALID[`${r.method} ${r.path}`]()
          const res = await request(r.method, pathOf(r.path), auth, { ...body, [field]: value })
          expectProblem(res, 400, 'invalid_request')
          expect(res.body.errors.map((e: Json) => e.path)).toContain(field)
          if (r.path === '/v1/auth/register') {
            expect(await db.select().from(users).where(eq(users.email, body.email))).toEqual([])
          }
        }
      }
    }))

  test('inside a batch, each order carrying one is refused on its own; none placed', () =>
    nothingChanges(async () => {
      const orders = PRIVILEGED.map(([field, value]) => ({ ...order(), [field]: value }))
      const res = await request('POST', '/v1/orders/batch', mallory.auth, { orders })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ placed: 0, refused: PRIVILEGED.length })
      for (const [i, x] of res.body.results.entries()) {
        expect([x.status, x.error.code]).toEqual([400, 'invalid_request'])
        expect(x.error.errors.map((e: Json) => e.path)).toContain(PRIVILEGED[i][0])
      }
    }))

  test('nor can mallory make herself admin or pro through the admin route: 404', () =>
    nothingChanges(async () => {
      for (const body of [{ role: 'admin' }, { tier: 'pro' }]) {
        expectProblem(await request('PATCH', `/v1/admin/users/${mallory.id}`, mallory.auth, body), 404, 'not_found')
      }
      const [me] = await db.select().from(users).where(inArray(users.id, [mallory.id]))
      expect([me.role, me.tier]).toEqual(['trader', 'retail'])
    }))
})
