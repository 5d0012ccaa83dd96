// Runs scripts/dev.ts (PGlite or, with DATABASE_URL, a database of its own on that server, which
// dev.ts migrates and seeds; then wrangler dev) in its own process group with its own state
// directory and free ports: its demo accounts are its own, whatever else runs on the machine.
// Node or Bun (no Bun-only API): the API benchmark (bench/api.ts, under tsx) starts its server
// with it, and test/helpers/dev-server.ts can re-export it.
//
// Crashes: kill() SIGKILLs the whole group (dev.ts, wrangler, workerd) and keeps the state
// directory; restart() runs dev.ts again on the same state directory, port and database, so the
// Durable Objects come back from their SQLite files (--persist-to <stateDir>/wrangler). For the
// data to survive, Postgres must not live in the killed group: with DATABASE_URL it is that
// server anyway; without it, `externalDb: true` runs an in-memory PGlite in this process instead
// of inside dev.ts, and hands dev.ts its URL to migrate and seed.
//
// Only that process group is ever signalled, never anything else on the machine.
import { sql } from 'drizzle-orm'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from './db.ts'
import { freePort, startLocalDb } from './local-db.ts'
import { startUpstashBridge } from './upstash-bridge.ts'
import { startWsProxy } from './ws-proxy.ts'

const root = new URL('../..', import.meta.url).pathname
const LISTENING = 'Bourse API listening on'
/** wrangler logs every request: a long run (a load benchmark) keeps the last few MB */
const MAX_OUTPUT = 8 << 20

export interface DevServerOptions {
  /** keep Postgres out of the dev server's process group, so it outlives kill() */
  externalDb?: boolean
  /** a Postgres server to create the run's database on; default process.env.DATABASE_URL */
  databaseUrl?: string
  /**
   * extra environment for scripts/dev.ts (e.g. PBKDF2_ITERATIONS, RATE_LIMIT_*); REDIS_URL (from
   * process.env too) makes the Worker count rate limits in that Redis
   */
  env?: Record<string, string>
  /** extra arguments for wrangler dev */
  wranglerArgs?: string[]
  /**
   * restart() brings back only wrangler (the chaos harness's many kill -9s): from the second
   * start on, wrangler dev runs in a process group of its own with dev.ts's settings (its
   * dev.vars), and Postgres' WebSocket proxy and the Redis bridge run in this process instead, so
   * a kill leaves them up. The first start is dev.ts's, with its migrations and seed.
   */
  restartWranglerOnly?: boolean
}

