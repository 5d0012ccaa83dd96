// Two FIX sessions wired back to back in memory: an initiator (us) and an acceptor (the venue),
// a clock moved by hand, and a link that loses what the test says it loses. A close flushes
// what the closing side wrote, then both sides see the connection go.
import { encode, type Field, type FixMessage } from '../../../src/execution/fix/codec.ts'
import { formatUtcTimestamp } from '../../../src/execution/fix/fields.ts'
import { orderFlow } from '../../../src/execution/fix/messages.ts'
import {
  FixSession,
  type SessionConfig,
  type SessionEvent,
  type SessionOutput,
} from '../../../src/execution/fix/session.ts'
import { MemorySessionStore } from '../../../src/execution/fix/store.ts'

export type Side = 'initiator' | 'acceptor'
export const other = (side: Side): Side => (side === 'initiator' ? 'acceptor' : 'initiator')
export const COMP_ID: Record<Side, string> = { initiator: 'BOURSE', acceptor: 'VENUE' }
export const HEARTBEAT_MS = 30_000

/** Bytes as readable text, SOH shown as |. */
export const wireText = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replaceAll('\x01', '|')

export class Link {
  now = Date.UTC(2026, 0, 5, 14, 30)
  readonly stores = { initiator: new MemorySessionStore(), acceptor: new MemorySessionStore() }
  readonly sessions: Record<Side, FixSession>
  readonly delivered: Record<Side, FixMessage[]> = { initiator: [], acceptor: [] }
  readonly events: Record<Side, SessionEvent[]> = { initiator: [], acceptor: [] }
  /** Everything each side wrote, as text, lost or not. */
  readonly written: Record<Side, string[]> = { initiator: [], acceptor: [] }
  connected = false
  /** Whether the link loses this message written by `from`. */
  drop: (from: Side, bytes: Uint8Array) => boolean = () => false
  private inFlight: { to: Side; bytes: Uint8Array }[] = []
  private closedBy: Side | null = null

  constructor(private readonly overrides: Partial<Record<Side, Partial<SessionConfig>>> = {}) {
    this.sessions = { initiator: this.newSession('initiator'), acceptor: this.newSession('acceptor') }
  }

  connect() {
    this.connected = true
    this.handle('acceptor', this.sessions.acceptor.connect())
    this.handle('initiator', this.sessions.initiator.connect())
    this.pump()
  }

  /** Time passes: both sides tick, then the link delivers. */
  advance(ms: number) {
    this.now += ms
    this.handle('initiator', this.sessions.initiator.tick())
    this.handle('acceptor', this.sessions.acceptor.tick())
    this.pump()
  }

  send(from: Side, message: FixMessage) {
    this.handle(from, this.sessions[from].send(message))
    this.pump()
  }

  /** Bytes that reach `to` as if from its peer (forged messages, garbage). */
  inject(to: Side, bytes: Uint8Array) {
    this.handle(to, this.sessions[to].receive(bytes))
    this.pump()
  }

  /**
   * A message from `from` that did not go through its session: numbered from its store (so the
   * sequence stays consistent) unless `seq` is given; `header` replaces header fields.
   */
  forge(from: Side, body: FixMessage, header: { seq?: number; fields?: Field[] } = {}): Uint8Array {
    const store = this.stores[from]
    const seq = header.seq ?? store.nextOutgoingSeq()
    if (header.seq === undefined) store.setNextOutgoingSeq(seq + 1)
    const fields: Field[] = [
      [49, COMP_ID[from]],
      [56, COMP_ID[other(from)]],
      [34, String(seq)],
      [52, formatUtcTimestamp(this.now)],
    ]
    const replaced = new Set((header.fields ?? []).map(([tag]) => tag))
    return encode([...fields.filter(([tag]) => !replaced.has(tag)), ...(header.fields ?? []), ...body])
  }

  /** The process of `side` restarts: the connection dies, a new session object opens its store. */
  restart(side: Side) {
    if (this.connected) this.closeNow()
    this.sessions[side] = this.newSession(side)
  }

