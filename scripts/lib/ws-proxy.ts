// A WebSocket → TCP proxy for the Neon serverless driver, so the Worker (and tests) speak to a
// local Postgres (real, or PGlite behind pglite-socket) exactly as they speak to Neon in
// production. The driver connects to ws://HOST:PORT/v1?address=<pg-host>:<pg-port>
// (see dbConfigFor in src/db/client.ts) and the proxy pipes the raw Postgres protocol both ways.
// Node-only (ws + net): used by scripts/dev.ts and the tests, never bundled into the Worker.
import { createServer } from 'node:http'
import { createConnection } from 'node:net'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'

const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4])

export interface WsProxy {
  /** host:port to put in DB_WS_PROXY */
  address: string
  port: number
  close(): Promise<void>
}

/** `background`: the proxy does not keep the process alive (see processProxy) */
export async function startWsProxy(
  opts: { port?: number; host?: string; background?: boolean } = {},
): Promise<WsProxy> {
  const host = opts.host ?? '127.0.0.1'
  const server = createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws, req) => {
    const target = new URL(req.url ?? '/', 'ws://x').searchParams.get('address') ?? ''
    const sep = target.lastIndexOf(':')
    const pgHost = target.slice(0, sep)
    const pgPort = Number(target.slice(sep + 1))
    // Only local databases: this proxy must never become an open relay.
    if (!['127.0.0.1', 'localhost', '::1'].includes(pgHost) || !Number.isInteger(pgPort)) {
      ws.close(1008, 'address not allowed')
      return
    }
    const tcp = createConnection({ host: pgHost, port: pgPort, noDelay: true })
    const pending: Buffer[] = []
    let connected = false
    tcp.on('connect', () => {
      connected = true
      for (const chunk of pending) tcp.write(chunk)
      pending.length = 0
    })
    ws.on('message', (data: Buffer) => {
      if (connected) tcp.write(data)
      else pending.push(data)
      // Postgres closes the connection after a Terminate message and the driver waits for
      // that; pglite-socket keeps it open, so close our side once Terminate is through.
      if (data.length === 5 && data.equals(TERMINATE)) tcp.end()
    })
    tcp.on('data', (data) => ws.readyState === ws.OPEN && ws.send(data))
    ws.on('close', () => tcp.destroy())
    ws.on('error', () => tcp.destroy())
    tcp.on('close', () => ws.readyState === ws.OPEN && ws.close())
    tcp.on('error', () => ws.readyState === ws.OPEN && ws.close(1011))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, resolve)
  })
  if (opts.background) server.unref()
  const port = (server.address() as AddressInfo).port
  return {
    address: `${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => server.close(() => resolve()))
      }),
  }
}

let shared: Promise<WsProxy> | undefined

/**
 * The process's own proxy, started once and never closed (it does not keep the process alive).
 * The Neon driver's proxy setting is global to the process: a connection made after a proxy was
 * closed would go nowhere, so ad-hoc connections all share this one.
 */
export function processProxy(): Promise<WsProxy> {
  shared ??= startWsProxy({ background: true })
  return shared
}
