// Every way an access token must be refused: 401 `unauthorized` with a stable `reason`.
import { beforeAll, describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { SignJWT, base64url, exportJWK, generateKeyPair, importJWK } from 'jose'
import type { JWK } from 'jose'
import { requireAuth, requireTwoFactor } from '../../src/auth/middleware.ts'
import { generateSigningKey } from '../../src/auth/keys.ts'
import type { AppEnv } from '../../src/context.ts'
import { newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'

let client: TestClient
let user: Awaited<ReturnType<typeof newUser>>
let jwk: JWK & { kid: string }
let key: CryptoKey

beforeAll(async () => {
  client = await testClient()
  user = await newUser(client, 'tok')
  jwk = JSON.parse(client.env.JWT_PRIVATE_KEY!)
  key = (await importJWK(jwk, 'ES256')) as CryptoKey
}, 60_000)

const now = () => Math.floor(Date.now() / 1000)

/** a token exactly like ours, with `change` applied to the builder before signing */
async function token(
  change: (b: SignJWT) => SignJWT = (b) => b,
  opts: { header?: Record<string, unknown>; key?: CryptoKey | Uint8Array } = {},
) {
  const b = new SignJWT({ amr: ['pwd'] })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt', ...opts.header })
    .setSubject(String(user.id))
    .setIssuer('bourse')
    .setAudience('bourse-api')
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(now() + 300)
  return change(b).sign(opts.key ?? key)
}

async function expect401(authorization: string | undefined, reason: string) {
  const res = await client.request(
    'GET',
    '/v1/account',
    undefined,
    authorization === undefined ? {} : { authorization },
  )
  expect(res.status).toBe(401)
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  expect(res.headers.get('www-authenticate')).toStartWith('Bearer')
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toMatchObject({ status: 401, code: 'unauthorized', reason })
  expect(body.type).toBe('https://bourse.dev/problems/unauthorized')
}

/** header.payload with no signature */
function unsigned(header: object, payload: object) {
  const enc = (o: object) => base64url.encode(JSON.stringify(o))
  return `${enc(header)}.${enc(payload)}.`
}

const goodClaims = () => ({
  sub: String(user.id),
  iss: 'bourse',
  aud: 'bourse-api',
  iat: now(),
  exp: now() + 300,
  jti: crypto.randomUUID(),
  amr: ['pwd'],
})

describe('access tokens are refused with 401 unauthorized and a reason', () => {
  test('control: our own token is accepted', async () => {
    const res = await client.request('GET', '/v1/account', undefined, {
      authorization: `Bearer ${await token()}`,
    })
    expect(res.status).toBe(200)
  })

  test('missing', () => expect401(undefined, 'token_missing'))
  test('not a Bearer header', () => expect401(`Basic ${btoa('a:b')}`, 'token_malformed'))
  test('malformed', () => expect401('Bearer not-a-jwt', 'token_malformed'))
  test('malformed: three parts of garbage', () =>
    expect401('Bearer abc.def.ghi', 'token_malformed'))

  test('bad signature (payload changed after signing)', async () => {
    const [h, , s] = (await token()).split('.')
    const forged = base64url.encode(JSON.stringify({ ...goodClaims(), sub: '1' }))
    await expect401(`Bearer ${h}.${forged}.${s}`, 'bad_signature')
  })

  test('signed by a key that is not ours, with our kid', async () => {
    const { privateKey } = await generateKeyPair('ES256')
    await expect401(`Bearer ${await token(undefined, { key: privateKey })}`, 'bad_signature')
  })

  test('alg: none', async () => {
    await expect401(
      `Bearer ${unsigned({ alg: 'none', typ: 'at+jwt', kid: jwk.kid }, goodClaims())}`,
      'alg_not_allowed',
    )
  })

  test('HS256 "signed" with our public key (algorithm confusion)', async () => {
    const jwks = (await (await client.request('GET', '/.well-known/jwks.json')).json()) as {
      keys: JWK[]
    }
    const publicJwk = jwks.keys[0]
    // the attacker uses the published public key as an HMAC secret, in both usual encodings
    for (const secret of [
      new TextEncoder().encode(JSON.stringify(publicJwk)),
      new TextEncoder().encode(`${publicJwk.x}${publicJwk.y}`),
    ]) {
      const t = await token(undefined, { header: { alg: 'HS256' }, key: secret })
      await expect401(`Bearer ${t}`, 'alg_not_allowed')
    }
  })

  test('unknown kid', async () => {
    await expect401(`Bearer ${await token(undefined, { header: { kid: 'nope' } })}`, 'unknown_kid')
  })

  test('no kid at all', async () => {
    await expect401(
      `Bearer ${await token(undefined, { header: { kid: undefined } })}`,
      'unknown_kid',
    )
  })

  test('kid of a key we do not hold, even when that key signed it', async () => {
    const other = JSON.parse(await generateSigningKey('stranger')) as JWK
    const otherKey = (await importJWK(other, 'ES256')) as CryptoKey
    await expect401(
      `Bearer ${await token(undefined, { header: { kid: 'stranger' }, key: otherKey })}`,
      'unknown_kid',
    )
  })

  test('a key embedded in the header (jwk) is never used', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const embedded = await exportJWK(publicKey)
    for (const kid of [jwk.kid, 'attacker']) {
      const t = await token(undefined, { header: { kid, jwk: embedded }, key: privateKey })
      await expect401(`Bearer ${t}`, kid === jwk.kid ? 'bad_signature' : 'unknown_kid')
    }
  })

  test('wrong issuer', async () => {
    await expect401(`Bearer ${await token((b) => b.setIssuer('evil'))}`, 'wrong_issuer')
  })

  test('wrong audience', async () => {
    await expect401(`Bearer ${await token((b) => b.setAudience('other-api'))}`, 'wrong_audience')
  })

  test('expired', async () => {
    await expect401(
      `Bearer ${await token((b) => b.setIssuedAt(now() - 1000).setExpirationTime(now() - 100))}`,
      'token_expired',
    )
  })

  test('not yet valid (nbf in the future)', async () => {
    await expect401(
      `Bearer ${await token((b) => b.setNotBefore(now() + 600))}`,
      'token_not_yet_valid',
    )
  })

  test('no exp at all', async () => {
    const { exp: _exp, ...claims } = goodClaims()
    const t = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
      .sign(key)
    await expect401(`Bearer ${t}`, 'missing_claim')
  })

  test('not an access token (typ)', async () => {
    await expect401(`Bearer ${await token(undefined, { header: { typ: 'JWT' } })}`, 'wrong_type')
  })
})

describe('trading needs a second factor', () => {
  // The trading routes arrive with issue 4; they mount requireTwoFactor after requireAuth. This
  // app puts the same middleware in front of a stand-in handler, with the real token checks.
  const trading = new Hono<AppEnv>()
  trading.use(async (c, next) => {
    const { settingsFrom } = await import('../../src/env.ts')
    c.set('settings', settingsFrom(c.env))
    await next()
  })
  trading.post('/v1/orders', requireAuth, requireTwoFactor, (c) => c.json({ ok: true }, 201))
  trading.get('/v1/orders', requireAuth, (c) => c.json({ orders: [] }))
  trading.onError(async (err, c) => {
    const { AppError } = await import('../../src/errors.ts')
    if (err instanceof AppError) return c.json({ code: err.code, ...err.extra }, err.status as 403)
    throw err
  })

  test('a password-only token: reads work, trading is 403 two_factor_required', async () => {
    const auth = { authorization: `Bearer ${await token()}` }
    const read = await trading.request('/v1/orders', { headers: auth }, client.env)
    expect(read.status).toBe(200)
    const place = await trading.request('/v1/orders', { method: 'POST', headers: auth }, client.env)
    expect(place.status).toBe(403)
    expect(await place.json()).toEqual({ code: 'two_factor_required' })
  })

  test('a token with amr ["pwd","otp"] may trade', async () => {
    const t = await new SignJWT({ amr: ['pwd', 'otp'] })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
      .setSubject(String(user.id))
      .setIssuer('bourse')
      .setAudience('bourse-api')
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .setExpirationTime(now() + 300)
      .sign(key)
    const res = await trading.request(
      '/v1/orders',
      { method: 'POST', headers: { authorization: `Bearer ${t}` } },
      client.env,
    )
    expect(res.status).toBe(201)
  })

  test('no token at all is still a 401 before the 2FA check', async () => {
    const res = await trading.request('/v1/orders', { method: 'POST' }, client.env)
    expect(res.status).toBe(401)
  })
})
