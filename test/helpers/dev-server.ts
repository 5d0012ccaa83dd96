// Runs scripts/dev.ts (PGlite or, with DATABASE_URL, a database of its own on that server, which
// dev.ts migrates and seeds; then wrangler dev) in its own process group with its own state
// directory and free ports: its demo accounts are its own, whatever other test files do.
//
// Crashes: kill() SIGKILLs the whole group (dev.ts, wrangler, workerd) and keeps the state
// directory; restart() runs dev.ts again on the same state directory, port and database, so the
// Durable Objects come back from their SQLite files (--persist-to <stateDir>/wrangler). For the
// data to survive, Postgres must not live in the killed group: with DATABASE_URL it is that
// server anyway; without it, `externalDb: true` runs an in-memory PGlite in this (the test's)
// process instead of inside dev.ts, and hands dev.ts its URL to migrate and seed.
import { sql } from 'drizzle-orm'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '../../scripts/lib/db.ts'
import { freePort, startLocalDb } from '../../scripts/lib/local-db.ts'

const root = new URL('../..', import.meta.url).pathname

export interface DevServerOptions {
  /** keep Postgres out of the dev server's process group, so it outlives kill() */
  externalDb?: boolean
}

export interface DevServer {
  base: string
  stateDir: string
  /** the Postgres the Worker uses, when it is not dev.ts's own PGlite (externalDb, DATABASE_URL) */
  databaseUrl: string | undefined
  /** everything dev.ts, wrangler and workerd printed, across restarts */
  output(): string
  /** signals the whole process group (SIGKILL: a crash) and waits for it; keeps the state */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** starts dev.ts again on the same state directory, port and database */
  restart(): Promise<void>
  /** stops it (SIGTERM), removes the state directory, drops or closes the database */
  stop(): Promise<void>
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bourse-dev-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env: Record<string, string | undefined> = {
    ...process.env,
    BOURSE_STATE_DIR: stateDir,
    PORT: String(port),
    INSPECTOR_PORT: String(await freePort()),
    DATABASE_URL: undefined,
  }
  let closeDatabase = async () => {}
  if (process.env.DATABASE_URL) {
    // named like test/helpers/db.ts's, so a run that dies leaves nothing that is not cleaned up
    const name = `bourse_t_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
    const serverUrl = process.env.DATABASE_URL
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
    closeDatabase = () =>
      onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((err) =>
        console.warn(`could not drop ${name} (a later run drops it when stale):`, err.message),
      )
  } else if (options.externalDb) {
    const local = await startLocalDb()
    env.DATABASE_URL = local.url
    env.BOURSE_SEED = '1'
    closeDatabase = () => local.close().catch(() => {})
  }

  let proc: ChildProcess | undefined
  let out = ''
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const p = proc
    const exited = new Promise((resolve) => p.once('exit', resolve))
    process.kill(-p.pid!, signal)
    await Promise.race([exited, Bun.sleep(15_000)])
    if (p.exitCode === null && p.signalCode === null) {
      process.kill(-p.pid!, 'SIGKILL')
      await exited
    }
    // dev.ts may be gone before wrangler/workerd: make sure nothing of the group is left
    try {
      process.kill(-p.pid!, 'SIGKILL')
    } catch {}
  }
  const stop = async () => {
    await kill('SIGTERM')
    rmSync(stateDir, { recursive: true, force: true })
    await closeDatabase()
  }
  const start = async () => {
    const p = spawn(join(root, 'node_modules/.bin/tsx'), ['scripts/dev.ts'], {
      cwd: root,
      env: env as NodeJS.ProcessEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    proc = p
    const from = out.length
    p.stdout!.on('data', (d) => (out += d))
    p.stderr!.on('data', (d) => (out += d))
    const started = Date.now()
    while (!out.slice(from).includes('Bourse API listening on')) {
      if (p.exitCode !== null) {
        await stop()
        throw new Error(`dev exited ${p.exitCode}:\n${out}`)
      }
      if (Date.now() - started > 60_000) {
        await stop()
        throw new Error(`dev did not start:\n${out}`)
      }
      await Bun.sleep(50)
    }
  }
  await start()
  return {
    base,
    stateDir,
    databaseUrl: env.DATABASE_URL,
    output: () => out,
    kill,
    restart: async () => {
      await kill()
      await start()
    },
    stop,
  }
}
