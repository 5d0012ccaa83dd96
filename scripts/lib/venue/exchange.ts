// The venue's matching: a book per symbol holding its own quotes and the clients' orders, the
// order-flow messages acted on, ExecutionReports and OrderCancelRejects out, trades and top-of-
// book changes published. No I/O and no timers of its own: the caller passes the clock, a way
// to run something later, and where reports and market data go. Prices are integer cents.
import {
  fromFix,
  getField,
  type ExecType,
  type ExecutionReport,
  type FixMessage,
  type NewOrderSingle,
  type OrdStatus,
  type OrderCancelReject,
  type OrderCancelReplaceRequest,
  type OrderCancelRequest,
  type Side,
  type TimeInForce,
} from '../../../src/execution/fix/index.ts'
import type { VenueQuote, VenueTrade } from '../../../src/execution/nbbo.ts'
import { Book, type Level, type Resting } from './book.ts'
import type { Faults } from './faults.ts'
import { Prng } from './prng.ts'

export interface ExchangeOptions {
  /** The venue's name in its market data. */
  readonly venue: string
  /** Symbol → reference price (cents) its quotes start around. */
  readonly symbols: ReadonlyMap<string, number>
  readonly seed: number
  /** Price levels the venue quotes on each side, one cent apart. */
  readonly levels: number
  /** How long after a trade the venue quotes again around the last trade price. */
  readonly requoteMs: number
  readonly maxOrderQty: number
  readonly faults: Faults
  readonly clock: () => number
  readonly later: (ms: number, run: () => void) => void
  /** A message for the initiator whose SenderCompID is `session`. */
  readonly report: (session: string, message: ExecutionReport | OrderCancelReject) => void
  readonly publish: (event: VenueQuote | VenueTrade) => void
  readonly log: (line: string) => void
}

/** A client's order, under every ClOrdID it has had (its own, then its cancels' and replaces'). */
interface ClientOrder {
  readonly orderId: string
  readonly session: string
  readonly symbol: string
  readonly side: Side
  clOrdId: string
  orderQty: number
  /** Cents; null for a market order. */
  limit: number | null
  timeInForce: TimeInForce
  cumQty: number
  /** Σ LastQty × LastPx in cents: what AvgPx is computed from. */
  notional: number
  status: OrdStatus
  /** Its place in the book while it rests there. */
  resting: Resting<ClientOrder | null> | null
}

type Request = NewOrderSingle | OrderCancelRequest | OrderCancelReplaceRequest

const DONE: ReadonlySet<OrdStatus> = new Set(['filled', 'canceled', 'rejected'])

export class Exchange {
  /** Resting orders owned by a client order, or null for the venue's own quotes. */
  private readonly books = new Map<string, Book<ClientOrder | null>>()
  private readonly lastTrade = new Map<string, number>()
  private readonly requoting = new Set<string>()
  private readonly published = new Map<string, string>()
  private readonly orders = new Map<string, Map<string, ClientOrder>>()
  private readonly seen = new Map<string, Set<string>>()
  /** Orders accepted while filling is paused, in arrival order. */
  private waiting: ClientOrder[] = []
  private paused = false
  private readonly prng: Prng
  /** IDs carry the start time so a restarted venue never repeats an ExecID a client has booked. */
  private readonly idPrefix: string
  private ids = 0

  constructor(private readonly options: ExchangeOptions) {
    this.prng = new Prng(options.seed)
    this.idPrefix = options.clock().toString(36).toUpperCase()
    for (const [symbol, reference] of options.symbols) {
      this.books.set(symbol, new Book())
      this.quoteAround(symbol, reference)
    }
  }

  /** An application message the session delivered, in sequence order. */
  handle(session: string, fix: FixMessage): void {
    const message = fromFix(fix)
    if (message.type === 'execution-report' || message.type === 'order-cancel-reject') {
      return this.options.log(`${session}: ignored ${message.type}, which only a venue sends`)
    }
    const seen = this.seenBy(session)
    if (seen.has(message.clOrdId)) {
      // A possible duplicate of what we acted on is not acted on again; a new message reusing
      // a ClOrdID is refused.
      const possDup = getField(fix, 43) === 'Y' || getField(fix, 97) === 'Y'
      if (possDup) return this.options.log(`${session}: ${message.clOrdId} again (PossDup), ignored`)
      return this.refuseDuplicate(session, message)
    }
    seen.add(message.clOrdId)
    if (message.type === 'new-order-single') this.newOrder(session, message)
    else if (message.type === 'order-cancel-request') this.cancel(session, message)
    else this.replace(session, message)
  }

