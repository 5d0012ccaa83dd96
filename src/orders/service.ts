// The order gateway: placing (validate → reserve in one Postgres transaction → the symbol's
// Durable Object → the ack's outcome back into Postgres), reading, canceling and reducing orders.
// Fills are never applied here: the symbol's outbox drain does that (src/orders/fills.ts); the
// gateway's own status changes are conditional so that they commute with it (see fills.ts).
import { and, desc, eq, getTableColumns, gte, inArray, lt, sql } from 'drizzle-orm'
import { positionsValue } from '../accounts/service.ts'
import type { Db, DbOrTx } from '../db/client.ts'
import type { Env } from '../env.ts'
import { fills, orders, positions, symbols, users } from '../db/schema.ts'
import type { OrderRequest } from '../db/schema.ts'
import { orderEvents } from '../engine/journal.ts'
import type { Ack, OutboxFill } from '../engine/journal.ts'
import type { Command, NewOrder } from '../engine/types.ts'
import { AppError, NotFoundError } from '../errors.ts'
import { formatCents } from '../lib/money.ts'
import { withRetries } from './fills.ts'
import { applyOrderEvent, lockOrders } from './order-events.ts'
import { writeReservation } from './reserve.ts'
import type { AccountSnapshot } from './reserve.ts'
import {
  OrderRejected, engineOrder, isActive, orderRequest, outcomeOf, planOrder, requestDifferences, requestOf,
} from './rules.ts'
import type { MarketQuote } from './rules.ts'
import type { AckOutcome, OrderPlan } from './rules.ts'
import { dayOrderClose, nyDate, nyDayStart, nyInstant, tradingDaysEndingAt } from '../settlement/calendar.ts'
import {
  PDT_MAX_DAY_TRADES, PDT_MIN_EQUITY_CENTS, PDT_WINDOW_DAYS, dayTradeOutlook,
} from './day-trades.ts'
import type { PdtFill } from './day-trades.ts'
import type { OrderBody } from './schema.ts'

export type OrderRow = typeof orders.$inferSelect

/** The symbol's Durable Object as the gateway uses it (RPC). */
export interface BookClient {
  submit(order: NewOrder): Promise<Ack>
  /** the orders in turn, in one call */
  submitBatch(orders: NewOrder[]): Promise<Ack[]>
  /** orders submitted late, with the market closed: not placed if the book never got them */
  refuseUnseen(orders: NewOrder[]): Promise<Ack[]>
  cancel(id: number): Promise<Ack>
  amend(id: number, qty: number): Promise<Ack>
  pendingFills(limit?: number): Promise<OutboxFill[]>
}
export type Books = (symbol: string) => BookClient
/** What placing needs of a book (its outbox too: fills not yet in Postgres count for PDT). */
export type Submitter = Pick<BookClient, 'submit' | 'submitBatch' | 'refuseUnseen' | 'pendingFills'>
export type Submitters = (symbol: string) => Submitter

/** Each symbol's Durable Object (SymbolBook), reached by name. */
export const bookClients =
  (ns: Env['SYMBOL_BOOK']): Books =>
  (symbol) =>
    ns.get(ns.idFromName(symbol)) as unknown as BookClient

/** Times a stage of the order path (the route reports the stages as Server-Timing). */
export type Span = <T>(stage: 'risk' | 'book' | 'record', fn: () => Promise<T>) => Promise<T>
const untimed: Span = (_, fn) => fn()

/**
 * A repeated key whose order is still pending, was never acked nor failed (updated_at =
 * created_at: both now() of the inserting transaction) and is younger than this is taken to be
 * in flight (409); otherwise it is submitted again (the book is idempotent on the id).
 */
export const IN_FLIGHT_MS = 5_000

export interface Placed {
  order: OrderRow
  ack: Ack
  outcome: AckOutcome
  replayed: boolean
}

/**
 * the symbol's last trade in Postgres (the fills key's index serves the newest seq); spelled out,
 * as drizzle leaves a single-table select's columns unqualified
 */
const lastTrade = sql<number | null>`(select f.price_cents from fills f
  where f.symbol = symbols.symbol order by f.seq desc limit 1)`.mapWith(Number)

/**
 * An order to place: the request, its Idempotency-Key, and market_closed when the Worker found
 * the market closed: a new order is refused with it, a repeat of one placed already gets its first
 * answer (whatever changed since), and an order the book never got is not placed late.
 */
