// One symbol's order book: the single writer of its matching, hosting the WASM book behind a
// journal in the object's SQLite storage. Each RPC runs the book and stores the command, its
// events and its fills' outbox rows in one synchronous block, so they commit together before the
// reply leaves (the output gate), and nothing else interleaves (no await in between).
// Fills reach Postgres from the outbox by an alarm: it fires after the command that made them
// and again, with a backoff, until the outbox is empty (alarms fire at least once; the drain is
// idempotent).

import { DurableObject } from 'cloudflare:workers'
import bookWasm from '../../wasm/build/book.wasm'
import { openDb } from '../db/client.ts'
import { sqlStore } from './sql-store.ts'
import type { Db, DbHandle } from '../db/client.ts'
import {
  type Ack, BookJournal, type BookState, type OpenReport, type OutboxFill,
} from '../engine/journal.ts'
import type { Depth, NewOrder } from '../engine/types.ts'
import type { Env } from '../env.ts'
import { OrderDesk } from '../orders/desk.ts'
import type { DeskItem, DeskResult } from '../orders/desk.ts'
import { redisFrom } from '../db/redis.ts'
import type { Trade } from '../marketdata/feed.ts'
import { MarketDataHub, MAX_UNACKED_BYTES, UPGRADE_TIER, UPGRADE_USER } from '../marketdata/hub.ts'
import { QuoteWriter, quoteRecord } from '../marketdata/quotes.ts'
import type { QuoteRecord } from '../marketdata/quotes.ts'
import type { Tier } from '../marketdata/throttle.ts'
import { accepted, publishByUser } from '../accounts/stream.ts'
import type { AccountEvent } from '../accounts/stream.ts'
import { drainOutbox } from '../orders/drain.ts'
import { outcomeOf } from '../orders/rules.ts'
import type { AccountStream } from './account-stream.ts'
import { FillRejected } from '../orders/fills.ts'
import { NbboBook } from '../execution/nbbo.ts'
import { SymbolMetrics } from '../monitoring/symbol-metrics.ts'
import type { SymbolMetricsData } from '../monitoring/symbol-metrics.ts'
import type { FeedEvent, Nbbo } from '../execution/nbbo.ts'
import type { VenueMessage } from './venue-session.ts'
import { venueAddresses } from '../execution/feeds.ts'
import { planRoute } from '../execution/routing.ts'
import type { RoutingMode } from '../execution/routing.ts'
import type { AckEvent, RoutedChild } from '../engine/journal.ts'

const RETRY_MS = 2_000
/** connections this object keeps: its concurrent placements and its drain */
const POOL_SIZE = 16
/** A batch Postgres refuses needs a person; retrying often would only flood the logs. */
const REJECTED_RETRY_MS = 60_000
/** events that put an order event in the outbox */
const OUTBOXED = new Set(['canceled', 'expired', 'amended', 'rejected', 'routed'])
/** stubs kept at most (the users trading this symbol lately) */
const MAX_STREAM_STUBS = 10_000
/** a venue quote received longer ago than this no longer counts in the NBBO (feeds re-send) */
const NBBO_MAX_AGE_MS = 60_000
/** the object's symbol, kept in its storage (see the constructor) */
const SYMBOL_KEY = 'symbol'
/** how the symbol's orders match and route (src/execution/routing.ts), kept in its storage */
const ROUTING_KEY = 'routing'

