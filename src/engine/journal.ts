// A symbol's book made durable: every command is appended to a log with the events it produced,
// in the same storage transaction as the outbox rows of its fills and of its order events
// (cancels, expiries, amends, rejections: what changes an order's reservation in Postgres),
// before the caller sees the outcome. The book is checkpointed every `snapshotEvery` commands; opening restores the latest
// snapshot, checks its hash, and replays the rest of the log, checking that every command
// produces exactly the events it produced the first time (matching is deterministic, so any
// difference means corrupted storage or a non-deterministic engine: both must stop the book).
//
// The storage is an interface so that this runs on a Durable Object's SQLite
// (src/do/symbol-book.ts) and, in tests, on bun:sqlite: the same SQL either way.

import type { ExecutionReport } from '../execution/fix/messages.ts'
import type { NbboAtDecision, RouteDecision, RoutePlan } from '../execution/routing.ts'
import { OrderBook } from './book.ts'
import type { BookEvent, Command, Depth, NewOrder } from './types.ts'

/** What Durable Object SQLite binds and returns (blobs arrive as ArrayBuffer; bun's as Uint8Array). */
export type SqlValue = string | number | null | ArrayBuffer

export interface JournalStore {
  /** Runs one statement and returns its rows. */
  exec(query: string, ...bindings: SqlValue[]): Record<string, SqlValue>[]
  /** Runs `fn` atomically: all of its statements commit, or none. */
  transaction<T>(fn: () => T): T
}

/** A trade waiting to be applied to Postgres, numbered by the symbol's fill sequence. */
export interface OutboxFill {
  fillSeq: number
  /** The command (book sequence number) that made it. */
  seq: number
  taker: number
  /** the resting order; 0 for a fill at an external venue (no order of ours on the other side) */
  maker: number
  side: 'buy' | 'sell'
  price: number
  qty: number
  ts: number
  /** a fill at an external venue: its name and its ExecID there */
  venue?: string
  execId?: string
}

/** A fill an external venue reported for one of our orders routed there (issue 7). */
export interface VenueExecution {
  order: number
  side: 'buy' | 'sell'
  price: number
  qty: number
  venue: string
  execId: string
}

/**
 * An order event waiting to be applied to Postgres: what the book did to an order besides
 * filling it. `fillsBefore` is the symbol's fill count before its command (an amend's cut depends
 * on the fills made before it).
 */
export interface OutboxOrderEvent {
  id: number
  seq: number
  fillsBefore: number
  ts: number
  event: OrderEvent
}

export type OrderEvent =
  | Extract<BookEvent, { type: 'canceled' | 'expired' | 'amended' | 'rejected' }>
  | RoutedEvent

/**
 * What is left of an order after its internal leg went to a venue (issue 7): `qty` shares as a
 * child order `clOrdId`, with the NBBO when it was decided (the best-execution record).
 */
export interface RoutedEvent {
  type: 'routed'
  id: number
  qty: number
  venue: string
  clOrdId: string
  price: number
  tif: NewOrder['tif']
  nbbo: NbboAtDecision
}

/** A routed order's cancel request is on its way to the venue: it ends when the venue says so. */
export interface CancelPendingEvent {
  type: 'cancel_pending'
  id: number
  venue: string
}

/** What an ack reports: the book's events, and the routing of what the book did not fill. */
export type AckEvent = BookEvent | RoutedEvent | CancelPendingEvent

/** A child order at a venue, as the journal keeps it until the venue ends it. */
export interface RoutedChild {
  clOrdId: string
  order: number
  venue: string
  side: 'buy' | 'sell'
  qty: number
  price: number
  tif: NewOrder['tif']
  ts: number
  /** the NewOrderSingle went to the venue's session (which numbers and keeps it) */
  sent: boolean
  /** a cancel was asked for (by the user, or the close for a DAY order) and sent */
  cancel: 'none' | 'user' | 'close'
  cancelSent: boolean
  /** cancels sent so far (each has its own ClOrdID) */
  cancels: number
}

/**
 * The events of a command that Postgres must see: cancels, expiries and amends, and rejections of
 * new orders (a rejected cancel or amend leaves its order as it was).
 */