export interface PlaceRequest {
  body: OrderBody
  idempotencyKey?: string
  closed?: AppError
}

export async function placeOrder(
  db: Db,
  books: Submitters,
  userId: number,
  request: PlaceRequest,
  span: Span = untimed,
  market?: MarketQuote,
): Promise<Placed> {
  const book = books(request.body.symbol)
  const reserved = await span('risk', async () =>
    reserveOrder(db, userId, request, market, await unappliedFills(book)),
  )
  const { order } = reserved
  const open = !request.closed
  const ack = await span('book', async () => {
    const [first] = await submitted(db, order, () => submitInTime(books(order.symbol), [order], open))
    return first
  })
  return span('record', () => recordAck(db, reserved, ack))
}

/** One order of a batch: placed, or refused with its own error. */
export type BatchResult = Placed | AppError

/**
 * Places one symbol's orders: each is reserved on its own (one refusal does not refuse the
 * others), then all go to the book in one call, in the given order.
 */
export async function placeBatch(
  db: Db,
  book: Submitter,
  userId: number,
  items: PlaceRequest[],
  market?: MarketQuote,
): Promise<BatchResult[]> {
  const results: BatchResult[] = []
  const held: { index: number; reserved: Reserved }[] = []
  const unapplied = await unappliedFills(book)
  for (const [index, item] of items.entries()) {
    const reserved = await refusal(() => reserveOrder(db, userId, item, market, unapplied))
    if (reserved instanceof AppError) results[index] = reserved
    else held.push({ index, reserved })
  }
  if (held.length === 0) return results
  const orders = held.map((h) => h.reserved.order)
  // (one symbol's: with the market closed only repeats were held)
  const open = !items.some((item) => item.closed)
  const acks = await refusal(() => submitted(db, orders, () => submitInTime(book, orders, open)))
  for (const [i, { index, reserved }] of held.entries()) {
    results[index] = acks instanceof AppError ? acks : await recordAck(db, reserved, acks[i])
  }
  return results
}

/** A pending order untouched this long was abandoned by its client: the sweeper submits it. */
export const STALE_PENDING_MS = 30_000

/**
 * Submits orders left pending (their submit never answered and nobody retried) and records what
 * the book did, as a client's retry would: the book is idempotent on the order id, so an order it
 * already has gets its first outcome back; one it never got is not placed late (submitInTime).
 * Returns how many were resolved; a book that still does not answer leaves its orders for the
 * next run.
 */
export async function sweepPending(
  db: Db,
  books: Submitters,
  marketOpen: (symbol: string) => Promise<boolean>,
  now = Date.now(),
) {
  const stale = await db.transaction((tx) =>
    tx
      .select()
      .from(orders)
      .where(
        and(eq(orders.status, 'pending'), lt(orders.updatedAt, new Date(now - STALE_PENDING_MS))),
      )
      .orderBy(orders.id)
      .limit(1_000),
  )
  const bySymbol = new Map<string, OrderRow[]>()
  for (const o of stale) bySymbol.set(o.symbol, [...(bySymbol.get(o.symbol) ?? []), o])
  let resolved = 0
  await Promise.all(
    [...bySymbol].map(async ([symbol, group]) => {
      const acks = await refusal(async () => {
        const open = await marketOpen(symbol)
        return submitted(db, group, () => submitInTime(books(symbol), group, open, now))
      }).catch((err) => console.error(`sweeping ${symbol}: ${err}`)) // the next run tries again
      if (!Array.isArray(acks)) return
      for (const [i, order] of group.entries()) {
        await recordAck(db, { order, fresh: false }, acks[i])
        resolved++
      }
    }),
  )
  return { stale: stale.length, resolved }
}

/**
 * Submits orders of one symbol in turn, their acks in order. An order placed late, with the market
 * closed or a DAY order past its day's close (a retry, a cancel of a pending order, the sweeper),
 * only learns its outcome: if the book never got it, it is rejected market_closed (refuseUnseen).
 */
