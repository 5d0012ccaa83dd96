// Runs scripts/dev.ts (PGlite or, with DATABASE_URL, a database of its own on that server, which
// dev.ts migrates and seeds; then wrangler dev) in its own process group with its own state
// directory and free ports: its demo accounts are its own, whatever other test files do.
import { sql } from 'drizzle-orm'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '../../scripts/lib/db.ts'
import { freePort } from '../../scripts/lib/local-db.ts'

const root = new URL('../..', import.meta.url).pathname

export interface DevServer {
  base: string
  output(): string
  stop(): Promise<void>
}

export async function startDevServer(): Promise<DevServer> {
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
  let dropDatabase = async () => {}
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
    dropDatabase = () =>
      onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((err) =>
        console.warn(`could not drop ${name} (a later run drops it when stale):`, err.message),
      )
  }
  const proc: ChildProcess = spawn(join(root, 'node_modules/.bin/tsx'), ['scripts/dev.ts'], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (d) => (out += d))
  proc.stderr!.on('data', (d) => (out += d))
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      process.kill(-proc.pid!, 'SIGTERM')
      await Promise.race([exited, Bun.sleep(15_000)])
      if (proc.exitCode === null) process.kill(-proc.pid!, 'SIGKILL')
    }
    rmSync(stateDir, { recursive: true, force: true })
    await dropDatabase()
  }
  const started = Date.now()
  while (!out.includes('Bourse API listening on')) {
    if (proc.exitCode !== null) {
      await stop()
      throw new Error(`dev exited ${proc.exitCode}:\n${out}`)
    }
    if (Date.now() - started > 60_000) {
      await stop()
      throw new Error(`dev did not start:\n${out}`)
    }
    await Bun.sleep(100)
  }
  return { base, output: () => out, stop }
}