  pause(): void {
    this.paused = true
  }

  /** Orders that waited while paused trade now, in arrival order. */
  resume(): void {
    this.paused = false
    for (const order of this.waiting.splice(0)) this.execute(order)
  }

  /** The symbol's top of book as its feed shows it. */
  quote(symbol: string): VenueQuote {
    const book = this.bookOf(symbol)
    const [bid, ask] = [book.best('buy'), book.best('sell')]
    return {
      type: 'quote',
      venue: this.options.venue,
      symbol,
      bid: bid?.price ?? null,
      bidSize: bid?.size ?? 0,
      ask: ask?.price ?? null,
      askSize: ask?.size ?? 0,
      ts: this.options.clock(),
    }
  }

  depth(symbol: string): { bids: Level[]; asks: Level[] } {
    const book = this.bookOf(symbol)
    return { bids: book.depth('buy'), asks: book.depth('sell') }
  }

  get symbols(): string[] {
    return [...this.books.keys()]
  }

  private newOrder(session: string, request: NewOrderSingle) {
    const order: ClientOrder = {
      orderId: this.nextId('O'),
      session,
      symbol: request.symbol,
      side: request.side,
      clOrdId: request.clOrdId,
      orderQty: request.orderQty,
      limit: request.ordType === 'limit' ? request.price : null,
      timeInForce: request.timeInForce,
      cumQty: 0,
      notional: 0,
      status: 'new',
      resting: null,
    }
    this.ordersOf(session).set(order.clOrdId, order)
    const problem =
      this.problemWith(request) ??
      (this.options.faults.take('reject-orders') ? 'rejected by the venue (fault control)' : undefined)
    if (problem !== undefined) {
      order.status = 'rejected'
      return this.execution(order, 'rejected', { text: problem })
    }
    this.execution(order, 'new')
    this.enter(order)
  }

  private cancel(session: string, request: OrderCancelRequest) {
    const order = this.ordersOf(session).get(request.origClOrdId)
    const refusal = this.refusal(order, request)
    if (refusal) return this.cancelReject(session, request, 'cancel', order, ...refusal)
    const live = order as ClientOrder // refusal() is 'unknown-order' when there is none
    this.takeOut(live)
    live.status = 'canceled'
    this.rename(live, request.clOrdId)
    this.execution(live, 'canceled', { origClOrdId: request.origClOrdId })
    this.publishQuote(live.symbol)
  }

  /** Takes the order out of the book, gives it the new terms, and enters it again (time priority lost). */
  private replace(session: string, request: OrderCancelReplaceRequest) {
    const order = this.ordersOf(session).get(request.origClOrdId)
    const refusal =
      this.refusal(order, request) ??
      termsRefusal(this.problemWith(request)) ??
      termsRefusal(request.ordType === 'market' ? 'an order cannot be replaced by a market order' : undefined) ??
      termsRefusal(
        order && request.orderQty <= order.cumQty
          ? `OrderQty must be above the ${order.cumQty} shares already filled`
          : undefined,
      )
    if (refusal) return this.cancelReject(session, request, 'replace', order, ...refusal)
    const live = order as ClientOrder
    this.takeOut(live)
    this.rename(live, request.clOrdId)
    live.orderQty = request.orderQty
    live.limit = request.ordType === 'limit' ? request.price : null
    live.timeInForce = request.timeInForce
    live.status = live.cumQty > 0 ? 'partially-filled' : 'new'
    this.execution(live, 'replaced', { origClOrdId: request.origClOrdId })
    this.enter(live)
  }

  /** Why a cancel or replace of `order` cannot be done, if it cannot. */
  private refusal(
    order: ClientOrder | undefined,
    request: OrderCancelRequest | OrderCancelReplaceRequest,
  ): [OrderCancelReject['reason'], string] | undefined {
    if (!order) return ['unknown-order', `no order ${request.origClOrdId}`]
    if (order.symbol !== request.symbol || order.side !== request.side) {
      return ['other', `order ${request.origClOrdId} is ${order.side} ${order.symbol}`]
    }
    if (DONE.has(order.status)) return ['too-late-to-cancel', `order ${request.origClOrdId} is ${order.status}`]
    return undefined
  }