export class SymbolBook extends DurableObject<Env> {
  private readonly journal: BookJournal
  private readonly desk: OrderDesk
  private readonly hub: MarketDataHub
  private readonly quotes: QuoteWriter
  /** the last trade since this instance started (the quote cache shows it) */
  private lastTrade: Trade | null = null
  private opened: OpenReport | undefined
  /** Postgres connections kept open across this object's requests (the order path, the drain) */
  private pool: DbHandle | undefined
  /** this object's symbol (its name, or as stored when an alarm started it by id alone) */
  private symbol: string | undefined
  /** a drain is scheduled: commands need not schedule another (a storage write each) */
  private drainScheduled = false
  private readonly metrics = new SymbolMetrics()
  /** the venues' latest quotes: the NBBO (issue 7's routing and price band build on it) */
  private readonly venues = new NbboBook(NBBO_MAX_AGE_MS)
  /** users' AccountStream stubs: calls through one stub arrive in order */
  private readonly streams = new Map<number, DurableObjectStub<AccountStream>>()
  private routing: RoutingMode = 'internal'
  /** the venues we have a FIX session with (VENUES): where an order can be routed */
  private readonly routable: ReadonlySet<string>

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.journal = new BookJournal(sqlStore(ctx.storage), bookWasm)
    this.routable = new Set(venueAddresses('VENUES', env.VENUES).map((v) => v.venue))
    this.desk = new OrderDesk(() => this.database(), this, () => this.marketQuote())
    const host = {
      ctx,
      symbol: () => this.symbol!,
      depth: (n: number) => this.journal.depth(n),
      nbbo: () => this.nbbo(),
    }
    this.hub = new MarketDataHub(host, Number(env.MD_MAX_UNACKED_BYTES) || MAX_UNACKED_BYTES)
    this.quotes = new QuoteWriter(redisFrom(env), env.CACHE_PREFIX, (error) =>
      console.error(JSON.stringify({ msg: 'quote cache write failed', error: String(error) })),
    )
    ctx.blockConcurrencyWhile(async () => {
      this.opened = this.journal.open()
      // An alarm can start this object by its id alone, without the name (workerd runs an alarm
      // left over from before a restart that way): keep the symbol for the drain.
      const stored = await ctx.storage.get<string>(SYMBOL_KEY)
      if (ctx.id.name && stored !== ctx.id.name) await ctx.storage.put(SYMBOL_KEY, ctx.id.name)
      this.symbol = ctx.id.name ?? stored
      this.routing = (await ctx.storage.get<RoutingMode>(ROUTING_KEY)) ?? 'internal'
      // (not state(): that hashes the whole book)
      const waiting = this.journal.pendingFills(1).length + this.journal.pendingOrderEvents(1).length
      if (waiting + this.journal.unsentChildren().length > 0) await ctx.storage.setAlarm(Date.now())
    })
  }

  /** Places an order of this symbol: reserve in Postgres, match, record (src/orders/desk.ts). */
  async place(userId: number, item: DeskItem) {
    this.mine([item])
    const started = Date.now()
    const result = await this.desk.place(userId, item)
    this.metrics.placed(Date.now() - started, result.ok ? undefined : result.problem.code)
    return result
  }

  /** A batch's orders of this symbol, each with its own result. */
  async placeMany(userId: number, items: DeskItem[]): Promise<DeskResult[]> {
    this.mine(items)
    const started = Date.now()
    const results = await this.desk.placeMany(userId, items)
    const each = (Date.now() - started) / Math.max(1, results.length)
    for (const r of results) this.metrics.placed(each, r.ok ? undefined : r.problem.code)
    return results
  }

  /**
   * place() and placeMany() of items the Worker marked market_closed. Names of their own: an
   * object of the version before them would ignore the mark and place, so during a deploy it
   * fails the call instead (503, and the client retries).
   */
  placeClosed(userId: number, item: DeskItem) {
    return this.place(userId, item)
  }

  placeManyClosed(userId: number, items: DeskItem[]) {
    return this.placeMany(userId, items)
  }

  /** This symbol's counters and latency histograms (src/monitoring/symbol-metrics.ts). */
  metricsData(): SymbolMetricsData {
    const [oldest] = this.journal.pendingFills(1)
    const outbox = { fills: this.journal.outboxSize(), oldestTs: oldest?.ts }
    return this.metrics.data(this.symbol!, this.hub.lag.data(), outbox, Date.now(), this.journal.venueBreaks())
  }

  /** An order of another symbol would match in the wrong book: a caller's bug, refused. */
  private mine(items: DeskItem[]) {
    const other = items.find((i) => i.body.symbol !== this.symbol)
    if (other) throw new Error(`the ${this.symbol} book got an order of ${other.body.symbol}`)
  }

  submit(order: NewOrder): Ack {
    const now = Date.now()
    const [national, routable] = [this.venues.nbbo(this.symbol!, now), this.venues.nbbo(this.symbol!, now, this.routable)]
    const route = planRoute(order, this.routing, national, routable)
    const ack = this.run('new', () => this.journal.submit(order, route))
    if (ack.events.some((e) => e.type === 'routed')) this.ctx.waitUntil(this.sendChildren())
    if (!ack.replayed) {
      // the user's stream hears of it before any fill's update (one stub per user: in order)
      const { status, filledQty } = outcomeOf(order.id, order.qty, ack)
      if (status !== 'rejected') {
        void this.publish([accepted(this.symbol!, ack.seq, order, status, filledQty, ack.ts)])
      }
    }
    return ack
  }

  /** Several orders in turn, in one call: one output-gate commit for all of them. */
  submitBatch(orders: NewOrder[]): Ack[] {
    return orders.map((order) => this.submit(order))
  }

  /** Orders submitted late, with the market closed: each its first outcome, or market_closed. */
  refuseUnseen(orders: NewOrder[]): Ack[] {
    return orders.map((order) => this.run('new', () => this.journal.refuseUnseen(order)))
  }

  /** Cancels an order; one at a venue is asked to cancel there, and ends when the venue says. */
  cancel(id: number): Ack {
    const child = this.journal.requestCancel(id, 'user')
    if (!child) return this.run('cancel', () => this.journal.cancel(id))
    this.ctx.waitUntil(this.sendChildren())
    return this.unlogged({ type: 'cancel_pending', id, venue: child.venue })
  }

  /** Reduces an order's open quantity; not one at a venue (it would need a cancel/replace there). */
  amend(id: number, qty: number): Ack {
    if (this.journal.openChild(id)) return this.unlogged({ type: 'rejected', id, reason: 'not_routable' })
    return this.run('amend', () => this.journal.amend(id, qty))
  }

  /** An answer about an order at a venue: nothing the book's log records. */
  private unlogged(event: AckEvent): Ack {
    const { seq, fillSeq } = this.journal.position()
    return { seq, ts: Date.now(), fillsBefore: fillSeq, events: [event], fills: [], replayed: false }
  }

  /** How this symbol's orders match: internally only, or internal first and routed (issue 7). */
  async setRouting(mode: RoutingMode): Promise<RoutingMode> {
    await this.ctx.storage.put(ROUTING_KEY, mode)
    this.routing = mode
    return mode
  }

  routingMode(): RoutingMode {
    return this.routing
  }

  /**
   * A venue's reports on this symbol's children, in the order the venue sent them
   * (src/do/venue-session.ts forwards them at least once; each changes the book's log once). One
   * that does not fit its order is kept as a break and alerted; a refused cancel may be asked again.
   */
  venueReports(venue: string, messages: VenueMessage[]): void {
    for (const m of messages) {
      if (m.type === 'order-cancel-reject') {
        this.journal.cancelRejected(m.origClOrdId)
        console.warn(JSON.stringify({ msg: 'venue refused a cancel', venue, clOrdId: m.origClOrdId, reason: m.reason ?? null, text: m.text ?? null }))
        continue
      }
      const { acks, broken } = this.journal.venueReport(venue, m)
      if (broken) {
        const { clOrdId, execId, execType } = m
        console.error(JSON.stringify({ msg: 'venue report kept as a break', symbol: this.symbol, venue, clOrdId, execId, execType, problem: broken }))
      }
      for (const ack of acks) {
        if (ack.replayed) continue
        this.metrics.command('venue', ack)
        this.scheduleDrain()
      }
    }
  }

  close(): Ack {
    return this.run('close', () => this.journal.close())
  }

  /**
   * Closes the trading day `date` (src/settlement/eod.ts): the book expires its DAY orders, once
   * per date whoever asks again (the record of it is written in the same turn as the close, so
   * they commit together). Returns how many orders expired; 0 when the date was closed already.
   */
  closeDay(date: string): { seq: number; expired: number; closedBefore: boolean } {
    const sql = this.ctx.storage.sql
    sql.exec(
      'CREATE TABLE IF NOT EXISTS book_days_closed (date TEXT PRIMARY KEY, seq INTEGER NOT NULL)',
    )
    const [done] = sql
      .exec<{ seq: number }>('SELECT seq FROM book_days_closed WHERE date = ?', date)
      .toArray()
    if (done) return { seq: done.seq, expired: 0, closedBefore: true }
    const ack = this.close()
    sql.exec('INSERT INTO book_days_closed (date, seq) VALUES (?, ?)', date, ack.seq)
    // DAY orders resting at venues end with the day too: their cancels go out, the venue ends them
    const day = this.journal.openChildren().filter((c) => c.tif === 'DAY')
    for (const child of day) this.journal.requestCancel(child.order, 'close')
    if (day.length > 0) this.ctx.waitUntil(this.sendChildren())
    const expired = ack.events.filter((e) => e.type === 'expired').length
    return { seq: ack.seq, expired, closedBefore: false }
  }

  depth(maxLevels?: number): Depth & { seq: number } {
    return this.journal.depth(maxLevels)
  }

  /** Venues' quotes from their feeds (src/do/market-feed.ts): the NBBO after them. */
  venueEvents(events: FeedEvent[]): Nbbo {
    const now = Date.now()
    for (const e of events) if (e.type === 'quote') this.venues.apply(e, now)
    const nbbo = this.venues.nbbo(this.symbol!, now)
    this.hub.publishNbbo(nbbo)
    return nbbo
  }

  /** A venue's feed went away: its quotes leave the NBBO. */
  venueDown(venue: string): void {
    this.venues.drop(venue)
    this.hub.publishNbbo(this.nbbo())
  }

  /** The venues' prices for market orders' collars: none while the NBBO is crossed. */
  private marketQuote() {
    const { bid, ask, crossed } = this.nbbo()
    return crossed ? undefined : { bidCents: bid?.price ?? null, askCents: ask?.price ?? null }
  }

  /** The national best bid and offer over the venues' fresh quotes. */
  nbbo(): Nbbo {
    return this.venues.nbbo(this.symbol!, Date.now())
  }

  /** The quote and last trade, as the quote cache has them (its fallback). */
  quote(): QuoteRecord {
    return quoteRecord(this.symbol!, this.journal.depth(1), this.lastTrade, Date.now())
  }

  /** Fills not yet applied to Postgres, oldest first. */
  pendingFills(limit?: number): OutboxFill[] {
    return this.journal.pendingFills(limit)
  }

  /** The live book's hash and counters (read-only): checked against a replay of its log. */
  state(): BookState {
    return this.journal.state()
  }

  /** How the book was restored when this instance started (replay time, commands replayed). */
  restoreReport(): OpenReport | undefined {
    return this.opened
  }

  /**
   * A market-data WebSocket upgrade, authenticated by the Worker (src/marketdata/routes.ts), which
   * passes the user and tier in headers of its own: the object is reachable only through it.
   */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    // chaos harness only (src/index.ts): evict this object mid-stream; its storage stays
    if (typeof __CHAOS_HOOKS__ !== 'undefined' && __CHAOS_HOOKS__) {
      if (url.pathname === '/__chaos/evict') this.ctx.abort('chaos: evicted')
    }
    const since = url.searchParams.get('since')
    return this.hub.accept({
      userId: Number(request.headers.get(UPGRADE_USER)),
      tier: request.headers.get(UPGRADE_TIER) as Tier,
      since: since === null ? undefined : Number(since),
      protocol: request.headers.get('sec-websocket-protocol') ?? undefined,
      path: url.pathname,
    })
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer) {
    this.hub.message(ws, message)
  }

  override webSocketClose(ws: WebSocket, code: number) {
    this.hub.close(ws)
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing')
    } catch {
      // already closed
    }
  }

  override webSocketError(ws: WebSocket) {
    this.hub.close(ws)
  }

  /** Drains the outbox into Postgres; on failure, tries again later (the outbox keeps it all). */
  override async alarm(): Promise<void> {
    const symbol = this.symbol
    if (!symbol) throw new Error('a SymbolBook must be reached through idFromName(symbol)')
    // what commands add from here on is either drained now or schedules the next alarm
    this.drainScheduled = false
    try {
      await drainOutbox(this.journal, this.database(), symbol, { publish: (e) => this.publish(e) })
    } catch (error) {
      const rejected = error instanceof FillRejected
      console.error(JSON.stringify({ msg: 'outbox drain failed', symbol, rejected, error: String(error) }))
      this.drainScheduled = true
      await this.ctx.storage.setAlarm(Date.now() + (rejected ? REJECTED_RETRY_MS : RETRY_MS))
    }
    // after the drain: a venue session that does not answer holds up no settlement
    await this.sendChildren()
  }

  /**
   * The command's trades and the book's new state to the subscribers and the quote cache. The
   * command is committed already: nothing here may fail it.
   */
  private publishMarketData(ack: Ack) {
    try {
      const trades = ack.fills.map(({ price, qty, side, ts }) => ({ price, qty, side, ts }))
      this.hub.publish(trades, ack.ts)
      this.lastTrade = trades.at(-1) ?? this.lastTrade
      const top = () => this.journal.depth(1)
      this.quotes.update(() => quoteRecord(this.symbol!, top(), this.lastTrade, ack.ts))
    } catch (error) {
      console.error(JSON.stringify({ msg: 'market data publish failed', error: String(error) }))
    }
  }

  /** Publishes users' stream events; the stream is told, never waited for (nor its failures). */
  private async publish(events: AccountEvent[]) {
    const stream = (userId: number) => {
      let stub = this.streams.get(userId)
      if (!stub) {
        // forget the least recently added (its next event takes a new stub)
        const oldest = this.streams.keys().next().value
        if (this.streams.size >= MAX_STREAM_STUBS && oldest !== undefined) this.streams.delete(oldest)
        stub = this.env.ACCOUNT_STREAM.get(this.env.ACCOUNT_STREAM.idFromName(String(userId)))
        this.streams.set(userId, stub)
      }
      return stub
    }
    await publishByUser(events, (userId, list) => stream(userId).publish(list)).catch((error) =>
      console.error(JSON.stringify({ msg: 'account stream publish failed', error: String(error) })),
    )
  }

  private database(): Db {
    this.pool ??= openDb(this.env, POOL_SIZE)
    return this.pool.db
  }

  /**
   * Runs one command through the journal, timing it, and schedules the drain when it put fills or
   * order events in the outbox (the alarm runs after this call returns).
   */
  private run(kind: string, command: () => Ack): Ack {
    const started = performance.now()
    const ack = command()
    ack.engineMs = performance.now() - started
    this.metrics.command(kind, ack)
    if (!ack.replayed) this.publishMarketData(ack)
    // (a rejected cancel or amend puts nothing there: an alarm for nothing is harmless)
    if (ack.fills.length > 0 || ack.events.some((e) => OUTBOXED.has(e.type))) this.scheduleDrain()
    return ack
  }

  private scheduleDrain() {
    if (this.drainScheduled) return
    this.drainScheduled = true
    this.ctx.storage.setAlarm(Date.now()).catch(() => (this.drainScheduled = false))
  }

  /**
   * Sends children's orders, and cancels, to their venues' sessions (which send each ClOrdID
   * once); what fails to reach a session, the alarm sends again.
   */
  private async sendChildren(): Promise<void> {
    for (const child of this.journal.unsentChildren()) {
      const session = this.env.VENUE_SESSION.get(this.env.VENUE_SESSION.idFromName(child.venue))
      try {
        if (!child.sent) {
          await answered(session.sendOnce(newOrderSingle(this.symbol!, child)))
          this.journal.markSent(child.clOrdId, 'order')
        }
        if (child.cancel !== 'none' && !child.cancelSent) {
          await answered(session.sendOnce(cancelRequest(this.symbol!, child)))
          this.journal.markSent(child.clOrdId, 'cancel')
        }
      } catch (error) {
        console.error(JSON.stringify({ msg: 'routing to venue failed', venue: child.venue, clOrdId: child.clOrdId, error: String(error) }))
        await this.ctx.storage.setAlarm(Date.now() + RETRY_MS)
      }
    }
  }
}