export function orderEvents(op: Command['op'], events: AckEvent[]): OrderEvent[] {
  return events.filter(
    (e): e is OrderEvent =>
      e.type === 'routed' ||
      e.type === 'canceled' ||
      e.type === 'expired' ||
      e.type === 'amended' ||
      (e.type === 'rejected' && op === 'new'),
  )
}

export interface Ack {
  seq: number
  ts: number
  /** the symbol's fill count before this command */
  fillsBefore: number
  events: AckEvent[]
  fills: OutboxFill[]
  /** True when this order id had already been submitted: the first outcome, not a new one. */
  replayed: boolean
  /**
   * Time the Durable Object spent in the book and its journal, in ms, where the host measures it
   * (workerd's clock stands still during synchronous code, so this can be 0 there).
   */
  engineMs?: number
}

export class JournalCorrupt extends Error {
  override name = 'JournalCorrupt'
}

/** Snapshot parts stay under the Durable Object SQLite row limit (2 MB). */
const SNAPSHOT_PART_BYTES = 1 << 20

const SCHEMA = [
  // fills_before: the symbol's fill count before this command, which numbers its fills.
  `CREATE TABLE IF NOT EXISTS book_commands (
     seq INTEGER PRIMARY KEY, op TEXT NOT NULL, order_id INTEGER, command TEXT NOT NULL,
     events TEXT NOT NULL, ts INTEGER NOT NULL, fills_before INTEGER NOT NULL)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS book_commands_new_order ON book_commands(order_id) WHERE op = 'new'`,
  `CREATE INDEX IF NOT EXISTS book_commands_cancel_order ON book_commands(order_id) WHERE op = 'cancel'`,
  `CREATE TABLE IF NOT EXISTS book_snapshots (
     seq INTEGER NOT NULL, part INTEGER NOT NULL, parts INTEGER NOT NULL, data BLOB NOT NULL,
     hash TEXT NOT NULL, fill_seq INTEGER NOT NULL, PRIMARY KEY (seq, part))`,
  `CREATE TABLE IF NOT EXISTS book_outbox (
     fill_seq INTEGER PRIMARY KEY, seq INTEGER NOT NULL, taker INTEGER NOT NULL,
     maker INTEGER NOT NULL, side TEXT NOT NULL, price INTEGER NOT NULL, qty INTEGER NOT NULL,
     ts INTEGER NOT NULL)`,
  // a venue's execution of an order is logged once: a report the venue or its session sends
  // again is no fill (an ExecID is unique per order at a venue, not for ever across orders)
  `DROP INDEX IF EXISTS book_commands_venue_exec`,
  `CREATE UNIQUE INDEX IF NOT EXISTS book_commands_venue_order_exec ON book_commands(
     json_extract(command, '$.venue'), order_id, json_extract(command, '$.execId')) WHERE op = 'venue_fill'`,
  `CREATE TABLE IF NOT EXISTS book_order_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, fills_before INTEGER NOT NULL,
     event TEXT NOT NULL, ts INTEGER NOT NULL)`,
  // orders' children at venues, kept after they end (the log names them; this is their state)
  // venue_order_id: the venue's OrderID (37) from its first report; cancels: requests sent so far
  `CREATE TABLE IF NOT EXISTS routed_orders (
     cl_ord_id TEXT PRIMARY KEY, order_id INTEGER NOT NULL UNIQUE, venue TEXT NOT NULL,
     side TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL, tif TEXT NOT NULL,
     ts INTEGER NOT NULL, sent INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
     cancel TEXT NOT NULL DEFAULT 'none', cancel_sent INTEGER NOT NULL DEFAULT 0,
     cancels INTEGER NOT NULL DEFAULT 0, venue_order_id TEXT)`,
  // venue reports that do not fit their child order: applied to nothing, kept for a person
  `CREATE TABLE IF NOT EXISTS venue_breaks (
     id INTEGER PRIMARY KEY AUTOINCREMENT, venue TEXT NOT NULL, cl_ord_id TEXT NOT NULL,
     problem TEXT NOT NULL, report TEXT NOT NULL, ts INTEGER NOT NULL)`,
]

export interface JournalOptions {
  snapshotEvery?: number
  now?: () => number
}

/** Where a book stands: to compare it with a replay of its log, and to see its outbox drained. */
export interface BookState {
  /** the last command in the log */
  seq: number
  /** the fills the book has made (the symbol's fill sequence) */
  fillSeq: number
  /** OrderBook.hash() of the live book */
  hash: string
  /** fills and order events still waiting in the outbox for Postgres */
  outbox: number
}

