// The app shell: problem+json for every failure, config errors, body limit, public endpoints.
import { beforeAll, describe, expect, test } from 'bun:test'
import { createApp } from '../src/app.ts'
import { testClient } from './helpers/app.ts'
import type { TestClient } from './helpers/app.ts'

let client: TestClient
beforeAll(async () => {
  client = await testClient()
}, 60_000)

type Json = Record<string, any>

describe('app shell', () => {
  test('healthz needs nothing', async () => {
    const res = await createApp().request('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  test('unknown route: 404 problem+json (RFC 9457 members)', async () => {
    const res = await client.request('GET', '/v1/nothing-here')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toEqual({
      type: 'https://bourse.dev/problems/not_found',
      title: 'Not Found',
      status: 404,
      detail: 'No route for GET /v1/nothing-here',
      instance: '/v1/nothing-here',
      code: 'not_found',
    })
  })

  test('oversized bodies are refused with 413', async () => {
    const res = await client.request('POST', '/v1/auth/register', {
      email: 'big@test.bourse.dev',
      password: 'x'.repeat(20_000),
      display_name: 'Big',
    })
    expect(res.status).toBe(413)
    expect(((await res.json()) as Json).code).toBe('body_too_large')
  })

  test('missing configuration is a 503, not a crash', async () => {
    const noDb = await testClient({ DATABASE_URL: '' })
    const r1 = await noDb.request('GET', '/v1/symbols')
    expect(r1.status).toBe(503)
    expect(((await r1.json()) as Json).detail).toBe('DATABASE_URL is not configured')
    const noKey = await testClient({ JWT_PRIVATE_KEY: '' })
    const r2 = await noKey.request('GET', '/.well-known/jwks.json')
    expect(r2.status).toBe(503)
    const badKey = await testClient({ JWT_PRIVATE_KEY: '{"kty":"oct","k":"abc"}' })
    expect((await badKey.request('GET', '/.well-known/jwks.json')).status).toBe(503)
    const badSetting = await testClient({ PBKDF2_ITERATIONS: '5000000' })
    const r3 = await badSetting.request('GET', '/v1/symbols')
    expect(r3.status).toBe(503)
    expect(((await r3.json()) as Json).detail).toContain('PBKDF2_ITERATIONS')
    const badJwks = await testClient({ JWT_PUBLIC_KEYS: 'not json' })
    expect((await badJwks.request('GET', '/.well-known/jwks.json')).status).toBe(503)
  })

  test('readyz: an unreachable database and no objects make the Worker unready (503), each check saying why', async () => {
    const res = await createApp().request('/readyz', {}, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' })
    expect(res.status).toBe(503)
    const body = (await res.json()) as Json
    expect(body).toMatchObject({
      status: 'unready',
      checks: { postgres: { state: 'down' }, durable_object: { state: 'down' }, redis: { state: 'not_configured' } },
    })
    expect(body.checks.postgres.error).toBeString()
  })

  test('an unreachable database is a generic 500 that leaks nothing', async () => {
    const down = await testClient({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' })
    const originalError = console.error
    console.error = () => {}
    try {
      const res = await down.request('GET', '/v1/symbols')
      expect(res.status).toBe(500)
      const body = (await res.json()) as Json
      expect(body).toMatchObject({ code: 'internal', detail: 'Internal server error' })
      expect(JSON.stringify(body)).not.toContain('127.0.0.1')
    } finally {
      console.error = originalError
    }
  })
})
