// Builds the real app (createApp) against the test database, and small HTTP helpers.
import { createApp } from '../../src/app.ts'
import { generateSigningKey } from '../../src/auth/keys.ts'
import type { Vars } from '../../src/env.ts'
import { testDatabase } from './db.ts'
import { UNLIMITED } from './rate-limit.ts'

/**
 * Tests lower PBKDF2 from the production 100,000 iterations to 1,000: hashing stays the same
 * code path, a login costs ~1 ms instead of ~50 ms. (test/auth/password.test.ts checks the
 * production default separately.)
 */
export const TEST_PBKDF2_ITERATIONS = '1000'

let signingKey: Promise<string> | undefined

export async function testEnv(overrides: Partial<Vars> = {}): Promise<Vars> {
  const db = await testDatabase()
  signingKey ??= generateSigningKey('test-key')
  return {
    ENVIRONMENT: 'test',
    DATABASE_URL: db.url,
    DB_WS_PROXY: db.proxy.address,
    JWT_PRIVATE_KEY: await signingKey,
    PBKDF2_ITERATIONS: TEST_PBKDF2_ITERATIONS,
    // every test client shares one address ("unknown": no CF-Connecting-IP); the per-IP
    // throttle is tested with its own limit in test/auth/throttle.test.ts
    AUTH_IP_MAX_FAILURES: '100000',
    MARKET_ALWAYS_OPEN: '1',
    ...UNLIMITED,
    ...overrides,
  }
}

export interface TestClient {
  env: Vars
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>
}

export async function testClient(overrides: Partial<Vars> = {}): Promise<TestClient> {
  const env = await testEnv(overrides)
  const app = createApp()
  return {
    env,
    request(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } }
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body)
        ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
      }
      return Promise.resolve(app.request(path, init, env))
    },
  }
}

let counter = 0
export function uniqueEmail(tag = 'user'): string {
  return `${tag}.${Date.now().toString(36)}.${process.pid}.${++counter}@test.bourse.dev`
}

export const PASSWORD = 'correct horse battery'

/** registers a fresh user and logs in; returns its id, email and tokens */
export async function newUser(client: TestClient, tag?: string) {
  const email = uniqueEmail(tag)
  const reg = await client.request('POST', '/v1/auth/register', { email, password: PASSWORD })
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`)
  const { id } = (await reg.json()) as { id: number }
  const login = await client.request('POST', '/v1/auth/login', { email, password: PASSWORD })
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`)
  const tokens = (await login.json()) as { access_token: string; refresh_token: string }
  return { id, email, ...tokens, auth: { authorization: `Bearer ${tokens.access_token}` } }
}