  private problemWith(terms: NewOrderSingle | OrderCancelReplaceRequest): string | undefined {
    if (!this.books.has(terms.symbol)) return `unknown symbol ${terms.symbol}`
    if (terms.orderQty > this.options.maxOrderQty) return `OrderQty above ${this.options.maxOrderQty}`
    if (terms.ordType === 'limit' && terms.price === 0) return 'a limit price must be above 0'
    if (terms.ordType === 'market' && terms.timeInForce === 'gtc') return 'a market order cannot be GTC'
    return undefined
  }

  /** The order trades now, or waits while filling is paused. */
  private enter(order: ClientOrder) {
    if (!this.paused) return this.execute(order)
    this.waiting.push(order)
    this.publishQuote(order.symbol)
  }

  /**
   * Trades what the book allows at the resting prices; the rest of a day or GTC limit order
   * rests, the rest of anything else (IOC, FOK, market) is canceled.
   */
  private execute(order: ClientOrder) {
    const book = this.bookOf(order.symbol)
    const wanted = order.orderQty - order.cumQty
    if (order.timeInForce === 'fok' && book.available(order.side, order.limit) < wanted) {
      return this.cancelRemainder(order, 'fill or kill: not enough at the price')
    }
    const matches = book.match(order.side, wanted, order.limit)
    for (const { resting, qty, price } of matches) {
      this.fill(order, qty, price)
      if (resting.owner) {
        this.fill(resting.owner, qty, price)
        if (resting.leaves === 0) resting.owner.resting = null
      }
      this.lastTrade.set(order.symbol, price)
      const trade: VenueTrade = { type: 'trade', venue: this.options.venue, symbol: order.symbol, price, qty, ts: this.options.clock() }
      this.options.publish(trade)
    }
    const leaves = order.orderQty - order.cumQty
    if (leaves > 0) {
      const rests = order.limit !== null && (order.timeInForce === 'day' || order.timeInForce === 'gtc')
      if (!rests) this.cancelRemainder(order, `${order.limit === null ? 'market' : order.timeInForce.toUpperCase()} remainder canceled`)
      else {
        order.resting = { side: order.side, price: order.limit as number, leaves, owner: order }
        book.add(order.resting)
      }
    }
    this.publishQuote(order.symbol)
    if (matches.length > 0) this.requoteLater(order.symbol)
  }

  private fill(order: ClientOrder, qty: number, price: number) {
    order.cumQty += qty
    order.notional += qty * price
    order.status = order.cumQty === order.orderQty ? 'filled' : 'partially-filled'
    this.execution(order, 'trade', { lastQty: qty, lastPx: price })
  }

  private cancelRemainder(order: ClientOrder, text: string) {
    order.status = 'canceled'
    this.execution(order, 'canceled', { text })
  }

  private takeOut(order: ClientOrder) {
    if (order.resting) this.bookOf(order.symbol).remove(order.resting)
    order.resting = null
    this.waiting = this.waiting.filter((waiting) => waiting !== order)
  }

  private rename(order: ClientOrder, clOrdId: string) {
    order.clOrdId = clOrdId
    this.ordersOf(order.session).set(clOrdId, order)
  }

  /** After a trade, the venue quotes again around the last trade price, once per burst. */
  private requoteLater(symbol: string) {
    if (this.requoting.has(symbol)) return
    this.requoting.add(symbol)
    this.options.later(this.options.requoteMs, () => {
      this.requoting.delete(symbol)
      this.quoteAround(symbol, this.lastTrade.get(symbol) as number)
      this.publishQuote(symbol)
    })
  }

  /**
   * Replaces the venue's own quotes: `levels` levels each side one cent apart, 100–500 shares
   * each, a spread of 1 or 2 cents around `reference`, and never through a client order
   * resting on the other side (the book is never crossed).
   */
  private quoteAround(symbol: string, reference: number) {
    const book = this.bookOf(symbol)
    book.removeWhere((order) => order.owner === null)
    const spread = 1 + this.prng.int(2)
    let bid = reference - Math.floor(spread / 2)
    let ask = bid + spread
    const [clientBid, clientAsk] = [book.best('buy'), book.best('sell')]
    if (clientAsk && bid >= clientAsk.price) bid = clientAsk.price - 1
    if (clientBid && ask <= clientBid.price) ask = clientBid.price + 1
    for (let level = 0; level < this.options.levels; level++) {
      const [bidSize, askSize] = [100 * (1 + this.prng.int(5)), 100 * (1 + this.prng.int(5))]
      if (bid - level > 0) book.add({ side: 'buy', price: bid - level, leaves: bidSize, owner: null })
      book.add({ side: 'sell', price: ask + level, leaves: askSize, owner: null })
    }
  }