async function submitInTime(book: Submitter, orders: OrderRow[], open: boolean, now = Date.now()) {
  const late = (o: OrderRow) =>
    !open || (o.timeInForce === 'DAY' && now >= dayOrderClose(o.createdAt.getTime()).getTime())
  const [onTime, after] = [orders.filter((o) => !late(o)), orders.filter(late)]
  const acks = new Map<number, Ack>()
  if (onTime.length > 0) {
    const answers = await book.submitBatch(onTime.map(engineOrder))
    onTime.forEach((o, i) => acks.set(o.id, answers[i]))
  }
  if (after.length > 0) {
    const answers = await book.refuseUnseen(after.map(engineOrder))
    after.forEach((o, i) => acks.set(o.id, answers[i]))
  }
  return orders.map((o) => acks.get(o.id)!)
}

/** An AppError as a value (a refused order of a batch); anything else still throws. */
async function refusal<T>(fn: () => Promise<T>): Promise<T | AppError> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof AppError) return err
    throw err
  }
}

interface Reserved {
  order: OrderRow
  /** false: the order of a repeated Idempotency-Key or client_order_id */
  fresh: boolean
}

/** Reads before giving up on an account that keeps changing under the reservation. */
const RESERVE_ATTEMPTS = 20
/**
 * Optimistic tries (no lock: the order path's two round trips) before a try holding the user's
 * row: an account that keeps changing (a market maker's flow, a drain of many fills) then waits
 * its turn instead of losing every race (503 account_busy).
 */
const OPTIMISTIC_ATTEMPTS = 5

/**
 * Validates the order and reserves what it needs, or finds the order a repeated key names
 * (refusing a different request, or one still in flight).
 */
async function reserveOrder(
  db: Db,
  userId: number,
  request: PlaceRequest,
  market: MarketQuote | undefined,
  unapplied: OutboxFill[],
): Promise<Reserved> {
  for (let attempt = 1; attempt <= RESERVE_ATTEMPTS; attempt++) {
    const reserved =
      attempt <= OPTIMISTIC_ATTEMPTS
        ? await tryReserve(db, userId, request, market, unapplied)
        : await withRetries(() =>
            db.transaction(async (tx) => {
              await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update')
              return tryReserve(tx, userId, request, market, unapplied)
            }),
          )
    if (reserved) return reserved
    // another change to the account came first (or the same key, just now): read again
    await new Promise((r) => setTimeout(r, Math.random() * 2 * attempt))
  }
  throw new AppError(503, 'account_busy', 'The account kept changing while placing this order', {
    retry_after: 1,
  })
}

/**
 * One read, the checks, one guarded write (src/orders/reserve.ts); undefined when the guard failed.
 * `unapplied`: the symbol's fills still in its outbox, read before the account.
 */
async function tryReserve(
  q: DbOrTx,
  userId: number,
  { body, idempotencyKey, closed }: PlaceRequest,
  market: MarketQuote | undefined,
  unapplied: OutboxFill[],
): Promise<Reserved | undefined> {
  const request = orderRequest(body)
  const keys = { clientOrderId: request.client_order_id, idempotencyKey: idempotencyKey ?? null }
  const { snap, user, sym, repeatedId, tradedToday } = await readAccount(
    q, userId, body, keys, orderIdsOf(unapplied),
  )
  if (repeatedId !== null) {
    const [order] = await q.select().from(orders).where(eq(orders.id, repeatedId))
    return repeatedOrder(order, request)
  }
  if (closed) throw closed
  const plan = planOrder(body, sym && { ...sym, nbbo: market })
  checkHoldings(plan, snap, user.shortLimit)
  if (tradedToday) await checkDayTrades(q, userId, snap.cash, plan, unapplied)
  const data = {
    order_id: snap.nextOrderId,
    symbol: plan.symbol,
    side: plan.side,
    type: plan.type,
    qty: plan.qty,
    price_cents: plan.priceCents,
  }
  const order = await writeReservation(q, userId, snap, plan, { ...keys, request }, data)
  return order && { order, fresh: true }
}

/**
 * What reserving reads, in one round trip and without a lock (src/orders/reserve.ts); also
 * whether the pattern-day-trader rule needs a look (a retail trader's sell of a symbol it bought
 * today, or buy of one it sold today, in Postgres or among `unappliedIds`, the orders of the
 * symbol's fills still in its outbox).
 */
