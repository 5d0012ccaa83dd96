// npm run dev — the API with no outside service:
//   1. Postgres: DATABASE_URL if set, else embedded PGlite persisted under .bourse/pgdata and
//      served on a local port by pglite-socket;
//   2. the WebSocket→TCP proxy the Neon driver needs to reach a local Postgres;
//   3. migrations (drizzle/), demo data (embedded database, or BOURSE_SEED=1);
//   4. a JWT signing key kept in .bourse/jwt-private-key.json;
//   5. with REDIS_URL, the Upstash REST bridge to it (scripts/lib/upstash-bridge.ts), with a
//      fresh token each run: the Worker's UPSTASH_REDIS_REST_URL / _TOKEN;
//   6. wrangler dev with those bindings (.bourse/dev.vars via --env-file).
// Env: PORT (8787), BOURSE_STATE_DIR (.bourse), DATABASE_URL, BOURSE_SEED, INSPECTOR_PORT,
// REDIS_URL; PBKDF2_ITERATIONS, CACHE_PREFIX, MARKET_ALWAYS_OPEN (default 1 here), VENUE_FEEDS,
// VENUES and RATE_LIMIT_* are passed to the Worker. Extra arguments are
// passed to wrangler dev.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateSigningKey } from '../src/auth/keys.ts'
import { settingsFrom } from '../src/env.ts'
import { DEMO_PASSWORD, DEMO_USERS, seedDemo } from '../src/db/seed.ts'
import { connect, isLocalUrl, runMigrations } from './lib/db.ts'
import { startLocalDb } from './lib/local-db.ts'
import type { LocalDb } from './lib/local-db.ts'
import { startUpstashBridge } from './lib/upstash-bridge.ts'
import type { UpstashBridge } from './lib/upstash-bridge.ts'
import { startWsProxy } from './lib/ws-proxy.ts'
import type { WsProxy } from './lib/ws-proxy.ts'

const root = resolve(new URL('..', import.meta.url).pathname)
const stateDir = resolve(root, process.env.BOURSE_STATE_DIR || '.bourse')
const port = Number(process.env.PORT || 8787)
const log = (msg: string) => console.error(`[dev] ${msg}`)

mkdirSync(stateDir, { recursive: true })

let localDb: LocalDb | undefined
let proxy: WsProxy | undefined
let bridge: UpstashBridge | undefined
async function cleanup() {
  await bridge?.close().catch(() => {})
  await proxy?.close().catch(() => {})
  await localDb?.close().catch(() => {})
}

let databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) {
  const dataDir = join(stateDir, 'pgdata')
  log(`starting embedded PGlite (${dataDir})`)
  localDb = await startLocalDb({ dataDir })
  databaseUrl = localDb.url
}
const local = isLocalUrl(databaseUrl)
if (local) proxy = await startWsProxy()

const settings = settingsFrom({ PBKDF2_ITERATIONS: process.env.PBKDF2_ITERATIONS })
const db = await connect(databaseUrl, proxy)
try {
  await runMigrations(db)
  log('migrations applied')
  if (localDb || process.env.BOURSE_SEED === '1') {
    const { created } = await seedDemo(db.db, settings.pbkdf2Iterations)
    log(created.length ? `seeded demo accounts: ${created.join(', ')}` : 'demo data present')
  }
} catch (err) {
  await db.close()
  await cleanup()
  throw err
}
await db.close()

const redisUrl = process.env.REDIS_URL
if (redisUrl) {
  try {
    bridge = await startUpstashBridge({ redisUrl })
  } catch (err) {
    await cleanup()
    throw new Error(`REDIS_URL: cannot reach ${new URL(redisUrl).host}: ${(err as Error).message}`)
  }
  log(`Upstash REST bridge ${bridge.url} → ${new URL(redisUrl).host}`)
}

const keyFile = join(stateDir, 'jwt-private-key.json')
if (!existsSync(keyFile))
  writeFileSync(keyFile, `${await generateSigningKey('dev')}\n`, { mode: 0o600 })