  /** Publishes the symbol's quote when its top of book is not the one last published. */
  private publishQuote(symbol: string) {
    const quote = this.quote(symbol)
    const top = `${quote.bid}|${quote.bidSize}|${quote.ask}|${quote.askSize}`
    if (this.published.get(symbol) === top) return
    this.published.set(symbol, top)
    this.options.publish(quote)
  }

  private execution(
    order: ClientOrder,
    execType: ExecType,
    extra: { lastQty?: number; lastPx?: number; text?: string; origClOrdId?: string } = {},
  ) {
    this.options.report(order.session, {
      type: 'execution-report',
      orderId: order.orderId,
      clOrdId: order.clOrdId,
      origClOrdId: extra.origClOrdId,
      execId: this.nextId('E'),
      execType,
      ordStatus: order.status,
      symbol: order.symbol,
      side: order.side,
      orderQty: order.orderQty,
      lastQty: extra.lastQty,
      lastPx: extra.lastPx,
      leavesQty: DONE.has(order.status) ? 0 : order.orderQty - order.cumQty,
      cumQty: order.cumQty,
      avgPx: averagePrice(order.notional, order.cumQty),
      text: extra.text,
    })
  }

  private refuseDuplicate(session: string, message: Request) {
    const text = `duplicate ClOrdID ${message.clOrdId}`
    if (message.type !== 'new-order-single') {
      const responseTo = message.type === 'order-cancel-request' ? 'cancel' : 'replace'
      return this.cancelReject(session, message, responseTo, undefined, 'duplicate-clordid', text)
    }
    this.options.report(session, {
      type: 'execution-report',
      orderId: 'NONE',
      clOrdId: message.clOrdId,
      execId: this.nextId('E'),
      execType: 'rejected',
      ordStatus: 'rejected',
      symbol: message.symbol,
      side: message.side,
      orderQty: message.orderQty,
      leavesQty: 0,
      cumQty: 0,
      avgPx: '0',
      text,
    })
  }

  private cancelReject(
    session: string,
    request: OrderCancelRequest | OrderCancelReplaceRequest,
    responseTo: OrderCancelReject['responseTo'],
    order: ClientOrder | undefined,
    reason: OrderCancelReject['reason'],
    text: string,
  ) {
    this.options.report(session, {
      type: 'order-cancel-reject',
      orderId: order?.orderId ?? 'NONE',
      clOrdId: request.clOrdId,
      origClOrdId: request.origClOrdId,
      ordStatus: order?.status ?? 'rejected',
      responseTo,
      reason,
      text,
    })
  }

  private bookOf(symbol: string): Book<ClientOrder | null> {
    const book = this.books.get(symbol)
    if (!book) throw new Error(`unknown symbol ${symbol}`)
    return book
  }

  private ordersOf(session: string): Map<string, ClientOrder> {
    const orders = this.orders.get(session) ?? new Map<string, ClientOrder>()
    this.orders.set(session, orders)
    return orders
  }

  private seenBy(session: string): Set<string> {
    const seen = this.seen.get(session) ?? new Set<string>()
    this.seen.set(session, seen)
    return seen
  }

  private nextId(kind: 'O' | 'E'): string {
    return `${this.idPrefix}-${kind}${++this.ids}`
  }
}

function termsRefusal(problem: string | undefined): ['other', string] | undefined {
  return problem === undefined ? undefined : ['other', problem]
}

/**
 * AvgPx (dollars) from integer cents: exact to 4 decimals, rounded half up, written with at
 * least 2 (`150.0050` → `150.005`, `150.00`). Nothing is booked from it.
 */
export function averagePrice(notional: number, cumQty: number): string {
  if (cumQty === 0) return '0'
  const tenThousandths = (BigInt(notional) * 200n + BigInt(cumQty)) / (2n * BigInt(cumQty))
  const fraction = String(tenThousandths % 10000n).padStart(4, '0').replace(/0+$/, '').padEnd(2, '0')
  return `${tenThousandths / 10000n}.${fraction}`
}