export interface OpenReport {
  /** The book sequence number after opening: the last command in the log. */
  seq: number
  snapshotSeq: number
  replayed: number
  ms: number
}

export class BookJournal {
  private book: OrderBook | undefined
  private seq = 0
  private fillSeq = 0
  private readonly snapshotEvery: number
  private readonly now: () => number

  constructor(
    private readonly store: JournalStore,
    private readonly module: WebAssembly.Module,
    options: JournalOptions = {},
  ) {
    this.snapshotEvery = options.snapshotEvery ?? 1000
    this.now = options.now ?? Date.now
  }

  /** Restores the book from storage: latest snapshot, then the log after it. */
  open(): OpenReport {
    const started = performance.now()
    for (const statement of SCHEMA) this.store.exec(statement)
    addVenueColumns(this.store)
    const book = OrderBook.create(this.module)
    const snapshot = this.restoreSnapshot(book)
    let replayed = 0
    this.seq = snapshot.seq
    this.fillSeq = snapshot.fillSeq
    for (const row of this.store.exec(
      'SELECT seq, op, command, events, fills_before FROM book_commands WHERE seq > ? ORDER BY seq',
      snapshot.seq,
    )) {
      if (row.seq !== this.seq + 1 || row.fills_before !== this.fillSeq) {
        throw new JournalCorrupt(`the log has a gap or a wrong fill count at command ${row.seq}`)
      }
      if (row.op === VENUE_FILL || row.op === ROUTE_END) {
        // a venue's fill (numbered in the symbol's fill sequence) or the end of a routed order:
        // the book untouched
        this.seq = row.seq as number
        this.fillSeq += row.op === VENUE_FILL ? 1 : 0
        replayed++
        continue
      }
      const events = bookEvents(book, JSON.parse(row.command as string) as LoggedCommand)
      if (JSON.stringify(events) !== row.events) {
        throw new JournalCorrupt(`replaying command ${row.seq} produced different events`)
      }
      this.seq = row.seq as number
      this.fillSeq += events.filter((e) => e.type === 'fill').length
      replayed++
    }
    this.book = book
    return { seq: this.seq, snapshotSeq: snapshot.seq, replayed, ms: performance.now() - started }
  }

  /**
   * Places an order; a second submit of the same id returns the first outcome. With a route
   * (src/execution/routing.ts), the order first matches as an IOC at the plan's cap (not at all
   * without one), and what that leaves becomes a child order for the venue (unsentChildren());
   * a refused route rejects the order without the book.
   */
  submit(order: NewOrder, route?: RouteDecision): Ack {
    const first = this.firstSubmit(order.id)
    if (first) return replay(first)
    if (!route) return this.apply({ ...order, op: 'new' })
    if ('refused' in route) return this.apply({ ...order, op: 'refuse', reason: route.refused })
    if (route.internalCap === undefined) return this.apply({ ...order, op: 'route', route })
    const { postOnly: _, ...taking } = order
    return this.apply({ ...taking, op: 'new', price: route.internalCap, tif: 'IOC', route })
  }

  /**
   * An order the gateway submits late, with the market closed (a client's retry, the sweeper):
   * its first outcome if the book has it; otherwise it is rejected market_closed without the
   * book, and a submit of it again gets that rejection, so it never trades after its time.
   */
  refuseUnseen(order: NewOrder): Ack {
    const first = this.firstSubmit(order.id)
    return first ? replay(first) : this.apply({ ...order, op: 'refuse', reason: 'market_closed' })
  }

  private firstSubmit(id: number) {
    return this.store.exec(
      `SELECT seq, command, events, ts, fills_before FROM book_commands WHERE op = 'new' AND order_id = ?`,
      id,
    )[0]
  }

  /**
   * Cancels an order; once an order was canceled, canceling it again returns that first outcome
   * (a retry after a crash learns what the first cancel did).
   */
  cancel(id: number): Ack {
    const done = this.store
      .exec(`SELECT seq, events, ts, fills_before FROM book_commands WHERE op = 'cancel' AND order_id = ?`, id)
      .find((row) => (JSON.parse(row.events as string) as BookEvent[]).some((e) => e.type === 'canceled'))
    return done ? replay(done) : this.apply({ op: 'cancel', id })
  }

