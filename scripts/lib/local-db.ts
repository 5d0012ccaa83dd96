// Embedded Postgres for `npm run dev` and the tests: PGlite served over TCP by pglite-socket.
// PGlite is a single Postgres session; pglite-socket multiplexes client connections onto it and
// serializes their transactions, so maxConnections must be > 1 for a Pool (see STACK-NOTES.md).
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { connect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

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

/**
 * dataDir: a directory to persist to (e.g. .bourse/pgdata); omitted → in memory. cuttable: put
 * the relay `interrupt` needs in front (the chaos harness); otherwise interrupt refuses.
 */
export async function startLocalDb(
  opts: { dataDir?: string; port?: number; cuttable?: boolean } = {},
): Promise<LocalDb> {
  const pg = await PGlite.create(opts.dataDir ? { dataDir: opts.dataDir } : {})
  keepTurnUntilSync(pg)
  const port = opts.cuttable ? await freePort() : (opts.port ?? (await freePort()))
  const server = new PGLiteSocketServer({ db: pg, host: '127.0.0.1', port, maxConnections: 32 })
  await server.start()
  if (process.env.BOURSE_PGLITE_DEBUG) {
    server.addEventListener('connection', () => console.error('pglite', server.getStats()))
  }
  const front = opts.cuttable ? await startFront(port, opts.port) : undefined
  const clientPort = front?.port ?? port
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${clientPort}/postgres`,
    port: clientPort,
    async interrupt(downMs) {
      if (!front) throw new Error('startLocalDb({ cuttable: true }) to cut its connections')
      await front.cut(downMs)
    },
    async close() {
      await front?.close()
      await server.stop()
      await pg.close()
    },
  }
}

/**
 * The address clients use: a TCP relay to pglite-socket, so that a cut is what a real server's
 * is — every connection dropped, each one's end seen by pglite-socket as a client going away
 * (it rolls back what that client left open) — while the socket server itself keeps running.
 * Stopping and restarting pglite-socket instead waited on its handlers and could leave it not
 * listening at all.
 */
async function startFront(target: number, port?: number) {
  const open = new Set<Socket>()
  let refuseUntil = 0
  const relay = createServer((client) => {
    if (Date.now() < refuseUntil) return client.destroy()
    const upstream = connect({ host: '127.0.0.1', port: target, noDelay: true })
    client.setNoDelay(true)
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      open.add(a)
      a.pipe(b)
      a.on('error', () => b.destroy())
      a.on('close', () => {
        open.delete(a)
        b.destroy()
      })
    }
  })
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject)
    relay.listen(port ?? 0, '127.0.0.1', resolve)
  })
  const dropAll = () => {
    for (const socket of open) socket.destroy()
  }
  return {
    port: (relay.address() as AddressInfo).port,
    /** drops every connection and refuses new ones for downMs (the chaos harness's cut) */
    async cut(downMs: number) {
      refuseUntil = Date.now() + downMs
      dropAll()
      await new Promise((resolve) => setTimeout(resolve, downMs))
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll()
        relay.close(() => resolve())
      }),
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
  const execRaw = pg.execProtocolRawStream.bind(pg)
  pg.execProtocolRawStream = (message, options) => {
    midQuery = 'PBDECH'.includes(String.fromCharCode(message[0])) // Sync ('S') or 'Q' ends it
    return execRaw(message, options)
  }
  const inTransaction = pg.isInTransaction.bind(pg)
  pg.isInTransaction = () => midQuery || inTransaction()
  // pglite-socket rolls back with exec('ROLLBACK') after a client left mid-transaction. Left
  // mid-query, the session also waits for that query's Sync (after an error it skips everything
  // until one): end it first, or the ROLLBACK is skipped and the session stays stuck. A bare Sync
  // would commit what the query did outside a transaction, which Postgres rolls back when the
  // client is gone: an Execute of no portal fails it first.
  const exec = pg.exec.bind(pg)
  pg.exec = async (query, options) => {
    if (midQuery) {
      await pg.runExclusive(async () => {
        for (const message of [EXECUTE_NO_PORTAL, SYNC]) await pg.execProtocolRawStream(message, { onRawData: () => {} })
      })
    }
    return exec(query, options)
  }
}

/** Execute of a portal that does not exist: an error, so the query's work is undone at the Sync */
const EXECUTE_NO_PORTAL = (() => {
  const portal = new TextEncoder().encode('bourse_no_such_portal\0')
  const execute = new Uint8Array(1 + 4 + portal.length + 4)
  const view = new DataView(execute.buffer)
  execute[0] = 0x45 // 'E'
  view.setInt32(1, 4 + portal.length + 4)
  execute.set(portal, 5)
  view.setInt32(5 + portal.length, 0) // no row limit
  return execute
})()
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4])