const vars: Record<string, string> = {
  DATABASE_URL: databaseUrl,
  JWT_PRIVATE_KEY: readFileSync(keyFile, 'utf8').trim(),
  ...(proxy ? { DB_WS_PROXY: proxy.address } : {}),
  ...(bridge ? { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token } : {}),
  // orders at any hour locally; MARKET_ALWAYS_OPEN=0 npm run dev keeps market hours
  MARKET_ALWAYS_OPEN: '1',
  ...passedThrough(process.env),
}
const varsFile = join(stateDir, 'dev.vars')
writeFileSync(
  varsFile,
  Object.entries(vars)
    .map(([k, v]) => {
      // dotenv: single quotes keep the value literal (JSON inside stays intact)
      if (v.includes("'") || v.includes('\n')) throw new Error(`${k} cannot go in a dotenv file`)
      return `${k}='${v}'`
    })
    .join('\n') + '\n',
  { mode: 0o600 },
)
if (existsSync(join(root, '.dev.vars'))) {
  log('warning: ./.dev.vars exists; wrangler may prefer it over the generated .bourse/dev.vars')
}

// the web terminal's files (wrangler.toml [assets]; wrangler will not start without them), built
// here too so that every way of starting the Worker (tests, benchmarks) serves the current one
execFileSync(process.execPath, [join(root, 'scripts/build-terminal.mjs')], { stdio: 'inherit' })

const args = [
  'dev',
  '--ip',
  '127.0.0.1',
  '--port',
  String(port),
  '--env-file',
  varsFile,
  '--persist-to',
  join(stateDir, 'wrangler'),
  // GET /__scheduled runs the Cron Trigger's jobs (wrangler's /cdn-cgi/handler/scheduled fails
  // with static assets: "exception")
  '--test-scheduled',
  ...(process.env.INSPECTOR_PORT ? ['--inspector-port', process.env.INSPECTOR_PORT] : []),
  ...(process.stdout.isTTY ? [] : ['--show-interactive-dev-session=false']),
  ...process.argv.slice(2),
]
const wrangler = spawn(join(root, 'node_modules/.bin/wrangler'), args, {
  cwd: root,
  stdio: 'inherit',
})

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (wrangler.exitCode === null) wrangler.kill(sig)
  })
}
wrangler.on('exit', async (code, signal) => {
  await cleanup()
  process.exit(code ?? (signal ? 0 : 1))
})

// Tell the user where things are once the Worker answers.
const base = `http://127.0.0.1:${port}`
for (let i = 0; i < 300 && wrangler.exitCode === null; i++) {
  const ok = await fetch(`${base}/healthz`).then(
    (r) => r.ok,
    () => false,
  )
  if (ok) {
    const dbLabel = localDb
      ? `embedded PGlite (${join(stateDir, 'pgdata')})`
      : new URL(databaseUrl).host
    const demo = DEMO_USERS[0].email
    console.error(
      [
        '',
        `Bourse API listening on ${base}`,
        `  database: ${dbLabel}${proxy ? ` via ws proxy ${proxy.address}` : ''}`,
        redisUrl
          ? `  rate limits: in Redis ${new URL(redisUrl).host} via ${bridge!.url}`
          : '  rate limits: counted in the Worker (set REDIS_URL to count them in Redis)',
        ...(localDb || process.env.BOURSE_SEED === '1'
          ? [
              `  demo accounts: ${DEMO_USERS.map((u) => (u.role === 'admin' ? `${u.email} (admin)` : u.email)).join(', ')} (password: ${DEMO_PASSWORD})`,
              '  get a token:',
              `    curl -s -X POST ${base}/v1/auth/login -H 'content-type: application/json' \\`,
              `      -d '{"email":"${demo}","password":"${DEMO_PASSWORD}"}'`,
              `  then: curl -s ${base}/v1/account -H "authorization: Bearer $TOKEN"`,
            ]
          : []),
        '',
      ].join('\n'),
    )
    break
  }
  await new Promise((r) => setTimeout(r, 200))
}

/** The Worker settings taken from this process's environment. */
function passedThrough(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (e): e is [string, string] =>
        (['PBKDF2_ITERATIONS', 'CACHE_PREFIX', 'MARKET_ALWAYS_OPEN', 'VENUE_FEEDS', 'VENUES'].includes(e[0]) ||
          e[0].startsWith('RATE_LIMIT_')) &&
        !!e[1],
    ),
  )
}
