// Failed logins and one-time codes are throttled per IP and per account (src/auth/throttle.ts).
import { beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { ipv6Prefix64, lockSeconds } from '../../src/auth/throttle.ts'
import { settingsFrom } from '../../src/env.ts'
import { PASSWORD, newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'

type Json = Record<string, any>
let client: TestClient
beforeAll(async () => {
  client = await testClient({ AUTH_IP_MAX_FAILURES: '4', AUTH_IP_WINDOW_SECONDS: '600' })
}, 60_000)

let ipCounter = 0
const freshIp = () => `203.0.113.${++ipCounter}` // each run has its own database

const login = (ip: string, email: string, password: string, otp?: string) =>
  client.request(
    'POST',
    '/v1/auth/login',
    { email, password, ...(otp ? { otp } : {}) },
    { 'cf-connecting-ip': ip },
  )

describe('per IP', () => {
  test('failures across many accounts from one address hit 429 rate_limited; other addresses do not', async () => {
    const ip = freshIp()
    const victim = await newUser(client, 'ipvictim')
    // spraying: a different (unknown or known) account each time
    for (let i = 0; i < 4; i++) {
      const res = await login(ip, `nobody${i}.${Date.now()}@test.bourse.dev`, 'wrong-password')
      expect(res.status).toBe(401)
    }
    const blocked = await login(ip, victim.email, PASSWORD)
    expect(blocked.status).toBe(429)
    const body = (await blocked.json()) as Json
    expect(body).toMatchObject({ code: 'rate_limited', scope: 'ip', status: 429 })
    const retry = Number(blocked.headers.get('retry-after'))
    expect(retry).toBeGreaterThan(0)
    expect(retry).toBeLessThanOrEqual(600)
    // the same right password from another address works
    expect((await login(freshIp(), victim.email, PASSWORD)).status).toBe(200)
  })

  test('successes do not count; the window ends and the count starts over', async () => {
    const ip = freshIp()
    const u = await newUser(client, 'ipwindow')
    for (let i = 0; i < 10; i++) expect((await login(ip, u.email, PASSWORD)).status).toBe(200)
    for (let i = 0; i < 3; i++)
      expect((await login(ip, u.email, 'wrong-password')).status).toBe(401)
    expect((await login(ip, u.email, PASSWORD)).status).toBe(200)
    expect((await login(ip, 'x@test.bourse.dev', 'wrong-password')).status).toBe(401)
    expect((await login(ip, u.email, PASSWORD)).status).toBe(429)
    const { handle } = await testDatabase()
    await handle.db.execute(
      sql`UPDATE auth_throttle SET window_started_at = now() - interval '601 seconds' WHERE key = ${`ip:${ip}`}`,
    )
    expect((await login(ip, u.email, PASSWORD)).status).toBe(200)
  })

  test('wrong one-time codes count too (enrollment check)', async () => {
    const ip = freshIp()
    const u = await newUser(client, 'ipotp')
    await client.request('POST', '/v1/auth/totp/enroll', undefined, u.auth)
    for (let i = 0; i < 4; i++) {
      const r = await client.request(
        'POST',
        '/v1/auth/totp/verify',
        { code: '000000' },
        {
          ...u.auth,
          'cf-connecting-ip': ip,
        },
      )
      expect(r.status).toBe(401)
    }
    const r = await client.request(
      'POST',
      '/v1/auth/totp/verify',
      { code: '000000' },
      {
        ...u.auth,
        'cf-connecting-ip': ip,
      },
    )
    expect(r.status).toBe(429)
  })
})

describe('addresses', () => {
  test('IPv6 addresses share their /64; anything else is kept as is', () => {
    expect(ipv6Prefix64('2001:db8:0:12:abcd::1')).toBe('2001:db8:0:12::/64')
    expect(ipv6Prefix64('2001:0DB8:0000:0012:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:12::/64')
    expect(ipv6Prefix64('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(ipv6Prefix64('::1')).toBe('0:0:0:0::/64')
    expect(ipv6Prefix64('not:an::ip::x')).toBe('not:an::ip::x')
    expect(ipv6Prefix64('1:2:3')).toBe('1:2:3')
  })

  test('two addresses of one /64 share a bucket', async () => {
    const prefix = `2001:db8:${(++ipCounter).toString(16)}:1`
    for (let i = 0; i < 4; i++) {
      const r = await login(`${prefix}::${i + 1}`, 'x@test.bourse.dev', 'wrong-password')
      expect(r.status).toBe(401)
    }
    expect((await login(`${prefix}:ffff::9`, 'x@test.bourse.dev', 'wrong-password')).status).toBe(
      429,
    )
  })
})

describe('per account', () => {
  test('the lock doubles with each failure past the threshold, up to a day', () => {
    const s = settingsFrom({ LOGIN_LOCK_THRESHOLD: '10', LOGIN_LOCK_SECONDS: '900' })
    expect([9, 10, 11, 12, 13, 16, 17, 40, 1000].map((n) => lockSeconds(s, n))).toEqual([
      0, 900, 1800, 3600, 7200, 57_600, 86_400, 86_400, 86_400,
    ])
  })
  // guessing one-time codes locks the account: test/security/auth-attacks.test.ts
})

describe('concurrent guesses', () => {
  test('a burst of failed logins from one address gets no more than its window', async () => {
    const ip = freshIp()
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        login(ip, `burst${i}.${Date.now()}@test.bourse.dev`, 'wrong-password'),
      ),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(4)
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(8)
  })
})
