// One Pool per Worker request: a Pool kept at module scope and reused by another request hangs
// in workerd ("Cannot perform I/O on behalf of a different request"). A Durable Object may keep
// one across its requests (src/do/symbol-book.ts): its I/O belongs to the object.
import { Pool, neonConfig } from '@neondatabase/serverless'
import { drizzle } from 'drizzle-orm/neon-serverless'
import type { NeonDatabase } from 'drizzle-orm/neon-serverless'
import { ServiceUnavailableError } from '../errors.ts'
import * as schema from './schema.ts'
import { coalescing } from './websocket.ts'

export type Db = NeonDatabase<typeof schema>
/** a transaction handle, accepted wherever a Db is */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type DbOrTx = Db | Tx

export interface DbConfig {
  DATABASE_URL?: string
  DB_WS_PROXY?: string
}

/**
 * With DB_WS_PROXY (local dev and tests) the driver talks plain ws:// to our proxy, which opens
 * TCP to the Postgres named in DATABASE_URL. Without it, the driver's defaults reach Neon.
 */
export function configureNeon(cfg: DbConfig): void {
  // our coalescing instead of the driver's (websocket.ts): 1.4 → 0.4 ms a round trip, measured
  neonConfig.coalesceWrites = false
  neonConfig.webSocketConstructor = coalescedSocket(neonConfig.webSocketConstructor)
  const proxy = cfg.DB_WS_PROXY
  if (proxy) {
    neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`
    neonConfig.useSecureWebSocket = false
    neonConfig.pipelineTLS = false
    neonConfig.pipelineConnect = false
  }
}

type SocketConstructor = typeof neonConfig.webSocketConstructor
const coalesced = new WeakSet<NonNullable<SocketConstructor>>()

/** The driver's socket (the platform's WebSocket unless set), wrapped once by coalescing(). */
function coalescedSocket(current: SocketConstructor): SocketConstructor {
  if (current && coalesced.has(current)) return current
  const base = (current ?? WebSocket) as unknown as Parameters<typeof coalescing>[0]
  const wrapped = coalescing(base) as unknown as NonNullable<SocketConstructor>
  coalesced.add(wrapped)
  return wrapped
}

export interface DbHandle {
  db: Db
  pool: Pool
  end(): Promise<void>
}

/** max: connections at most (a Durable Object that keeps its Pool serves many requests). */
export function openDb(cfg: DbConfig, max = 5): DbHandle {
  if (!cfg.DATABASE_URL) throw new ServiceUnavailableError('DATABASE_URL is not configured')
  configureNeon(cfg)
  const pool = new Pool({ connectionString: cfg.DATABASE_URL, max })
  let ended: Promise<void> | undefined
  // An idle client's socket error must not become an unhandled error event. Closing the pool
  // loses its sockets on purpose ("Network connection lost"): nothing to report then.
  pool.on('error', (err: unknown) => {
    if (ended) return
    const error = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err)
    console.warn(JSON.stringify({ level: 'warn', msg: 'postgres pool error', error }))
  })
  const db = drizzle({ client: pool, schema })
  return { db, pool, end: () => (ended ??= pool.end()) }
}

export { schema }