  amend(id: number, qty: number): Ack {
    return this.apply({ op: 'amend', id, qty })
  }

  close(): Ack {
    return this.apply({ op: 'close' })
  }

  /**
   * Logs a venue's execution of one of our routed orders as a fill of this symbol (the next in
   * its sequence, to the outbox like the book's own); the same venue and ExecID again returns the
   * first outcome. The book is not touched: a routed quantity is not in it.
   */
  venueFill(execution: VenueExecution): Ack {
    this.opened() // the log's tables, and seq and fillSeq as the restored book's
    const first = this.loggedVenueFill(execution.venue, execution.order, execution.execId)
    if (first) return loggedVenueFillAck(first)
    const seq = this.seq + 1
    const ts = this.now()
    const fill = venueOutboxFill(execution, seq, ts, this.fillSeq)
    this.store.transaction(() => {
      this.store.exec(
        'INSERT INTO book_commands (seq, op, order_id, command, events, ts, fills_before) VALUES (?, ?, ?, ?, ?, ?, ?)',
        seq, VENUE_FILL, execution.order, JSON.stringify(execution), '[]', ts, this.fillSeq,
      )
      insertOutboxFill(this.store, fill)
    })
    const fillsBefore = this.fillSeq
    this.seq = seq
    this.fillSeq += 1
    return { seq, ts, fillsBefore, events: [], fills: [fill], replayed: false }
  }

  /**
   * A venue's ExecutionReport for a child of this symbol's: a trade is logged as a fill (once per
   * ExecID); the end of the child (canceled, expired, rejected, or a last trade, with nothing left
   * there) releases what it did not fill, once. A report that does not fit its child (another
   * venue order, the other side, a price past its limit, more than it asked for, a rejection after
   * the venue took it) changes nothing: it is kept as a break, for a person (`broken`).
   */
  venueReport(venue: string, report: ExecutionReport): { acks: Ack[]; broken?: string } {
    this.opened()
    const clOrdId = report.origClOrdId ?? report.clOrdId
    const child = this.child('cl_ord_id', clOrdId)
    const trade = report.execType === 'trade'
    if (child && trade) {
      const logged = this.loggedVenueFill(venue, child.order, report.execId)
      if (logged) return { acks: [loggedVenueFillAck(logged)] }
    }
    const problem = !child || child.venue !== venue ? 'no such child order at this venue' : this.misfit(child, report)
    if (problem) {
      this.store.exec(
        'INSERT INTO venue_breaks (venue, cl_ord_id, problem, report, ts) VALUES (?, ?, ?, ?, ?)',
        venue, clOrdId, problem, JSON.stringify(report), this.now(),
      )
      return { acks: [], broken: problem }
    }
    const { order, side, clOrdId: id } = child!
    if (child!.venueOrderId === null) {
      this.store.exec('UPDATE routed_orders SET venue_order_id = ? WHERE cl_ord_id = ?', report.orderId, id)
    }
    const acks: Ack[] = []
    if (trade) acks.push(this.venueFill({ order, side, price: report.lastPx!, qty: report.lastQty!, venue, execId: report.execId }))
    if (report.leavesQty === 0 && !child!.done) {
      if (report.cumQty >= child!.qty) this.store.exec('UPDATE routed_orders SET done = 1 WHERE cl_ord_id = ?', id)
      else if (trade || CHILD_ENDS.has(report.ordStatus)) acks.push(this.endChild(child!, report))
    }
    return { acks }
  }

  /** Venue reports kept as breaks (they did not fit their child order). */
  venueBreaks(): number {
    return Number(this.store.exec('SELECT COUNT(*) AS n FROM venue_breaks')[0].n)
  }

  /**
   * The venue refused to cancel the order's child (its OrderCancelReject): while the child is
   * still open, the cancel may be asked for again (a new ClOrdID for it).
   */
  cancelRejected(clOrdId: string): RoutedChild | undefined {
    this.store.exec(
      `UPDATE routed_orders SET cancel = 'none', cancel_sent = 0 WHERE cl_ord_id = ? AND done = 0`,
      clOrdId,
    )
    return this.openChild(this.child('cl_ord_id', clOrdId)?.order ?? 0)
  }