export interface DevServer {
  base: string
  stateDir: string
  /** wrangler's DevTools port (its inspector proxy) */
  inspectorPort: number
  /** the Postgres the Worker uses, when it is not dev.ts's own PGlite (externalDb, DATABASE_URL) */
  databaseUrl: string | undefined
  /** what serves the data: PGlite (dev.ts's own or externalDb), or a fresh database on a server */
  database: { kind: 'pglite' } | { kind: 'postgres'; name: string; server: string }
  /** everything dev.ts, wrangler and workerd printed, across restarts */
  output(): string
  /** signals the whole process group (SIGKILL: a crash) and waits for it; keeps the state */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** starts dev.ts again on the same state directory, port and database */
  restart(): Promise<void>
  /** stops it (SIGTERM), removes the state directory, drops or closes the database */
  stop(): Promise<void>
  /**
   * Cuts the Worker's Postgres connections (the chaos harness): on a server, terminates the run
   * database's backends; on the externalDb PGlite, drops its connections and refuses new ones
   * for downMs. Not available with dev.ts's own PGlite.
   */
  cutDatabase(downMs: number): Promise<void>
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bourse-dev-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const runId = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
  const env: Record<string, string | undefined> = {
    ...process.env,
    // Redis keys of this run only: runs that share a Redis have the same users and symbols
    ...Object.fromEntries(
      ['RATE_LIMIT_PREFIX', 'CACHE_PREFIX'].map((name) => [name, `bourse-t-${runId}`]),
    ),
    ...options.env,
    BOURSE_STATE_DIR: stateDir,
    PORT: String(port),
    INSPECTOR_PORT: String(await freePort()),
    DATABASE_URL: undefined,
  }
  let database: DevServer['database'] = { kind: 'pglite' }
  let closeDatabase = async () => {}
  let cutDatabase: (downMs: number) => Promise<void> = async () => {
    throw new Error("dev.ts's own PGlite cannot be cut: use externalDb or DATABASE_URL")
  }
  const serverUrl = 'databaseUrl' in options ? options.databaseUrl : process.env.DATABASE_URL
  if (serverUrl) {
    // named like test/helpers/db.ts's, so a run that dies leaves nothing that is not cleaned up
    const name = `bourse_t_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
    const onServer = async (statement: string) => {
      const admin = await connect(serverUrl)
      try {
        await admin.db.execute(sql.raw(statement))
      } finally {
        await admin.close()
      }
    }
    await onServer(`CREATE DATABASE "${name}"`)
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    env.DATABASE_URL = url.toString()
    env.BOURSE_SEED = '1'
    database = { kind: 'postgres', name, server: url.host }
    closeDatabase = () =>
      onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((err) =>
        console.warn(`could not drop ${name} (a later run drops it when stale):`, err.message),
      )
    cutDatabase = () =>
      onServer(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`,
      )
  } else if (options.externalDb) {
    const local = await startLocalDb({ cuttable: true })
    env.DATABASE_URL = local.url
    env.BOURSE_SEED = '1'
    // bounded: PGlite's socket server waits for its connections to end, and a connection the
    // killed Worker left half open would hold stop() (and the error that called it) forever
    closeDatabase = () => Promise.race([local.close().catch(() => {}), sleep(10_000)])
    cutDatabase = (downMs) => local.interrupt(downMs)
  }

  let proc: ChildProcess | undefined
  let out = ''
  /** what the current start printed until it listened */
  let startOut = ''
  let starting = false
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const p = proc
    const exited = new Promise((resolve) => p.once('exit', resolve))
    signalGroup(p, signal)
    await Promise.race([exited, sleep(15_000)])
    if (p.exitCode === null && p.signalCode === null) {
      signalGroup(p, 'SIGKILL')
      await exited
    }
    // dev.ts may be gone before wrangler/workerd: make sure nothing of the group is left
    signalGroup(p, 'SIGKILL')
  }
  let stopped: Promise<void> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      await kill('SIGTERM')
      await wranglerOnly?.close()
      rmSync(stateDir, { recursive: true, force: true })
      await closeDatabase()
    })())
  let wranglerOnly: WranglerOnly | undefined
  const start = async () => {
    if (proc && options.restartWranglerOnly) wranglerOnly ??= await wranglerSettings(stateDir, env)
    const extra = options.wranglerArgs ?? []
    const [command, args] = wranglerOnly
      ? [join(root, 'node_modules/.bin/wrangler'), [...wranglerOnly.args, ...extra]]
      : [join(root, 'node_modules/.bin/tsx'), ['scripts/dev.ts', ...extra]]
    const p = spawn(command, args, {
      // detached: its own process group, so stopping it also stops wrangler and workerd
      cwd: root,
      env: env as NodeJS.ProcessEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    proc = p
    startOut = ''
    starting = true
    const keep = (d: Buffer) => {
      if (starting) startOut += d
      out += d
      if (out.length > MAX_OUTPUT) out = out.slice(-MAX_OUTPUT / 2)
    }
    p.stdout!.on('data', keep)
    p.stderr!.on('data', keep)
    const started = Date.now()
    const listening = wranglerOnly
      ? () => answers(`${base}/healthz`)
      : () => startOut.includes(LISTENING)
    while (!(await listening())) {
      if (p.exitCode !== null) {
        await stop()
        throw new Error(`dev exited ${p.exitCode}:\n${out}`)
      }
      if (Date.now() - started > 120_000) {
        await stop()
        throw new Error(`dev did not start:\n${out}`)
      }
      await sleep(50)
    }
    starting = false
    startOut = ''
  }
  await start()
  return {
    base,
    stateDir,
    inspectorPort: Number(env.INSPECTOR_PORT),
    databaseUrl: env.DATABASE_URL,
    database,
    output: () => out,
    kill,
    restart: async () => {
      await kill()
      await start()
    },
    stop,
    cutDatabase: (downMs) => cutDatabase(downMs),
  }
}

interface WranglerOnly {
  args: string[]
  close(): Promise<void>
}

/**
 * wrangler dev as dev.ts runs it (scripts/dev.ts), on its dev.vars, but with Postgres' proxy and
 * the Redis bridge of this process in it: what restartWranglerOnly restarts.
 */
async function wranglerSettings(
  stateDir: string,
  env: Record<string, string | undefined>,
): Promise<WranglerOnly> {
  const vars = new Map(
    readFileSync(join(stateDir, 'dev.vars'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 2, -1)]),
  )
  const proxy = vars.has('DB_WS_PROXY') ? await startWsProxy() : undefined
  if (proxy) vars.set('DB_WS_PROXY', proxy.address)
  const bridge = env.REDIS_URL ? await startUpstashBridge({ redisUrl: env.REDIS_URL }) : undefined
  if (bridge) {
    vars.set('UPSTASH_REDIS_REST_URL', bridge.url)
    vars.set('UPSTASH_REDIS_REST_TOKEN', bridge.token)
  }
  const varsFile = join(stateDir, 'wrangler-only.vars')
  writeFileSync(varsFile, [...vars].map(([k, v]) => `${k}='${v}'\n`).join(''), { mode: 0o600 })
  return {
    args: [
      'dev', '--ip', '127.0.0.1', '--port', env.PORT!, '--env-file', varsFile,
      '--persist-to', join(stateDir, 'wrangler'), '--inspector-port', env.INSPECTOR_PORT!,
      '--show-interactive-dev-session=false',
    ],
    close: async () => {
      await bridge?.close()
      await proxy?.close()
    },
  }
}

const answers = (url: string) =>
  fetch(url).then(
    (r) => r.ok,
    () => false,
  )

/** the whole group the child leads (it was spawned detached); a group already gone is fine */
function signalGroup(proc: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-proc.pid!, signal)
  } catch {
    // no such process group any more
  }
}