  /** The connection drops without anyone closing it: what was in flight is lost. */
  closeNow() {
    this.inFlight = []
    this.closedBy = null
    this.connected = false
    this.handle('initiator', this.sessions.initiator.disconnected())
    this.handle('acceptor', this.sessions.acceptor.disconnected())
  }

  /** Texts `side` wrote whose MsgType is `msgType`. */
  writtenOfType(side: Side, msgType: string): string[] {
    return this.written[side].filter((text) => text.includes(`|35=${msgType}|`))
  }

  eventsOfType<T extends SessionEvent['type']>(side: Side, type: T): Extract<SessionEvent, { type: T }>[] {
    return this.events[side].filter((e): e is Extract<SessionEvent, { type: T }> => e.type === type)
  }

  private newSession(side: Side): FixSession {
    const config: SessionConfig = {
      role: side,
      senderCompId: COMP_ID[side],
      targetCompId: COMP_ID[other(side)],
      heartBtInt: HEARTBEAT_MS / 1000,
      application: orderFlow,
      clock: () => this.now,
      ...this.overrides[side],
    }
    return new FixSession(config, this.stores[side])
  }

  /** What `side`'s session returned: delivered, recorded, written to the link. */
  handle(side: Side, output: SessionOutput) {
    this.delivered[side].push(...output.deliver)
    this.events[side].push(...output.events)
    for (const bytes of output.send) {
      this.written[side].push(wireText(bytes))
      if (this.connected && this.closedBy !== side && !this.drop(side, bytes)) {
        this.inFlight.push({ to: other(side), bytes })
      }
    }
    if (output.close && this.connected && this.closedBy === null) this.closedBy = side
  }

  private pump() {
    for (let message = this.inFlight.shift(); message; message = this.inFlight.shift()) {
      // The side that closed reads nothing more; what it wrote before closing still arrives.
      if (message.to === this.closedBy) continue
      this.handle(message.to, this.sessions[message.to].receive(message.bytes))
    }
    if (this.closedBy !== null) this.closeNow()
  }
}

/**
 * A frame of the given fields (`|` for SOH) with the right BodyLength and CheckSum, built by
 * hand: unlike encode() it writes what a faulty peer might, empty values included.
 */
export function rawFrame(fields: string): Uint8Array {
  const body = new TextEncoder().encode(fields.replaceAll('|', '\x01'))
  const head = new TextEncoder().encode(`8=FIX.4.4\x019=${body.length}\x01`)
  const sum = [...head, ...body].reduce((s, b) => s + b, 0) % 256
  const tail = new TextEncoder().encode(`10=${String(sum).padStart(3, '0')}\x01`)
  return new Uint8Array([...head, ...body, ...tail])
}

/** A drop rule that loses the first message matching `lost`, and only that one. */
export function dropOnce(lost: (from: Side, text: string) => boolean) {
  let dropped = false
  return (from: Side, bytes: Uint8Array) => {
    if (dropped || !lost(from, wireText(bytes))) return false
    dropped = true
    return true
  }
}

/** A NewOrderSingle body with this ClOrdID. */
export function order(clOrdId: string): FixMessage {
  return [
    [35, 'D'],
    [11, clOrdId],
    [55, 'AAPL'],
    [54, '1'],
    [38, '100'],
    [40, '2'],
    [44, '150.25'],
    [59, '0'],
    [60, '20260105-14:30:00.000'],
  ]
}

/** A trade ExecutionReport body with this ExecID. */
export function fill(execId: string): FixMessage {
  return [
    [35, '8'],
    [37, 'V-1'],
    [11, 'c-1'],
    [17, execId],
    [150, 'F'],
    [39, '1'],
    [55, 'AAPL'],
    [54, '1'],
    [32, '10'],
    [31, '150.25'],
    [151, '90'],
    [14, '10'],
    [6, '150.25'],
  ]
}