  /** The order's child at a venue, while the venue has not ended it. */
  openChild(order: number): RoutedChild | undefined {
    const child = this.child('order_id', order)
    return child && !child.done ? child : undefined
  }

  /** Marks the order's open child to be canceled at its venue (sent by the caller). */
  requestCancel(order: number, why: 'user' | 'close'): RoutedChild | undefined {
    this.store.exec(
      `UPDATE routed_orders SET cancel = ? WHERE order_id = ? AND done = 0 AND cancel = 'none'`,
      why, order,
    )
    return this.openChild(order)
  }

  /** Children the venues have not ended. */
  openChildren(): RoutedChild[] {
    return this.store.exec('SELECT * FROM routed_orders WHERE done = 0').map(routedChild)
  }

  /** The last command in the log and the symbol's fill count (cheap: state() hashes the book). */
  position(): { seq: number; fillSeq: number } {
    this.opened()
    return { seq: this.seq, fillSeq: this.fillSeq }
  }

  /** Open children with an order or a cancel still to send to their venue. */
  unsentChildren(): RoutedChild[] {
    return this.store
      .exec(`SELECT * FROM routed_orders WHERE done = 0 AND (sent = 0 OR (cancel != 'none' AND cancel_sent = 0))`)
      .map(routedChild)
  }

  /** The child's order (or its cancel: one more sent) is in its venue session's hands. */
  markSent(clOrdId: string, what: 'order' | 'cancel'): void {
    const set = what === 'order' ? 'sent = 1' : 'cancel_sent = 1, cancels = cancels + 1'
    this.store.exec(`UPDATE routed_orders SET ${set} WHERE cl_ord_id = ?`, clOrdId)
  }

  depth(maxLevels?: number): Depth & { seq: number } {
    return { seq: this.seq, ...this.opened().depth(maxLevels) }
  }

  hash(): string {
    return this.opened().hash()
  }

  state(): BookState {
    const hash = this.hash() // opens the book first if needed: seq and fillSeq are its own
    return { seq: this.seq, fillSeq: this.fillSeq, hash, outbox: this.outboxSize() }
  }

  /** Fills and order events waiting in the outbox for Postgres (cheap: state() hashes the book). */
  outboxSize(): number {
    const [{ n }] = this.store.exec(
      'SELECT (SELECT COUNT(*) FROM book_outbox) + (SELECT COUNT(*) FROM book_order_events) AS n',
    )
    return Number(n)
  }

  /** Fills not yet acknowledged as applied to Postgres, oldest first. */
  pendingFills(limit = 500): OutboxFill[] {
    return this.store
      .exec('SELECT * FROM book_outbox ORDER BY fill_seq LIMIT ?', limit)
      .map((row) => ({
        fillSeq: row.fill_seq as number,
        seq: row.seq as number,
        taker: row.taker as number,
        maker: row.maker as number,
        side: row.side as 'buy' | 'sell',
        price: row.price as number,
        qty: row.qty as number,
        ts: row.ts as number,
        ...(row.venue !== null && { venue: row.venue as string, execId: row.exec_id as string }),
      }))
  }

  /** Forgets outbox rows up to `fillSeq`, once they are committed in Postgres. */
  acknowledgeFills(fillSeq: number): void {
    this.store.exec('DELETE FROM book_outbox WHERE fill_seq <= ?', fillSeq)
  }

  /** Order events not yet acknowledged as applied to Postgres, oldest first. */
  pendingOrderEvents(limit = 500): OutboxOrderEvent[] {
    return this.store
      .exec('SELECT * FROM book_order_events ORDER BY id LIMIT ?', limit)
      .map((row) => ({
        id: row.id as number,
        seq: row.seq as number,
        fillsBefore: row.fills_before as number,
        ts: row.ts as number,
        event: JSON.parse(row.event as string) as OrderEvent,
      }))
  }

  /** Forgets order events up to `id`, once they are committed in Postgres. */
  acknowledgeOrderEvents(id: number): void {
    this.store.exec('DELETE FROM book_order_events WHERE id <= ?', id)
  }

