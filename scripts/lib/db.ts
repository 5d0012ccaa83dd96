// Database plumbing shared by scripts/dev.ts, scripts/migrate.ts and the tests (Node or Bun).
import { neonConfig } from '@neondatabase/serverless'
import { migrate } from 'drizzle-orm/neon-serverless/migrator'
import { WebSocket as WsWebSocket } from 'ws'
import { openDb } from '../../src/db/client.ts'
import type { DbHandle } from '../../src/db/client.ts'
import { processProxy } from './ws-proxy.ts'
import type { WsProxy } from './ws-proxy.ts'

export const MIGRATIONS_FOLDER = new URL('../../drizzle', import.meta.url).pathname

// Node 20 has no global WebSocket; Bun and workerd do.
if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') {
  neonConfig.webSocketConstructor = WsWebSocket as unknown as typeof neonConfig.webSocketConstructor
}

export function isLocalUrl(url: string): boolean {
  const host = new URL(url).hostname
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]'
}

/**
 * Opens the Neon driver on `url`: a local Postgres goes through the given proxy (or the
 * process's own), anything else is reached the Neon way (wss).
 */
export async function connect(
  url: string,
  proxy?: WsProxy,
): Promise<DbHandle & { close(): Promise<void> }> {
  if (isLocalUrl(url) && !proxy) proxy = await processProxy()
  const handle = openDb({ DATABASE_URL: url, DB_WS_PROXY: proxy?.address })
  return { ...handle, close: () => handle.end() }
}

export async function runMigrations(handle: DbHandle): Promise<void> {
  await migrate(handle.db, { migrationsFolder: MIGRATIONS_FOLDER })
}
