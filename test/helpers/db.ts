// The database the tests use, one per `bun test` process, shared by every test file:
//  - DATABASE_URL set (CI): a fresh database `bourse_t_<time>_<rand>` created on that server,
//    migrated, and dropped when the run ends (test/setup.ts), so reruns never collide;
//  - otherwise: an in-memory PGlite served over pglite-socket.
// Either way the app reaches it through the Neon driver and the local WS→TCP proxy, the same
// path as `npm run dev`. Tests create their own users (unique emails) and never assume an
// empty database.
import { sql } from 'drizzle-orm'
import { connect, runMigrations } from '../../scripts/lib/db.ts'
import { startLocalDb } from '../../scripts/lib/local-db.ts'
import { processProxy } from '../../scripts/lib/ws-proxy.ts'
import type { WsProxy } from '../../scripts/lib/ws-proxy.ts'
import type { DbHandle } from '../../src/db/client.ts'

export interface TestDatabase {
  kind: 'postgres' | 'pglite'
  /** connection string of the test database */
  url: string
  proxy: WsProxy
  /** a handle for direct checks from tests (the app opens its own Pool per request) */
  handle: DbHandle
  close(): Promise<void>
}

let shared: Promise<TestDatabase> | undefined

export function testDatabase(): Promise<TestDatabase> {
  shared ??= openDatabase()
  return shared
}

export async function closeTestDatabase(): Promise<void> {
  if (!shared) return
  const db = await shared.catch(() => undefined)
  shared = undefined
  await db?.close()
}

const STALE_MS = 6 * 3600_000

/**
 * A database of its own, migrated, the same kind as the shared one (a test that needs a whole
 * database to itself, e.g. to count every row; close() it at the end). Reached through the
 * process's one proxy (the Neon driver's proxy setting is global to the process).
 */
export async function openDatabase(): Promise<TestDatabase> {
  const proxy = await processProxy()
  const serverUrl = process.env.DATABASE_URL
  if (!serverUrl) {
    const local = await startLocalDb()
    const handle = (await connect(local.url, proxy)) as DbHandle & { close(): Promise<void> }
    await runMigrations(handle)
    return {
      kind: 'pglite',
      url: local.url,
      proxy,
      handle,
      async close() {
        await handle.end()
        await local.close()
      },
    }
  }
  const name = `bourse_t_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
  const admin = await connect(serverUrl, proxy)
  // Leftovers of runs that died before dropping theirs.
  const old = await admin.db.execute<{ datname: string }>(
    sql`SELECT datname FROM pg_database WHERE datname LIKE 'bourse\_t\_%'`,
  )
  for (const { datname } of old.rows) {
    const t = Number(datname.split('_')[2])
    if (Number.isFinite(t) && Date.now() - t > STALE_MS) {
      await admin.db.execute(sql.raw(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`))
    }
  }
  await admin.db.execute(sql.raw(`CREATE DATABASE "${name}"`))
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const handle = await connect(url.toString(), proxy)
  await runMigrations(handle)
  return {
    kind: 'postgres',
    url: url.toString(),
    proxy,
    handle,
    async close() {
      await handle.end()
      await admin.db.execute(sql.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
      await admin.close()
    },
  }
}
