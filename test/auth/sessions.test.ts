import { beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { users } from '../../src/db/schema.ts'
import { PASSWORD, newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'

let client: TestClient
beforeAll(async () => {
  client = await testClient({ LOGIN_LOCK_THRESHOLD: '3', LOGIN_LOCK_SECONDS: '600' })
}, 60_000)

type Json = Record<string, any>
const login = (email: string, password: string) =>
  client.request('POST', '/v1/auth/login', { email, password })

describe('failed logins lock the account', () => {
  test('the 3rd consecutive failure locks it; the right password is refused while locked', async () => {
    const u = await newUser(client, 'lock')
    for (let i = 0; i < 2; i++) expect((await login(u.email, 'wrong-password!')).status).toBe(401)
    // a success resets the count
    expect((await login(u.email, PASSWORD)).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await login(u.email, 'wrong-password!')).status).toBe(401)
    const locked = await login(u.email, PASSWORD)
    expect(locked.status).toBe(429)
    const retry = Number(locked.headers.get('retry-after'))
    expect(retry).toBeGreaterThan(590)
    expect(retry).toBeLessThanOrEqual(600)
    expect(await locked.json()).toMatchObject({ code: 'rate_limited', scope: 'account' })

    // the lock runs out: the right password works again and clears the count
    const { handle } = await testDatabase()
    await handle.db
      .update(users)
      .set({ lockedUntil: sql`now() - interval '1 second'` })
      .where(eq(users.id, u.id))
    expect((await login(u.email, PASSWORD)).status).toBe(200)
    const [row] = await handle.db.select().from(users).where(eq(users.id, u.id))
    expect(row.failedLogins).toBe(0)
    expect(row.lockedUntil).toBeNull()

    const audit = (await (
      await client.request('GET', '/v1/account/audit', undefined, u.auth)
    ).json()) as Json
    const failures = audit.entries.filter((e: Json) => e.action === 'auth.failed_attempt')
    expect(failures.map((e: Json) => e.data.failed_attempts)).toEqual([3, 2, 1, 2, 1])
    expect(failures[0].data.locked_seconds).toBe(600)
  })
})

describe('sessions and password', () => {
  test('logout-all revokes every refresh token of the user', async () => {
    const u = await newUser(client, 'all')
    const second = (await (await login(u.email, PASSWORD)).json()) as Json
    expect((await client.request('POST', '/v1/auth/logout-all', undefined, u.auth)).status).toBe(
      204,
    )
    for (const token of [u.refresh_token, second.refresh_token]) {
      const r = await client.request('POST', '/v1/auth/refresh', { refresh_token: token })
      expect(r.status).toBe(401)
    }
  })

  test('password change needs the current password, signs out everywhere, new password works', async () => {
    const u = await newUser(client, 'pwchange')
    const wrong = await client.request(
      'POST',
      '/v1/auth/password',
      { current_password: 'not-it-at-all', new_password: 'a brand new passphrase' },
      u.auth,
    )
    expect(wrong.status).toBe(401)
    const weak = await client.request(
      'POST',
      '/v1/auth/password',
      { current_password: PASSWORD, new_password: 'short' },
      u.auth,
    )
    expect(weak.status).toBe(400)
    const ok = await client.request(
      'POST',
      '/v1/auth/password',
      { current_password: PASSWORD, new_password: 'a brand new passphrase' },
      u.auth,
    )
    expect(ok.status).toBe(204)
    expect(
      (await client.request('POST', '/v1/auth/refresh', { refresh_token: u.refresh_token })).status,
    ).toBe(401)
    expect((await login(u.email, PASSWORD)).status).toBe(401)
    expect((await login(u.email, 'a brand new passphrase')).status).toBe(200)
  })

  test('PATCH /v1/account changes the display name', async () => {
    const u = await newUser(client, 'profile')
    const res = await client.request('PATCH', '/v1/account', { display_name: '  Zoë Q. ' }, u.auth)
    expect(res.status).toBe(200)
    expect(((await res.json()) as Json).display_name).toBe('Zoë Q.')
    expect(
      (await client.request('PATCH', '/v1/account', { display_name: '' }, u.auth)).status,
    ).toBe(400)
  })
})
