import { beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { decodeJwt } from 'jose'
import { currentStep, totpAt } from '../../src/auth/totp.ts'
import { users } from '../../src/db/schema.ts'
import { PASSWORD, newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'

let client: TestClient
beforeAll(async () => {
  client = await testClient()
}, 60_000)

const code = (secret: string, offset = 0) => totpAt(secret, currentStep() + offset)

describe('two-factor authentication (TOTP)', () => {
  test('setup → enable → login needs the code → tokens say amr otp → disable', async () => {
    const u = await newUser(client, 'totp')
    const setup = await client.request('POST', '/v1/auth/totp/enroll', undefined, u.auth)
    expect(setup.status).toBe(200)
    const { secret, otpauth_uri } = (await setup.json()) as { secret: string; otpauth_uri: string }
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(otpauth_uri).toStartWith('otpauth://totp/Bourse%3A')
    expect(otpauth_uri).toContain(`secret=${secret}`)

    // not enabled until confirmed: login still works without a code
    const plain = await client.request('POST', '/v1/auth/login', {
      email: u.email,
      password: PASSWORD,
    })
    expect(plain.status).toBe(200)

    const wrong = await client.request('POST', '/v1/auth/totp/verify', { code: '000000' }, u.auth)
    expect(wrong.status).toBe(401)
    const enable = await client.request(
      'POST',
      '/v1/auth/totp/verify',
      { code: await code(secret) },
      u.auth,
    )
    expect(enable.status).toBe(200)
    expect(await enable.json()).toEqual({ two_factor_enabled: true })

    const noCode = await client.request('POST', '/v1/auth/login', {
      email: u.email,
      password: PASSWORD,
    })
    expect(noCode.status).toBe(401)
    expect(((await noCode.json()) as { code: string }).code).toBe('otp_required')

    // the code used to enable (current step) is spent: the next step's code works once
    const next = await code(secret, 1)
    const ok = await client.request('POST', '/v1/auth/login', {
      email: u.email,
      password: PASSWORD,
      otp: next,
    })
    expect(ok.status).toBe(200)
    const tokens = (await ok.json()) as { access_token: string; refresh_token: string }
    expect(decodeJwt(tokens.access_token).amr).toEqual(['pwd', 'otp'])
    const replay = await client.request('POST', '/v1/auth/login', {
      email: u.email,
      password: PASSWORD,
      otp: next,
    })
    expect(replay.status).toBe(401)
    expect(((await replay.json()) as { code: string }).code).toBe('invalid_otp')

    // a refreshed session keeps its second factor
    const refreshed = await client.request('POST', '/v1/auth/refresh', {
      refresh_token: tokens.refresh_token,
    })
    expect(
      decodeJwt(((await refreshed.json()) as { access_token: string }).access_token).amr,
    ).toEqual(['pwd', 'otp'])

    const account = await client.request('GET', '/v1/account', undefined, u.auth)
    expect(((await account.json()) as { two_factor_enabled: boolean }).two_factor_enabled).toBe(
      true,
    )

    // disabling needs a fresh code; the spent one is refused
    const spent = await client.request('POST', '/v1/auth/totp/disable', { code: next }, u.auth)
    expect(spent.status).toBe(401)
    // steps ≤ last accepted are refused, so wait for a later step is not possible here: reset the
    // replay marker the way a new time step would, by going back one step in the stored state
    const { handle } = await testDatabase()
    await handle.db
      .update(users)
      .set({ totpLastStep: currentStep() - 5 })
      .where(eq(users.id, u.id))
    const disable = await client.request(
      'POST',
      '/v1/auth/totp/disable',
      { code: await code(secret) },
      u.auth,
    )
    expect(disable.status).toBe(200)
    const plainAgain = await client.request('POST', '/v1/auth/login', {
      email: u.email,
      password: PASSWORD,
    })
    expect(plainAgain.status).toBe(200)
  })

  test('setup twice after enabling is a 409', async () => {
    const u = await newUser(client, 'totp2')
    const { secret } = (await (
      await client.request('POST', '/v1/auth/totp/enroll', undefined, u.auth)
    ).json()) as {
      secret: string
    }
    await client.request('POST', '/v1/auth/totp/verify', { code: await code(secret) }, u.auth)
    const again = await client.request('POST', '/v1/auth/totp/enroll', undefined, u.auth)
    expect(again.status).toBe(409)
  })
})

describe('password hash upgrade', () => {
  test('a login re-hashes a password stored with a different iteration count', async () => {
    const u = await newUser(client, 'rehash')
    const { handle } = await testDatabase()
    const before = await handle.db.select().from(users).where(eq(users.id, u.id))
    expect(before[0].passwordHash).toStartWith('pbkdf2-sha256$1000$')
    const stronger = await testClient({ PBKDF2_ITERATIONS: '2000' })
    const res = await stronger.request('POST', '/v1/auth/login', {
      email: u.email,
      password: PASSWORD,
    })
    expect(res.status).toBe(200)
    const after = await handle.db.select().from(users).where(eq(users.id, u.id))
    expect(after[0].passwordHash).toStartWith('pbkdf2-sha256$2000$')
    // and the old setting still verifies the new hash (count is read from the hash)
    const res2 = await client.request('POST', '/v1/auth/login', {
      email: u.email,
      password: PASSWORD,
    })
    expect(res2.status).toBe(200)
  })
})