  private apply(command: LoggedCommand): Ack {
    const book = this.opened()
    const seq = this.seq + 1
    const ts = this.now()
    // a routed or refused order is logged as a new one: a submit again finds it
    const op = command.op === 'route' || command.op === 'refuse' ? 'new' : command.op
    let events: BookEvent[]
    let fills: OutboxFill[]
    let acked: AckEvent[]
    try {
      events = bookEvents(book, command)
      fills = numberFills(events, seq, ts, this.fillSeq)
      acked = ackEvents(command, events)
      this.store.transaction(() => {
        const orderId = command.op === 'close' ? null : command.id
        this.store.exec(
          'INSERT INTO book_commands (seq, op, order_id, command, events, ts, fills_before) VALUES (?, ?, ?, ?, ?, ?, ?)',
          seq, op, orderId, JSON.stringify(command), JSON.stringify(events), ts, this.fillSeq,
        )
        for (const f of fills) insertOutboxFill(this.store, f)
        this.insertOrderEvents(orderEvents(op, acked), seq, ts)
        const routed = acked.find((e): e is RoutedEvent => e.type === 'routed')
        if (routed && (command.op === 'new' || command.op === 'route')) {
          this.store.exec(
            'INSERT INTO routed_orders (cl_ord_id, order_id, venue, side, qty, price, tif, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            routed.clOrdId, routed.id, routed.venue, command.side, routed.qty, routed.price, routed.tif, ts,
          )
        }
        if (seq % this.snapshotEvery === 0) this.writeSnapshot(book, seq, this.fillSeq + fills.length)
      })
    } catch (error) {
      // The book may have moved past what storage holds (a refused command, a trap inside WASM,
      // a failed write): drop it, so the next call reopens it from storage.
      this.book = undefined
      throw error
    }
    const fillsBefore = this.fillSeq
    this.seq = seq
    this.fillSeq += fills.length
    return { seq, ts, fillsBefore, events: acked, fills, replayed: false }
  }

  private insertOrderEvents(events: OrderEvent[], seq: number, ts: number) {
    for (const e of events) {
      this.store.exec(
        'INSERT INTO book_order_events (seq, fills_before, event, ts) VALUES (?, ?, ?, ?)',
        seq, this.fillSeq, JSON.stringify(e), ts,
      )
    }
  }

  /** Logs the venue's end of a child; what it did not fill leaves the order (the outbox). */
  private endChild(child: RoutedChild, report: ExecutionReport): Ack {
    const seq = this.seq + 1
    const ts = this.now()
    const left = child.qty - report.cumQty
    const reason = report.ordStatus === 'rejected' ? 'venue_rejected' : child.cancel === 'user' ? 'user' : 'ioc'
    const expired = report.ordStatus === 'expired' || report.ordStatus === 'done-for-day' || child.cancel === 'close'
    const events: OrderEvent[] =
      left <= 0 ? []
      : expired ? [{ type: 'expired', id: child.order, qty: left }]
      : [{ type: 'canceled', id: child.order, qty: left, reason }]
    const { execId, ordStatus } = report
    this.store.transaction(() => {
      this.store.exec(
        'INSERT INTO book_commands (seq, op, order_id, command, events, ts, fills_before) VALUES (?, ?, ?, ?, ?, ?, ?)',
        seq, ROUTE_END, child.order, JSON.stringify({ venue: child.venue, clOrdId: child.clOrdId, execId, ordStatus }),
        JSON.stringify(events), ts, this.fillSeq,
      )
      this.insertOrderEvents(events, seq, ts)
      this.store.exec('UPDATE routed_orders SET done = 1 WHERE cl_ord_id = ?', child.clOrdId)
    })
    this.seq = seq
    return { seq, ts, fillsBefore: this.fillSeq, events, fills: [], replayed: false }
  }

  private child(by: 'cl_ord_id' | 'order_id', key: string | number) {
    const [row] = this.store.exec(`SELECT * FROM routed_orders WHERE ${by} = ?`, key)
    return row && { ...routedChild(row), done: row.done === 1, venueOrderId: row.venue_order_id as string | null }
  }

