// A small HTTP client for the e2e tests (Worker under wrangler dev): raw JSON calls (status and body,
// for tests of refusals), and demo logins with the second factor turned on through the real
// endpoints (POST /v1/orders needs it), made with the typed client.
import { expect } from 'bun:test'
import { createClient } from '../../src/client/index.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../../src/db/seed.ts'
import { callJson } from '../../scripts/lib/json-call.ts'
import type { Auth, Reply } from '../../scripts/lib/json-call.ts'
import { enableTwoFactor, nextCode } from './two-factor.ts'

export type { Auth, Json, Reply } from '../../scripts/lib/json-call.ts'

export function apiClient(base: string) {
  const call = (
    method: string,
    path: string,
    auth: Auth,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => callJson(base, method, path, auth, body, headers)

  // logins and two-factor go through the typed client (src/client): a refusal throws its problem
  async function login(email: string, otp?: string, password = DEMO_PASSWORD): Promise<Auth> {
    const { access_token } = await createClient(base).login({ email, password, ...(otp && { otp }) })
    return { authorization: `Bearer ${access_token}` }
  }

  /** enables TOTP through the real endpoints; returns a token from a login with a code */
  async function withTwoFactor(email: string, password = DEMO_PASSWORD): Promise<Auth> {
    return login(email, await nextCode(await enableTwoFactor(base, email, password)), password)
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
