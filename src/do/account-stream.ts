// One user's private stream (GET /v1/stream): their order updates and account changes, in order,
// numbered per account, resumable with since=<seq>. The symbol objects publish to it (src/accounts/
// stream.ts); it numbers what it has not seen (each event has a key: a retried publish is not
// shown twice), keeps the last RETAINED in its SQLite storage, and sends them to the user's
// sockets, accepted with the hibernation API. A socket that does not prove it reads (read checks,
// src/lib/read-checks.ts) is closed with 4008 once STREAM_MAX_UNACKED_BYTES behind.
import { DurableObject } from 'cloudflare:workers'
import type { AccountEvent } from '../accounts/stream.ts'
import type { Env } from '../env.ts'
import { ReadChecks, sendChecked } from '../lib/read-checks.ts'
import type { Reading } from '../lib/read-checks.ts'
import { PING, PONG } from '../marketdata/protocol.ts'

/** Events kept for clients resuming with since=<seq>. */
const RETAINED = 1000
/**
 * Default for how far (bytes sent, unacknowledged) a reader may fall behind: well above a resume's
 * replay of RETAINED events, which goes out before the client can answer a check.
 */
const MAX_UNACKED_BYTES = 4 << 20

export class AccountStream extends DurableObject<Env> {
  private readonly sql: SqlStorage
  /** each socket's reading, restored from its attachment after hibernation */
  private readonly readers = new Map<WebSocket, ReadChecks>()
  private readonly maxUnackedBytes: number

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS stream_events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, event TEXT NOT NULL)`)
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG))
    this.maxUnackedBytes = Number(env.STREAM_MAX_UNACKED_BYTES) || MAX_UNACKED_BYTES
  }

  /** Appends the events not seen before, in order, and sends them to the user's sockets. */
  publish(events: AccountEvent[]): number {
    const fresh: string[] = []
    this.ctx.storage.transactionSync(() => {
      for (const { key, ...event } of events) {
        const [row] = this.sql
          .exec<{ seq: number }>(
            'INSERT INTO stream_events (key, event) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING seq',
            key,
            JSON.stringify(event),
          )
          .toArray()
        if (row) fresh.push(JSON.stringify({ seq: row.seq, ...event }))
      }
      this.sql.exec('DELETE FROM stream_events WHERE seq <= (SELECT max(seq) FROM stream_events) - ?', RETAINED)
    })
    for (const ws of this.ctx.getWebSockets()) {
      for (const text of fresh) if (!this.send(ws, text)) break
    }
    return fresh.length
  }

  /** The user's upgrade, authenticated by the Worker (src/accounts/routes.ts). */
  override async fetch(request: Request): Promise<Response> {
    const since = new URL(request.url).searchParams.get('since')
    const { 0: client, 1: server } = new WebSocketPair()
    this.ctx.acceptWebSocket(server)
    const last = this.lastSeq()
    if (since !== null) this.replay(server, Number(since), last)
    this.send(server, JSON.stringify({ type: 'hello', seq: last }))
    const protocol = request.headers.get('sec-websocket-protocol')
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: protocol ? { 'sec-websocket-protocol': protocol } : {},
    })
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer) {
    const msg = typeof message === 'string' && message.length < 256 ? parsed(message) : undefined
    if (msg?.op === 'ack' && typeof msg.token === 'string') {
      if (this.reading(ws).acknowledge(msg.token)) this.remember(ws)
      return
    }
    const error = { type: 'error', code: 'invalid_message', message: 'Only {"op":"ping"} and {"op":"ack","token"}' }
    this.send(ws, msg?.op === 'ping' ? PONG : JSON.stringify(error))
  }

  override webSocketError(ws: WebSocket) {
    this.readers.delete(ws)
  }

  override webSocketClose(ws: WebSocket, code: number) {
    this.readers.delete(ws)
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing')
    } catch {
      // already closed
    }
  }

  /** What came after `since`, or a reset when the stream no longer reaches back that far. */
  private replay(ws: WebSocket, since: number, last: number) {
    const [{ first }] = this.sql
      .exec<{ first: number | null }>('SELECT min(seq) AS first FROM stream_events')
      .toArray()
    if (since > last || (first !== null && since < first - 1)) {
      // fetch the state over REST (GET /v1/account, /v1/orders), then follow from `seq`
      return this.send(ws, JSON.stringify({ type: 'reset', seq: last }))
    }
    const rows = this.sql.exec<{ seq: number; event: string }>(
      'SELECT seq, event FROM stream_events WHERE seq > ? ORDER BY seq',
      since,
    )
    for (const { seq, event } of rows) if (!this.send(ws, `{"seq":${seq},${event.slice(1)}`)) return
  }

  /** Sends through the socket's read checks; false when it is closed (4008, or meanwhile). */
  private send(ws: WebSocket, text: string): boolean {
    if (sendChecked(ws, this.reading(ws), text, () => this.remember(ws))) return true
    this.readers.delete(ws)
    return false
  }

  private reading(ws: WebSocket): ReadChecks {
    let reading = this.readers.get(ws)
    if (!reading) {
      const saved = ws.deserializeAttachment() as { reading?: Reading } | null
      reading = new ReadChecks(this.maxUnackedBytes, saved?.reading)
      this.readers.set(ws, reading)
    }
    return reading
  }

  private remember(ws: WebSocket) {
    ws.serializeAttachment({ reading: this.reading(ws).saved() })
  }

  private lastSeq(): number {
    const [{ last }] = this.sql
      .exec<{ last: number | null }>('SELECT max(seq) AS last FROM stream_events')
      .toArray()
    return last ?? 0
  }
}

function parsed(text: string): { op?: unknown; token?: unknown } | undefined {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
