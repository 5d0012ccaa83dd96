import { beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { PASSWORD, newUser, testClient, uniqueEmail } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'

let client: TestClient
beforeAll(async () => {
  client = await testClient()
}, 60_000)

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  return (await res.json()) as { type: string; status: number; code: string; detail: string }
}

describe('register', () => {
  test('creates a user with zero cash and normalizes the email', async () => {
    const email = uniqueEmail('Reg')
    const res = await client.request('POST', '/v1/auth/register', {
      email: `  ${email.toUpperCase()} `,
      password: PASSWORD,
      display_name: 'Reg',
    })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { id: number; email: string }
    expect(Number.isSafeInteger(body.id)).toBe(true)
    expect(body.email).toBe(email.toLowerCase())
  })

  test('a second registration with the same email is 409 email_taken', async () => {
    const email = uniqueEmail('dup')
    const body = { email, password: PASSWORD, display_name: 'Dup' }
    expect((await client.request('POST', '/v1/auth/register', body)).status).toBe(201)
    const res = await client.request('POST', '/v1/auth/register', body)
    expect(res.status).toBe(409)
    expect((await problem(res)).code).toBe('email_taken')
  })

  test('invalid input is a 400 problem listing the fields', async () => {
    const res = await client.request('POST', '/v1/auth/register', {
      email: 'not-an-email',
      password: 'short',
      display_name: '',
    })
    expect(res.status).toBe(400)
    const p = (await problem(res)) as unknown as { code: string; errors: { path: string }[] }
    expect(p.code).toBe('invalid_request')
    expect(p.errors.map((e) => e.path).sort()).toEqual(['display_name', 'email', 'password'])
  })

  test('malformed JSON is a 400 problem', async () => {
    const res = await client.request('POST', '/v1/auth/register', '{"email":')
    expect(res.status).toBe(400)
    expect(await problem(res)).toMatchObject({ status: 400, code: 'invalid_request' })
  })
})

describe('login and tokens', () => {
  test('login returns an ES256 access token for the user and a refresh token', async () => {
    const u = await newUser(client, 'login')
    const header = decodeProtectedHeader(u.access_token)
    expect(header.alg).toBe('ES256')
    expect(header.kid).toBe('test-key')
    const claims = decodeJwt(u.access_token)
    expect(claims.sub).toBe(String(u.id))
    expect(claims.aud).toBe('bourse-api')
    expect(claims.amr).toEqual(['pwd'])
    expect(claims.exp! - claims.iat!).toBe(900)
    expect(u.refresh_token.length).toBeGreaterThanOrEqual(40)

    const me = await client.request('GET', '/v1/account', undefined, u.auth)
    expect(me.status).toBe(200)
    expect(((await me.json()) as { email: string }).email).toBe(u.email)
  })

  test('wrong password and unknown email give the same 401', async () => {
    const u = await newUser(client, 'wrongpw')
    const a = await client.request('POST', '/v1/auth/login', {
      email: u.email,
      password: 'nope-nope-nope',
    })
    const b = await client.request('POST', '/v1/auth/login', {
      email: uniqueEmail('ghost'),
      password: PASSWORD,
    })
    expect(a.status).toBe(401)
    expect(b.status).toBe(401)
    const [pa, pb] = [await problem(a), await problem(b)]
    expect(pa.code).toBe('invalid_credentials')
    expect(pb).toEqual({ ...pa })
  })

  test('protected routes need a valid bearer token', async () => {
    const none = await client.request('GET', '/v1/account')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toContain('Bearer')
    const garbage = await client.request('GET', '/v1/account', undefined, {
      authorization: 'Bearer abc.def.ghi',
    })
    expect(garbage.status).toBe(401)
    expect(await problem(garbage)).toMatchObject({
      code: 'unauthorized',
      reason: 'token_malformed',
    })
  })

  test('a token signed by another key is refused; a key listed in JWT_PUBLIC_KEYS is accepted', async () => {
    const other = await testClient({
      JWT_PRIVATE_KEY: await (await import('../../src/auth/keys.ts')).generateSigningKey('old-key'),
    })
    const u = await newUser(other, 'rotate')
    const refused = await client.request('GET', '/v1/account', undefined, u.auth)
    expect(refused.status).toBe(401)

    const oldJwks = await (await other.request('GET', '/.well-known/jwks.json')).json()
    const rotated = await testClient({ JWT_PUBLIC_KEYS: JSON.stringify(oldJwks) })
    const accepted = await rotated.request('GET', '/v1/account', undefined, u.auth)
    expect(accepted.status).toBe(200)
    const jwks = (await (await rotated.request('GET', '/.well-known/jwks.json')).json()) as {
      keys: { kid: string; d?: string }[]
    }
    expect(jwks.keys.map((k) => k.kid)).toEqual(['test-key', 'old-key'])
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true)
  })

  test('an expired access token is 401 unauthorized, reason token_expired', async () => {
    const { SignJWT, importJWK } = await import('jose')
    const jwk = JSON.parse(client.env.JWT_PRIVATE_KEY!)
    const key = await importJWK(jwk, 'ES256')
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ amr: ['pwd'] })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
      .setSubject('1')
      .setIssuer('bourse')
      .setAudience('bourse-api')
      .setIssuedAt(now - 1000)
      .setExpirationTime(now - 100)
      .setJti(crypto.randomUUID())
      .sign(key)
    const res = await client.request('GET', '/v1/account', undefined, {
      authorization: `Bearer ${token}`,
    })
    expect(res.status).toBe(401)
    expect(await problem(res)).toMatchObject({ code: 'unauthorized', reason: 'token_expired' })
  })
})

describe('refresh tokens', () => {
  test('refresh rotates: the new pair works, the old refresh token does not', async () => {
    const u = await newUser(client, 'refresh')
    const r1 = await client.request('POST', '/v1/auth/refresh', { refresh_token: u.refresh_token })
    expect(r1.status).toBe(200)
    const t1 = (await r1.json()) as { access_token: string; refresh_token: string }
    expect(t1.refresh_token).not.toBe(u.refresh_token)
    expect(decodeJwt(t1.access_token).sub).toBe(String(u.id))
    const me = await client.request('GET', '/v1/account', undefined, {
      authorization: `Bearer ${t1.access_token}`,
    })
    expect(me.status).toBe(200)
  })

  test('logout revokes the session', async () => {
    const u = await newUser(client, 'logout')
    const out = await client.request('POST', '/v1/auth/logout', { refresh_token: u.refresh_token })
    expect(out.status).toBe(204)
    const r = await client.request('POST', '/v1/auth/refresh', { refresh_token: u.refresh_token })
    expect(r.status).toBe(401)
    // idempotent
    const again = await client.request('POST', '/v1/auth/logout', {
      refresh_token: u.refresh_token,
    })
    expect(again.status).toBe(204)
  })

  test('an expired refresh token is refused', async () => {
    const short = await testClient({ REFRESH_TOKEN_TTL_SECONDS: '60' })
    const u = await newUser(short, 'expire')
    const { handle } = await (await import('../helpers/db.ts')).testDatabase()
    const { sql } = await import('drizzle-orm')
    await handle.db.execute(
      sql`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = ${u.id}`,
    )
    const r = await short.request('POST', '/v1/auth/refresh', { refresh_token: u.refresh_token })
    expect(r.status).toBe(401)
    expect((await problem(r)).detail).toContain('expired')
  })
})