async function readAccount(
  q: DbOrTx,
  userId: number,
  { symbol, side }: Pick<OrderBody, 'symbol' | 'side'>,
  keys: { clientOrderId: string | null; idempotencyKey: string | null },
  unappliedIds: number[],
) {
  const otherSide = side === 'buy' ? 'sell' : 'buy'
  const [row] = await q
    .select({
      cash: users.cashCents,
      reserved: users.reservedCashCents,
      auditSeq: users.auditSeq,
      auditHead: users.auditHead,
      tier: users.tier,
      role: users.role,
      shortLimit: users.shortLimitQty,
      hasPosition: sql<boolean>`${positions.userId} is not null`,
      heldQty: sql<number>`coalesce(${positions.qty}, 0)`.mapWith(Number),
      heldReserved: sql<number>`coalesce(${positions.reservedQty}, 0)`.mapWith(Number),
      nextOrderId: sql<number>`nextval(pg_get_serial_sequence('orders', 'id'))`.mapWith(Number),
      nextLedgerId: sql<number>`nextval(pg_get_serial_sequence('cash_ledger', 'id'))`.mapWith(Number),
      repeatedId: sql<number | null>`(select o.id from orders o where o.user_id = ${userId}
        and (o.idempotency_key = ${keys.idempotencyKey}::text
          or o.client_order_id = ${keys.clientOrderId}::text)
        order by (o.idempotency_key = ${keys.idempotencyKey}::text) desc nulls last limit 1)`.mapWith(Number),
      sym: { ...getTableColumns(symbols), lastPriceCents: lastTrade },
      tradedToday: sql<boolean>`${users.tier} = 'retail' and ${users.role} = 'trader'
        and (exists (select 1 from fills f where f.user_id = ${userId}
          and f.symbol = ${symbol}::text and f.side = ${otherSide}::order_side
          and f.ts >= ${nyDayStart(Date.now()).toISOString()}::timestamptz)
        or exists (select 1 from orders o where o.id = any(${pgArray(unappliedIds)}::bigint[])
          and o.user_id = ${userId} and o.side = ${otherSide}::order_side))`,
    })
    .from(users)
    .leftJoin(symbols, eq(symbols.symbol, symbol))
    .leftJoin(positions, and(eq(positions.userId, users.id), eq(positions.symbol, symbol)))
    .where(eq(users.id, userId))
  if (!row) throw new NotFoundError('No such account')
  const { tier, role, shortLimit, repeatedId, sym, tradedToday, ...snap } = row
  return { snap, user: { tier, role, shortLimit }, sym: sym ?? undefined, repeatedId, tradedToday }
}

/** Buying power for a buy; shares (within a market maker's short limit) for a sell. */
function checkHoldings(plan: OrderPlan, snap: AccountSnapshot, shortLimit: number) {
  if (plan.side === 'buy') {
    const available = snap.cash - snap.reserved
    if (plan.reserveCashCents > available) {
      throw new OrderRejected('insufficient_buying_power', 'Not enough buying power for this order', {
        needed: formatCents(plan.reserveCashCents),
        available: formatCents(available),
        buying_power: formatCents(available),
      })
    }
    return
  }
  const available = snap.heldQty - snap.heldReserved + shortLimit
  if (plan.qty > available) {
    throw new OrderRejected(
      'insufficient_shares',
      shortLimit > 0
        ? `Not enough shares for this sell within the short limit of ${shortLimit}`
        : 'Not enough shares for this sell (short selling is not allowed)',
      {
        symbol: plan.symbol,
        asked: plan.qty,
        held: snap.heldQty,
        reserved: snap.heldReserved,
        available,
        short_limit: shortLimit,
      },
    )
  }
}

/**
 * The order a repeated Idempotency-Key or client_order_id names: the same request gets it back
 * (or 409 while the first is in flight), a different one is refused.
 */
function repeatedOrder(order: OrderRow, request: OrderRequest): Reserved {
  // of an order placed before orders.request, only what a market order's time in force became
  // (IOC unless FOK) is known: compare the repeat's the same way
  const legacyMarket = !order.request && request.type === 'market' && request.time_in_force !== 'fok'
  const asked = legacyMarket ? { ...request, time_in_force: 'ioc' as const } : request
  const differs = requestDifferences(requestOf(order), asked)
  if (differs.length > 0) {
    throw new AppError(
      422,
      'idempotency_mismatch',
      'This Idempotency-Key or client_order_id was used for a different order',
      { order_id: order.id, differs },
    )
  }
  const acked = order.updatedAt.getTime() !== order.createdAt.getTime()
  if (order.status === 'pending' && !acked && Date.now() - order.createdAt.getTime() < IN_FLIGHT_MS) {
    throw inFlight(order.id)
  }
  return { order, fresh: false }
}