  /** Why a venue's report does not fit its child; undefined when it does. */
  private misfit(child: RoutedChild & { venueOrderId: string | null }, r: ExecutionReport): string | undefined {
    if (r.side !== child.side) return `side ${r.side} for a ${child.side} order`
    if (child.venueOrderId !== null && r.orderId !== child.venueOrderId) {
      return `venue OrderID ${r.orderId}, not ${child.venueOrderId}`
    }
    if (r.ordStatus === 'rejected' && child.venueOrderId !== null) return 'rejected after the venue accepted it'
    if (r.execType !== 'trade') return
    if (!r.lastQty || !r.lastPx) return 'a trade without LastQty and LastPx'
    if (child.side === 'buy' ? r.lastPx > child.price : r.lastPx < child.price) {
      return `price ${r.lastPx} past the limit ${child.price}`
    }
    const [{ filled }] = this.store.exec(
      `SELECT COALESCE(SUM(json_extract(command, '$.qty')), 0) AS filled FROM book_commands
         WHERE op = '${VENUE_FILL}' AND order_id = ?`,
      child.order,
    )
    if (Number(filled) + r.lastQty > child.qty) return `${Number(filled) + r.lastQty} filled of ${child.qty}`
  }

  private loggedVenueFill(venue: string, order: number, execId: string) {
    return this.store.exec(
      `SELECT seq, command, ts, fills_before FROM book_commands WHERE op = '${VENUE_FILL}'
         AND json_extract(command, '$.venue') = ? AND order_id = ? AND json_extract(command, '$.execId') = ?`,
      venue, order, execId,
    )[0]
  }

  private writeSnapshot(book: OrderBook, seq: number, fillSeq: number): void {
    const state = book.snapshot()
    const hash = book.hash()
    const parts = Math.max(1, Math.ceil(state.length / SNAPSHOT_PART_BYTES))
    for (let part = 0; part < parts; part++) {
      const data = state.slice(part * SNAPSHOT_PART_BYTES, (part + 1) * SNAPSHOT_PART_BYTES).buffer
      this.store.exec(
        'INSERT INTO book_snapshots (seq, part, parts, data, hash, fill_seq) VALUES (?, ?, ?, ?, ?, ?)',
        seq, part, parts, data, hash, fillSeq,
      )
    }
    // The latest checkpoint is the one a restore reads (it commits whole, with its command);
    // the command log is kept whole, so the book can always be rebuilt from the start.
    this.store.exec('DELETE FROM book_snapshots WHERE seq < ?', seq)
  }

  private restoreSnapshot(book: OrderBook): { seq: number; fillSeq: number } {
    const rows = this.store.exec(
      'SELECT seq, part, parts, data, hash, fill_seq FROM book_snapshots WHERE seq = (SELECT MAX(seq) FROM book_snapshots) ORDER BY part',
    )
    if (rows.length === 0) return { seq: 0, fillSeq: 0 }
    const { seq, parts, hash, fill_seq } = rows[0]
    if (rows.length !== parts) throw new JournalCorrupt(`snapshot ${seq} has ${rows.length} of ${parts} parts`)
    const chunks = rows.map((r) => new Uint8Array(r.data as ArrayBuffer | Uint8Array))
    const state = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
    let at = 0
    for (const chunk of chunks) {
      state.set(chunk, at)
      at += chunk.length
    }
    try {
      book.restore(state)
    } catch {
      throw new JournalCorrupt(`snapshot ${seq} is malformed`)
    }
    if (book.hash() !== hash) throw new JournalCorrupt(`snapshot ${seq} does not match its hash`)
    return { seq: seq as number, fillSeq: fill_seq as number }
  }

  private opened(): OrderBook {
    if (!this.book) this.open()
    return this.book!
  }
}

/** A logged command's first outcome, returned again. */
function replay(row: Record<string, SqlValue>): Ack {
  const events = JSON.parse(row.events as string) as BookEvent[]
  const seq = row.seq as number
  const ts = row.ts as number
  const fillsBefore = row.fills_before as number
  const fills = numberFills(events, seq, ts, fillsBefore)
  const acked = row.command ? ackEvents(JSON.parse(row.command as string) as LoggedCommand, events) : events
  return { seq, ts, fillsBefore, events: acked, fills, replayed: true }
}

/**
 * What the journal logs: the book's commands (an order's internal leg with its route), and
 * orders that do not reach the book: routed whole, refused a route, or submitted too late.
 */
type LoggedCommand =
  | (Command & { route?: RoutePlan })
  | ({ op: 'route'; route: RoutePlan } & NewOrder)
  | ({ op: 'refuse'; reason: 'no_venue' | 'not_routable' | 'market_closed' } & NewOrder)

