// `npm run dev` end to end: scripts/dev.ts starts the database (embedded PGlite, or with
// DATABASE_URL the run's test database), the proxy, migrations and demo data, then wrangler dev;
// the Worker in workerd serves the demo login, account reads and money movements through the
// Neon driver. A restart on the same state keeps the data.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/lib/local-db.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../../src/db/seed.ts'
import { testDatabase } from '../helpers/db.ts'

const root = new URL('../..', import.meta.url).pathname
const stateDir = mkdtempSync(join(tmpdir(), 'bourse-dev-'))
let port = 0
let base = ''
let dev: { proc: ChildProcess; output: () => string } | undefined

async function startDev() {
  port = await freePort()
  base = `http://127.0.0.1:${port}`
  const env: Record<string, string | undefined> = {
    ...process.env,
    BOURSE_STATE_DIR: stateDir,
    PORT: String(port),
    INSPECTOR_PORT: String(await freePort()),
    DATABASE_URL: undefined,
  }
  if (process.env.DATABASE_URL) {
    env.DATABASE_URL = (await testDatabase()).url
    env.BOURSE_SEED = '1'
  }
  // Detached: its own process group, so stopping it also stops wrangler and workerd.
  const proc = spawn(join(root, 'node_modules/.bin/tsx'), ['scripts/dev.ts'], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (d) => (out += d))
  proc.stderr!.on('data', (d) => (out += d))
  const started = Date.now()
  while (!out.includes('Bourse API listening on')) {
    if (proc.exitCode !== null) throw new Error(`dev exited ${proc.exitCode}:\n${out}`)
    if (Date.now() - started > 60_000) throw new Error(`dev did not start:\n${out}`)
    await Bun.sleep(100)
  }
  dev = { proc, output: () => out }
  return dev
}

async function stopDev() {
  if (!dev) return
  const { proc } = dev
  dev = undefined
  if (proc.exitCode !== null) return
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  process.kill(-proc.pid!, 'SIGTERM')
  await Promise.race([exited, Bun.sleep(15_000)])
  if (proc.exitCode === null) process.kill(-proc.pid!, 'SIGKILL')
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

async function loginDemo(email = DEMO_USERS[0].email) {
  const res = await post('/v1/auth/login', { email, password: DEMO_PASSWORD })
  expect(res.status).toBe(200)
  const { access_token } = (await res.json()) as { access_token: string }
  return { authorization: `Bearer ${access_token}` }
}

beforeAll(async () => {
  await startDev()
}, 90_000)

afterAll(async () => {
  await stopDev()
  rmSync(stateDir, { recursive: true, force: true })
}, 30_000)

describe('npm run dev (scripts/dev.ts + wrangler dev)', () => {
  test('prints where the API listens and how to get a demo token', () => {
    const out = dev!.output()
    expect(out).toContain(`Bourse API listening on ${base}`)
    expect(out).toContain(`${base}/v1/auth/login`)
    expect(out).toContain(DEMO_PASSWORD)
    expect(out).toContain('migrations applied')
  })

  test('demo account: login, account, positions, problem+json errors', async () => {
    const auth = await loginDemo()
    const account = (await (await fetch(`${base}/v1/account`, { headers: auth })).json()) as Record<
      string,
      unknown
    >
    expect(account.email).toBe(DEMO_USERS[0].email)
    expect(account.cash).toBe('100000.00')
    const pos = (await (await fetch(`${base}/v1/positions`, { headers: auth })).json()) as {
      positions: { symbol: string; qty: number }[]
    }
    expect(pos.positions.map((p) => [p.symbol, p.qty])).toEqual([
      ['AAPL', 100],
      ['MSFT', 50],
    ])
    const bad = await fetch(`${base}/v1/account`)
    expect(bad.status).toBe(401)
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
      keys: unknown[]
    }
    expect(jwks.keys).toHaveLength(1)
  })

  test('demo symbols with reference prices; the demo admin sees any account, traders get 404', async () => {
    const { symbols } = (await (await fetch(`${base}/v1/symbols`)).json()) as {
      symbols: { symbol: string; status: string; reference_price: string }[]
    }
    for (const sym of ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'TSLA', 'SPY']) {
      const row = symbols.find((s) => s.symbol === sym)
      expect(row?.status).toBe('active')
      expect(row?.reference_price).toMatch(/^[1-9]\d*\.\d\d$/)
    }
    const admin = DEMO_USERS.find((u) => u.role === 'admin')!
    const adminAuth = await loginDemo(admin.email)
    const trader = await loginDemo()
    const me = (await (await fetch(`${base}/v1/account`, { headers: trader })).json()) as {
      id: number
      equity: string
    }
    const seen = await fetch(`${base}/v1/admin/accounts/${me.id}`, { headers: adminAuth })
    expect(seen.status).toBe(200)
    expect(((await seen.json()) as { equity: string }).equity).toBe(me.equity)
    const refused = await fetch(`${base}/v1/admin/accounts/${me.id}`, { headers: trader })
    expect(refused.status).toBe(404)
  })

  test("a symbol's book comes from its Durable Object (the WASM engine in workerd)", async () => {
    const res = await fetch(`${base}/v1/book/AAPL?depth=5`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ symbol: 'AAPL', seq: 0, bids: [], asks: [] })
    const unknown = await fetch(`${base}/v1/book/NOPE`)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { code: string }).code).toBe('unknown_symbol')
    const bad = await fetch(`${base}/v1/book/AAPL?depth=0`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { code: string }).code).toBe('invalid_request')
  })

  test('money moves through workerd: a withdrawal, then concurrent deposits, one Pool per request', async () => {
    const auth = await loginDemo(DEMO_USERS[1].email)
    const w = await post(
      '/v1/account/withdrawals',
      { amount: '250.00' },
      { ...auth, 'idempotency-key': 'e2e-w1' },
    )
    expect(w.status).toBe(201)
    const deposits = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post('/v1/account/deposits', { amount: `${i + 1}.00` }, auth),
      ),
    )
    expect(deposits.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201])
    const account = (await (await fetch(`${base}/v1/account`, { headers: auth })).json()) as {
      cash: string
    }
    expect(account.cash).toBe('49771.00') // 50000 - 250 + 21
    const audit = (await (
      await fetch(`${base}/v1/account/audit?verify=1`, { headers: auth })
    ).json()) as {
      chain: { valid: boolean; length: number }
    }
    expect(audit.chain.valid).toBe(true)
  })

  test('a restart on the same state keeps the data and does not seed twice', async () => {
    await stopDev()
    await startDev()
    expect(dev!.output()).toContain('demo data present')
    const auth = await loginDemo(DEMO_USERS[1].email)
    const account = (await (await fetch(`${base}/v1/account`, { headers: auth })).json()) as {
      cash: string
    }
    expect(account.cash).toBe('49771.00')
    const retry = await post(
      '/v1/account/withdrawals',
      { amount: '250.00' },
      { ...auth, 'idempotency-key': 'e2e-w1' },
    )
    expect(retry.status).toBe(200)
  }, 90_000)
})