/** 409 for a request repeated while its first is still being placed (the order's id if known). */
export const inFlight = (orderId?: number) =>
  new AppError(409, 'idempotency_in_flight', 'The first request with this key is in flight', {
    ...(orderId !== undefined && { order_id: orderId }),
    retry_after: 1,
  })

/**
 * The pattern-day-trader rule for a retail trader's order on a symbol it traded the other way today
 * (src/orders/day-trades.ts): refused with day_trade_limit when it would be the 4th day trade in
 * 5 trading days and equity is under $25,000.
 */
async function checkDayTrades(
  tx: DbOrTx,
  userId: number,
  cashCents: number,
  plan: OrderPlan,
  unapplied: OutboxFill[],
) {
  const today = nyDate(Date.now())
  const equity = cashCents + (await positionsValue(tx, userId))
  if (equity >= PDT_MIN_EQUITY_CENTS) return
  const window = tradingDaysEndingAt(today, PDT_WINDOW_DAYS)
  const { orderId, symbol, side, qty, ts, seq } = fills
  const rows = await tx
    .select({ orderId, symbol, side, qty, ts, seq })
    .from(fills)
    .where(and(eq(fills.userId, userId), gte(fills.ts, nyInstant(window[0], 0))))
    .orderBy(fills.ts, fills.symbol, fills.seq)
  const recorded = rows.map((f) => ({ ...f, date: nyDate(f.ts) }))
  // the outbox's fills come after Postgres's of the symbol (the drain applies them in order)
  const pending = await unappliedOfUser(tx, userId, plan.symbol, unapplied, recorded)
  const { wouldDayTrade, used } = dayTradeOutlook({
    fills: [...recorded, ...pending.filter((f) => f.date >= window[0])],
    today,
    symbol: plan.symbol,
    side: plan.side,
  })
  if (wouldDayTrade && used >= PDT_MAX_DAY_TRADES) {
    throw new OrderRejected(
      'day_trade_limit',
      `This ${plan.side} would be a day trade beyond ${PDT_MAX_DAY_TRADES} in ${PDT_WINDOW_DAYS} trading days, with equity under ${formatCents(PDT_MIN_EQUITY_CENTS)}`,
      {
        day_trades_used: used,
        day_trades_remaining: Math.max(0, PDT_MAX_DAY_TRADES - used),
        max_day_trades: PDT_MAX_DAY_TRADES,
        window_start: window[0],
        window_days: PDT_WINDOW_DAYS,
        equity: formatCents(equity),
        min_equity: formatCents(PDT_MIN_EQUITY_CENTS),
      },
    )
  }
}

/** The symbol's fills still in its outbox, read before the account (at most the first 500). */
const unappliedFills = (book: Submitter) => book.pendingFills()

/** The orders of ours on either side of `fills` (a venue's fill has no maker of ours: 0). */
const orderIdsOf = (fills: OutboxFill[]) => [...new Set(fills.flatMap((f) => [f.taker, f.maker]))]

/** A Postgres array literal of integers: one parameter however many (drizzle spreads a JS array). */
const pgArray = (ids: number[]) => `{${ids.join(',')}}`

/**
 * The user's side of the symbol's outbox fills that Postgres does not have yet (`recorded`, read
 * after the outbox, may have some of them already), as the PDT walk takes fills.
 */
async function unappliedOfUser(
  q: DbOrTx,
  userId: number,
  symbol: string,
  unapplied: OutboxFill[],
  recorded: { symbol: string; seq: number }[],
): Promise<PdtFill[]> {
  const inPostgres = new Set(recorded.filter((f) => f.symbol === symbol).map((f) => f.seq))
  const waiting = unapplied.filter((f) => !inPostgres.has(f.fillSeq))
  if (waiting.length === 0) return []
  const mine = await q
    .select({ id: orders.id, side: orders.side })
    .from(orders)
    .where(and(eq(orders.userId, userId), inArray(orders.id, orderIdsOf(waiting))))
  const sideOf = new Map(mine.map((o) => [o.id, o.side]))
  return waiting.flatMap((f) =>
    [f.taker, f.maker]
      .filter((id) => sideOf.has(id))
      .map((id) => ({ orderId: id, symbol, side: sideOf.get(id)!, qty: f.qty, date: nyDate(f.ts) })),
  )
}

