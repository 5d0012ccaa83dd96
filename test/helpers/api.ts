// A small HTTP client for the e2e tests (Worker under wrangler dev): JSON calls, demo logins, and
// turning on the second factor through the real endpoints (POST /v1/orders needs it).
import { expect } from 'bun:test'
import { currentStep, totpAt } from '../../src/auth/totp.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../../src/db/seed.ts'

export type Json = Record<string, any>
export type Auth = Record<string, string>
export interface Reply {
  status: number
  headers: Headers
  body: Json
}

export function apiClient(base: string) {
  const call = async (
    method: string,
    path: string,
    auth: Auth,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...auth,
        ...headers,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    return { status: res.status, headers: res.headers, body: (await res.json()) as Json }
  }

  async function login(email: string, otp?: string, password = DEMO_PASSWORD): Promise<Auth> {
    const res = await call('POST', '/v1/auth/login', {}, { email, password, ...(otp && { otp }) })
    expect(res.status).toBe(200)
    return { authorization: `Bearer ${res.body.access_token}` }
  }

  /** enables TOTP through the real endpoints; returns a token from a login with a code */
  async function withTwoFactor(email: string, password = DEMO_PASSWORD): Promise<Auth> {
    const plain = await login(email, undefined, password)
    const { body } = await call('POST', '/v1/auth/totp/enroll', plain)
    const secret = body.secret as string
    const verified = await call('POST', '/v1/auth/totp/verify', plain, {
      code: await totpAt(secret, currentStep()),
    })
    expect(verified.status).toBe(200)
    // each code works once: log in with the next step's (accepted within ±1 step)
    return login(email, await totpAt(secret, currentStep() + 1), password)
  }

  /**
   * The demo's two traders, Alice (100,000.00, 100 AAPL, 50 MSFT) and Bob (50,000.00, 200 AAPL,
   * 80 NVDA), with the second factor, and the admin; AAPL's reference moved to 150.00 (the seed's
   * scenario trades there; the band is ±10%).
   */
  async function demoTraders() {
    const [alice, bob] = await Promise.all([
      withTwoFactor(DEMO_USERS[0].email),
      withTwoFactor(DEMO_USERS[1].email),
    ])
    const admin = await login(DEMO_USERS[2].email)
    const moved = await call('PATCH', '/v1/admin/symbols/AAPL', admin, { reference_price: '150.00' })
    expect(moved.status).toBe(200)
    return { alice, bob, admin }
  }

  return { call, login, withTwoFactor, demoTraders }
}
