// Our side of a FIX session with a venue, over any byte connection (cloudflare:sockets in the
// VenueSession Durable Object, node:net in tests). Each step of the session and the recording of
// what it delivers commit in one storage transaction, and bytes go out only after it: so after a
// crash every application message the venue sent is in the inbox exactly once, and what we never
// acknowledged the venue resends (the session's gap recovery).
import type { JournalStore } from '../engine/journal.ts'
import { fromFix, orderFlow, toFix } from './fix/messages.ts'
import type { ApplicationMessage, NewOrderSingle, OrderCancelRequest } from './fix/messages.ts'
import { FixSession } from './fix/session.ts'
import type { SessionEvent, SessionOutput, SessionState } from './fix/session.ts'
import { SqlSessionStore } from './sql-session-store.ts'

/** A byte stream both ways, as `connect()` gives it. */
export interface Connection {
  readable: ReadableStream<Uint8Array>
  writable: WritableStream<Uint8Array>
  close(): Promise<void>
}

export interface VenueLinkConfig {
  senderCompId: string
  targetCompId: string
  heartBtInt: number
  clock?: () => number
  /**
   * Makes the step's commit durable before its bytes go out (a Durable Object's
   * storage.sync()): a message the venue got is never one a restart would number again.
   */
  durable?: () => Promise<void>
  /** The inbox got messages (committed): the owner forwards them. */
  delivered?: () => void
}

export interface InboxEntry {
  id: number
  message: ApplicationMessage | null
  /** a message the session delivered that is not one we can read: kept, never dropped */
  error: string | null
}

const MAX_EVENTS = 50

export class VenueLink {
  private readonly session: FixSession
  private writer: WritableStreamDefaultWriter<Uint8Array> | undefined
  private connection: Connection | undefined
  /** steps run one at a time, so one step's bytes never interleave with another's */
  private steps: Promise<unknown> = Promise.resolve()
  /** the session's latest events, newest last */
  readonly events: SessionEvent[] = []

  constructor(
    private readonly sql: JournalStore,
    private readonly config: VenueLinkConfig,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS fix_inbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT, error TEXT)`)
    // the ClOrdIDs sent, with their symbol: an order or cancel a caller sends again (a retry)
    // goes out once, and the venue's answer to it finds its symbol
    sql.exec('CREATE TABLE IF NOT EXISTS fix_order_ids (cl_ord_id TEXT PRIMARY KEY, symbol TEXT NOT NULL)')
    this.session = new FixSession(
      {
        role: 'initiator',
        senderCompId: config.senderCompId,
        targetCompId: config.targetCompId,
        heartBtInt: config.heartBtInt,
        // never a session Reject for the venue's own message: what it reports has happened
        // there. One we cannot read is kept in the inbox with its error, for a person.
        application: { msgTypes: orderFlow.msgTypes, validate: () => {} },
        clock: config.clock ?? Date.now,
      },
      new SqlSessionStore(sql),
    )
  }

  get state(): SessionState {
    return this.session.state
  }

  get connected(): boolean {
    return this.connection !== undefined
  }

  /** Connects, logs on and reads until the connection ends (then the session is disconnected). */
  async run(connection: Connection): Promise<void> {
    this.connection = connection
    this.writer = connection.writable.getWriter()
    const reader = connection.readable.getReader()
    try {
      await this.apply(() => this.session.connect())
      for (;;) {
        const { value, done } = await reader.read()
        if (done || !this.connection) break
        await this.apply(() => this.session.receive(value))
      }
    } catch (err) {
      this.remember({ type: 'disconnected', reason: String(err) })
    } finally {
      reader.releaseLock()
      this.connection = undefined
      this.writer = undefined
      await this.apply(() => this.session.disconnected())
      await connection.close().catch(() => {})
    }
  }

  /**
   * Sends an order-flow message. Once this returns it is numbered and kept: if the connection
   * fails while writing it, the venue gets it on the next logon (its resend), so a caller must
   * never send it again under a new ClOrdID.
   */
  send(message: ApplicationMessage): Promise<void> {
    return this.apply(() => this.session.send(toFix(message)))
  }

  /**
   * Sends an order or a cancel once per ClOrdID, whoever asks again (the ClOrdID is recorded in
   * the step that numbers the message): what a symbol's object retries after a crash is no second
   * order at the venue.
   */
  sendOnce(message: NewOrderSingle | OrderCancelRequest): Promise<void> {
    return this.apply(() => {
      if (this.symbolOf(message.clOrdId)) return { send: [], deliver: [], events: [], close: false }
      this.sql.exec('INSERT INTO fix_order_ids (cl_ord_id, symbol) VALUES (?, ?)', message.clOrdId, message.symbol)
      return this.session.send(toFix(message))
    })
  }

  /** The symbol of an order or cancel we sent (undefined: not one of ours). */
  symbolOf(clOrdId: string): string | undefined {
    const [row] = this.sql.exec('SELECT symbol FROM fix_order_ids WHERE cl_ord_id = ?', clOrdId)
    return row?.symbol as string | undefined
  }

  /** Time passes: heartbeats, test requests, timeouts. */
  tick(): Promise<void> {
    return this.apply(() => this.session.tick())
  }

  /** What the venue sent us, in order, after `afterId`. */
  inbox(afterId = 0, limit = 100): InboxEntry[] {
    return this.sql
      .exec('SELECT id, message, error FROM fix_inbox WHERE id > ? ORDER BY id LIMIT ?', afterId, limit)
      .map((r) => ({
        id: Number(r.id),
        message: r.message === null ? null : (JSON.parse(String(r.message)) as ApplicationMessage),
        error: r.error === null ? null : String(r.error),
      }))
  }

  /** One session step and its deliveries in one transaction; then its bytes go out. */
  private apply(step: () => SessionOutput): Promise<void> {
    const done = this.steps.then(() => this.applyNow(step))
    this.steps = done.catch(() => {})
    return done
  }

  private async applyNow(step: () => SessionOutput): Promise<void> {
    const output = this.sql.transaction(() => {
      const out = step()
      for (const fields of out.deliver) {
        try {
          this.sql.exec('INSERT INTO fix_inbox (message) VALUES (?)', JSON.stringify(fromFix(fields)))
        } catch (err) {
          this.sql.exec('INSERT INTO fix_inbox (error) VALUES (?)', String(err))
        }
      }
      return out
    })
    for (const e of output.events) this.remember(e)
    await this.config.durable?.()
    if (output.deliver.length > 0) this.config.delivered?.()
    try {
      for (const bytes of output.send) await this.writer?.write(bytes)
    } catch (err) {
      // committed: what did not go out is resent after the next logon
      this.remember({ type: 'disconnected', reason: `write failed: ${String(err)}` })
      output.close = true
    }
    if (output.close) {
      const connection = this.connection
      this.connection = undefined
      await connection?.close().catch(() => {})
    }
  }

  private remember(event: SessionEvent) {
    this.events.push(event)
    if (this.events.length > MAX_EVENTS) this.events.shift()
  }
}