/**
 * Calls the book for `orders`; when it does not answer (503 book_unavailable), marks them no
 * longer in flight, so that a retry with the same key re-submits at once.
 */
async function submitted<T>(db: Db, sent: OrderRow | OrderRow[], fn: () => Promise<T>) {
  const list = Array.isArray(sent) ? sent : [sent]
  try {
    return await call(list[0], fn)
  } catch (err) {
    const ids = list.map((o) => o.id)
    await db
      .transaction((tx) =>
        tx
          .update(orders)
          .set({ updatedAt: sql`now()` })
          .where(and(inArray(orders.id, ids), eq(orders.status, 'pending'))),
      )
      .catch(() => {})
    throw err
  }
}

/** Brings Postgres in line with the book's ack of a submit. */
async function recordAck(db: Db, { order, fresh }: Reserved, ack: Ack): Promise<Placed> {
  const outcome = outcomeOf(order.id, requestOf(order).qty, ack) // the ack was of the qty requested
  await recordEvents(db, order.symbol, ack, 'new')
  // rested or pending → open, only while still pending (the drain may have made it partial or
  // filled); filled in the ack: the drain sets it filled, touching updated_at marks it acked (not
  // in flight) meanwhile
  await db
    .update(orders)
    .set({ ...(outcome.status !== 'filled' && { status: 'open' }), updatedAt: sql`now()` })
    .where(and(eq(orders.id, order.id), eq(orders.status, 'pending')))
  return { order, ack, outcome, replayed: !fresh }
}

/**
 * Applies the order events of a command's ack at once (cancels and rejections of this order or
 * of stops it triggered, an amend's cut): exactly once with the outbox drain (order-events.ts).
 */
async function recordEvents(
  db: Db,
  symbol: string,
  ack: Ack,
  op: Command['op'],
  filledBefore?: number,
): Promise<OrderRow | undefined> {
  let last: OrderRow | undefined
  for (const event of orderEvents(op, ack.events)) {
    const { seq, fillsBefore, ts } = ack
    last = await withRetries(() =>
      db.transaction(async (tx) => {
        const order = (await lockOrders(tx, [event.id])).get(event.id)
        if (!order) throw new Error(`${symbol}: the book has order ${event.id}, Postgres does not`)
        const e = { seq, fillsBefore, ts, event }
        return (await applyOrderEvent(tx, symbol, e, order, filledBefore)) ?? order
      }),
    )
  }
  return last
}

async function call<T>(order: OrderRow, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    console.error(`symbol book ${order.symbol} failed for order ${order.id}`, err)
    throw new AppError(
      503,
      'book_unavailable',
      `The ${order.symbol} book did not answer: the order stays pending; retry with the same Idempotency-Key or client_order_id`,
      { order_id: order.id, retry_after: 1 },
    )
  }
}

export async function getOrder(db: Db, userId: number, id: number): Promise<OrderRow> {
  const [row] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.id, id), eq(orders.userId, userId)))
  if (!row) throw new NotFoundError('No such order')
  return row
}

export function orderFills(db: Db, orderId: number) {
  return db.select().from(fills).where(eq(fills.orderId, orderId)).orderBy(fills.seq)
}

export async function listOrders(
  db: Db,
  userId: number,
  q: { status?: OrderRow['status']; symbol?: string; limit: number; cursor?: number },
) {
  return db
    .select()
    .from(orders)
    .where(
      and(
        eq(orders.userId, userId),
        q.status && eq(orders.status, q.status),
        q.symbol ? eq(orders.symbol, q.symbol) : undefined,
        q.cursor ? lt(orders.id, q.cursor) : undefined,
      ),
    )
    .orderBy(desc(orders.id))
    .limit(q.limit)
}

const notCancelable = (o: OrderRow) =>
  new AppError(409, 'not_cancelable', `The order is ${o.status}: nothing left to cancel`, {
    order_id: o.id,
    order_status: o.status,
  })

/**
 * Cancels the order's open quantity in the book and releases what it held. A pending order
 * (its submit never answered) is first re-submitted, so the book knows it before the cancel. A
 * repeated cancel gets the first one's outcome from the book (a retry after a crash).
 */
