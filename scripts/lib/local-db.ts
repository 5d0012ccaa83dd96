// Embedded Postgres for `npm run dev` and the tests: PGlite served over TCP by pglite-socket.
// PGlite is a single Postgres session; pglite-socket multiplexes client connections onto it and
// serializes their transactions, so maxConnections must be > 1 for a Pool (see STACK-NOTES.md).
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface LocalDb {
  /** postgres:// URL of the socket server (user/password are ignored by PGlite) */
  url: string
  port: number
  /** drops every client connection and refuses new ones for downMs (the chaos harness's cut) */
  interrupt(downMs: number): Promise<void>
  close(): Promise<void>
}

export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

/** dataDir: a directory to persist to (e.g. .bourse/pgdata); omitted → in memory. */
export async function startLocalDb(
  opts: { dataDir?: string; port?: number } = {},
): Promise<LocalDb> {
  const pg = await PGlite.create(opts.dataDir ? { dataDir: opts.dataDir } : {})
  keepTurnUntilSync(pg)
  const port = opts.port ?? (await freePort())
  const server = new PGLiteSocketServer({ db: pg, host: '127.0.0.1', port, maxConnections: 32 })
  await server.start()
  if (process.env.BOURSE_PGLITE_DEBUG) {
    server.addEventListener('connection', () => console.error('pglite', server.getStats()))
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    async interrupt(downMs) {
      await server.stop() // rolls back a transaction a dropped connection left open
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await server.start()
    },
    async close() {
      await server.stop()
      await pg.close()
    },
  }
}

/**
 * pglite-socket runs each protocol message as it arrives and keeps one connection's turn only
 * while PGlite is in a transaction. An extended-protocol query outside one is several messages
 * (Parse, Bind, Describe, Execute, Sync), so two connections' bare statements interleave on the
 * one session: a Bind meets the other connection's statement ("unnamed prepared statement does
 * not exist", or worse its query run with these parameters). Counting the span from a Parse to
 * its Sync as "in a transaction" keeps the connection's turn until its query is complete.
 */
function keepTurnUntilSync(pg: PGlite) {
  let midQuery = false
  const exec = pg.execProtocolRawStream.bind(pg)
  pg.execProtocolRawStream = (message, options) => {
    midQuery = 'PBDECH'.includes(String.fromCharCode(message[0])) // Sync ('S') or 'Q' ends it
    return exec(message, options)
  }
  const inTransaction = pg.isInTransaction.bind(pg)
  pg.isInTransaction = () => midQuery || inTransaction()
}