const TIF = { DAY: 'day', GTC: 'gtc', IOC: 'ioc', FOK: 'fok' } as const

function newOrderSingle(symbol: string, child: RoutedChild) {
  const { clOrdId, side, qty, price, tif, ts } = child
  return {
    type: 'new-order-single', clOrdId, symbol, side, orderQty: qty, ordType: 'limit', price,
    timeInForce: TIF[tif], transactTime: ts,
  } as const
}

/** A cancel of a child: its own ClOrdID (one per attempt), the child's as OrigClOrdID. */
function cancelRequest(symbol: string, child: RoutedChild) {
  const { clOrdId, side, qty, cancels } = child
  return {
    type: 'order-cancel-request', clOrdId: `${clOrdId}-cancel-${cancels + 1}`, origClOrdId: clOrdId,
    symbol, side, orderQty: qty, transactTime: Date.now(),
  } as const
}

/** how long a venue session may take to take a message (it may be stuck writing to the venue) */
const SEND_TIMEOUT_MS = 5_000

/** The session's answer, or an error after SEND_TIMEOUT_MS (sending again is harmless: once per ClOrdID). */
function answered<T>(sent: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`the venue session took more than ${SEND_TIMEOUT_MS} ms`)), SEND_TIMEOUT_MS)
  })
  return Promise.race([sent, late]).finally(() => clearTimeout(timer))
}