export async function cancelOrder(
  db: Db,
  books: Books,
  userId: number,
  id: number,
  marketOpen: (symbol: string) => Promise<boolean>,
) {
  let order = await getOrder(db, userId, id)
  if (!isActive(order.status)) throw notCancelable(order)
  const book = books(order.symbol)
  if (order.status === 'pending') {
    // the book may have it: learn its outcome first (not placing it late if it does not)
    const open = await marketOpen(order.symbol)
    const [ack] = await call(order, () => submitInTime(book, [order], open))
    const { outcome } = await recordAck(db, { order, fresh: false }, ack)
    if (outcome.status === 'rejected') {
      return { order: await getOrder(db, userId, id), ack, canceledQty: 0, pending: false }
    }
  }
  const ack = await call(order, () => book.cancel(order.id))
  // at a venue (issue 7): the cancel went there; the venue's answer ends the order (the drain)
  if (ack.events.some((e) => e.type === 'cancel_pending' && e.id === order.id)) {
    return { order, ack, canceledQty: 0, pending: true }
  }
  const canceled = ack.events.find((e) => e.type === 'canceled' && e.id === order.id)
  if (!canceled || canceled.type !== 'canceled') {
    // the book no longer has it: filled (the drain brings Postgres up to date) or ended already
    order = await getOrder(db, userId, id)
    throw notCancelable(order)
  }
  await recordEvents(db, order.symbol, ack, 'cancel')
  return { order: await getOrder(db, userId, id), ack, canceledQty: canceled.qty, pending: false }
}

/**
 * Reduces the order's open quantity to `qty` (keeps its time priority). The released part is
 * open-before − qty; open-before = qty − fills before the amend, counted exactly: the order's row
 * is locked (the drain locks it too before applying fills of it), so its fills are either in
 * Postgres already or still in the book's outbox, made by commands before the amend. Should
 * this transaction fail after the book amended, the outbox drain applies the cut instead.
 */
export async function amendOrder(db: Db, books: Books, userId: number, id: number, qty: number) {
  const order = await getOrder(db, userId, id)
  if (order.status !== 'open' && order.status !== 'partial') {
    throw new AppError(409, 'not_amendable', `The order is ${order.status}`, {
      order_id: order.id,
      order_status: order.status,
    })
  }
  const book = books(order.symbol)
  const result = await db.transaction(async (tx) => {
    const locked = (await lockOrders(tx, [id])).get(id)!
    const ack = await call(order, () => book.amend(id, qty))
    const amended = ack.events.find((e) => e.type === 'amended' && e.id === id)
    if (!amended || amended.type !== 'amended') {
      const rejected = ack.events.find((e) => e.type === 'rejected' && e.id === id)
      const reason = rejected?.type === 'rejected' ? rejected.reason : 'unknown_order'
      if (reason === 'not_routable') {
        throw new AppError(409, 'order_at_venue', 'The order is at a venue: cancel it and place a new one', {
          order_id: id,
        })
      }
      if (reason === 'invalid_amend') {
        throw new AppError(422, 'invalid_amend', 'qty must be smaller than the open quantity', {
          order_id: id,
          qty,
        })
      }
      throw new AppError(409, 'not_amendable', 'The order is no longer open in the book', {
        order_id: id,
      })
    }
    // the order's fills before the amend: in Postgres (all of its fills there: the lock keeps
    // later ones out), or still in the book's outbox
    const outbox = await call(order, () => book.pendingFills(100_000))
    const recorded = await tx
      .select({ seq: fills.seq, qty: fills.qty })
      .from(fills)
      .where(eq(fills.orderId, id))
    const seen = new Set(recorded.map((f) => f.seq))
    const filledBefore = [
      ...recorded,
      ...outbox.filter(
        (f) =>
          (f.taker === id || f.maker === id) &&
          f.seq < ack.seq && // made by an earlier command (an object of any version says so)
          !seen.has(f.fillSeq),
      ),
    ].reduce((sum, f) => sum + f.qty, 0)
    const e = { seq: ack.seq, fillsBefore: ack.fillsBefore, ts: ack.ts, event: amended }
    const after = await applyOrderEvent(tx, order.symbol, e, locked, filledBefore)
    return { ack, cut: locked.qty - (after ?? locked).qty }
  })
  return { order: await getOrder(db, userId, id), ...result }
}