/** What the command does in the book: nothing for an order routed whole or refused a route. */
function bookEvents(book: OrderBook, command: LoggedCommand): BookEvent[] {
  if (command.op === 'route') return []
  if (command.op === 'refuse') return [{ type: 'rejected', id: command.id, reason: command.reason }]
  return book.apply(command)
}

/**
 * The ack's events: the book's, where what an internal leg left (its IOC cancel) is routed
 * instead, as is an order routed whole.
 */
function ackEvents(command: LoggedCommand, events: BookEvent[]): AckEvent[] {
  const plan = command.op === 'new' || command.op === 'route' ? command.route : undefined
  if (!plan || (command.op !== 'new' && command.op !== 'route')) return events
  const routed = (qty: number): RoutedEvent => ({
    type: 'routed', id: command.id, qty, venue: plan.venue, clOrdId: String(command.id),
    price: plan.price, tif: plan.tif, nbbo: plan.nbbo,
  })
  if (command.op === 'route') return [routed(command.qty)]
  const left = events.findIndex((e) => e.type === 'canceled' && e.id === command.id && e.reason === 'ioc')
  if (left < 0) return events
  return events.map((e, i) => (i === left && e.type === 'canceled' ? routed(e.qty) : e))
}

/** The reports that end a child at its venue (with nothing left there). */
const CHILD_ENDS = new Set<ExecutionReport['ordStatus']>(['canceled', 'expired', 'rejected', 'done-for-day'])

function routedChild(row: Record<string, SqlValue>): RoutedChild {
  return {
    clOrdId: row.cl_ord_id as string,
    order: row.order_id as number,
    venue: row.venue as string,
    side: row.side as 'buy' | 'sell',
    qty: row.qty as number,
    price: row.price as number,
    tif: row.tif as NewOrder['tif'],
    ts: row.ts as number,
    sent: row.sent === 1,
    cancel: row.cancel as RoutedChild['cancel'],
    cancelSent: row.cancel_sent === 1,
    cancels: row.cancels as number,
  }
}

/** The outbox rows of a command's fills, numbered on from the symbol's `fillsBefore` fills. */
function numberFills(events: BookEvent[], seq: number, ts: number, fillsBefore: number): OutboxFill[] {
  const fills: OutboxFill[] = []
  for (const e of events) {
    if (e.type !== 'fill') continue
    const fillSeq = fillsBefore + fills.length + 1
    fills.push({ fillSeq, seq, taker: e.taker, maker: e.maker, side: e.side, price: e.price, qty: e.qty, ts })
  }
  return fills
}

const VENUE_FILL = 'venue_fill'
const ROUTE_END = 'route_end'

/** A venue fill logged before, returned again. */
function loggedVenueFillAck(row: Record<string, SqlValue>): Ack {
  const logged = JSON.parse(row.command as string) as VenueExecution
  const [seq, ts, fillsBefore] = [row.seq as number, row.ts as number, row.fills_before as number]
  return { seq, ts, fillsBefore, events: [], fills: [venueOutboxFill(logged, seq, ts, fillsBefore)], replayed: true }
}

function venueOutboxFill(e: VenueExecution, seq: number, ts: number, fillsBefore: number): OutboxFill {
  const { order, side, price, qty, venue, execId } = e
  return { fillSeq: fillsBefore + 1, seq, taker: order, maker: 0, side, price, qty, ts, venue, execId }
}

function insertOutboxFill(store: JournalStore, f: OutboxFill) {
  store.exec(
    'INSERT INTO book_outbox (fill_seq, seq, taker, maker, side, price, qty, ts, venue, exec_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    f.fillSeq, f.seq, f.taker, f.maker, f.side, f.price, f.qty, f.ts, f.venue ?? null, f.execId ?? null,
  )
}

/** An outbox made before venues (issue 7) gets their columns. */
function addVenueColumns(store: JournalStore) {
  const columns = store.exec('SELECT name FROM pragma_table_info(?)', 'book_outbox').map((r) => r.name)
  if (columns.includes('venue')) return
  store.exec('ALTER TABLE book_outbox ADD COLUMN venue TEXT')
  store.exec('ALTER TABLE book_outbox ADD COLUMN exec_id TEXT')
}
