// Applying a symbol's fills to Postgres, exactly once. The symbol's Durable Object keeps every fill
// in its outbox until told it is in Postgres (at-least-once delivery); this makes a repeated fill
// a no-op, so the two together apply each fill exactly once.
//
// The reservation model (what the order gateway sets up when it places an order):
//  - BUY: placing reserves qty × reserve price of cash (postCash 'reserve'): the order's
//    reserved_cash_cents, also counted in users.reserved_cash_cents. The reserve price is
//    orders.reserve_price_cents, or the limit price (price_cents) when that is null; market and
//    stop buys must set it (their collar) and reach the engine as orders that cannot trade above
//    it — a buy fill above its reserve price is refused here, never paid out of free cash.
//  - SELL: placing reserves qty shares: the order's reserved_qty, also counted in
//    positions.reserved_qty.
//  - A fill of x shares at price p (cents) between a buy and a sell order:
//      buyer:  cash −= x·p and reserved −= x·R (R its reserve price; p ≤ R, so a better price
//              frees the difference) in one postCash 'trade'; order reserved_cash −= x·R;
//              position qty += x, cost += x·p (created when missing).
//      seller: cash += x·p (postCash 'trade'); position qty −= x, reserved_qty −= x,
//              cost −= round(cost·x/qty) (average cost, half up; 0 when no share is left);
//              order reserved_qty −= x. A market maker may go short down to −short_limit_qty
//              (users): a short's cost is negative (its proceeds) and buying covers it at
//              average cost, the mirror image (traded() below).
//      both:   filled_qty += x; avg_price_cents = the VWAP of the order's fills, rounded half up;
//              status pending|open|partial → partial, or filled when filled_qty = qty (filled_at =
//              the fill's time; whatever the filled order still holds is released). canceled and
//              expired stay as they are: such a fill happened in the book before the cancel, whose
//              release covered only the quantity still open then.
//      fills:  one row per order side, keyed (symbol, seq = fillSeq, order_id); ledger and audit
//              entries through postCash (refType 'fill', refId '<symbol>:<fillSeq>'), the audit
//              entry (action 'order.fill') carrying the order's and the position's state after it.
//  - The gateway never writes filled_qty, avg_price_cents or a fill's reservation itself; its own
//    status changes are conditional (pending → open only while still pending; a cancel or an
//    expiry releases only the engine's open quantity × R), so they commute with this.
//
// One transaction per batch, fills in fillSeq order. Locks, always in this order: the symbol's
// row (FOR NO KEY UPDATE: one batch of a symbol at a time, while foreign-key checks of new orders
// still pass), the users by id, the orders by id, the positions by user; every money change of a
// user locks that user's row first, so batches of different symbols for the same users serialize
// on it instead of deadlocking. A serialization failure or deadlock (40001, 40P01) retries the
// whole transaction a few times. Fills already in Postgres are skipped after checking they are the
// same fills; new ones must continue the symbol's sequence without a gap. Anything inconsistent
// (unknown order, another symbol's order, a reservation going negative, a position beyond its
// short limit, filled_qty beyond qty, a price outside the orders' limits, buyer = seller) throws
// FillRejected and the transaction changes nothing.
import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { ledgerIds, lockUsersForCash, stageCash, writePostings } from '../accounts/ledger.ts'
import type { LockedUser, Posting } from '../accounts/ledger.ts'
import type { Db, Tx } from '../db/client.ts'
import { pgErrorCode } from '../db/pg-errors.ts'
import { fills, orders, positions, symbols } from '../db/schema.ts'
import type { OutboxFill } from '../engine/journal.ts'
import { accountUpdate, orderUpdate } from '../accounts/stream.ts'
import type { AccountEvent } from '../accounts/stream.ts'
import { isActive } from './rules.ts'

export const SERIALIZATION_FAILURE = '40001'
export const DEADLOCK_DETECTED = '40P01'

export interface ApplyResult {
  /** fills applied by this call */
  applied: number
  /** fills of the batch already in Postgres (or repeated within it): left untouched */
  skipped: number
  /** the highest fillSeq of the batch, now in Postgres: what the outbox may forget (0: empty) */
  through: number
  /** transactions it took (more than 1 after a serialization failure or a deadlock) */
  attempts: number
  /** the users' stream events of the batch, to publish now that it is committed */
  events: AccountEvent[]
}

export interface ApplyOptions {
  /** attempts on serialization failure or deadlock (5) */
  maxAttempts?: number
}

/** A batch that cannot be applied as it is; nothing of it was. */
export class FillRejected extends Error {
  override name = 'FillRejected'
  constructor(
    readonly symbol: string,
    readonly fillSeq: number | undefined,
    message: string,
  ) {
    super(`${symbol}${fillSeq === undefined ? '' : ` fill #${fillSeq}`}: ${message}`)
  }
}

export async function applyFills(
  db: Db,
  symbol: string,
  batch: OutboxFill[],
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const { fills: sorted, repeated } = normalize(symbol, batch)
  if (sorted.length === 0) return { applied: 0, skipped: 0, through: 0, attempts: 0, events: [] }
  let attempts = 0
  const { applied, events } = await withRetries(() => {
    attempts++
    return db.transaction((tx) => applyInTx(tx, symbol, sorted))
  }, options.maxAttempts)
  return {
    applied,
    events,
    skipped: sorted.length - applied + repeated,
    through: sorted[sorted.length - 1].fillSeq,
    attempts,
  }
}

/** Runs a transaction again on serialization failure or deadlock (40001, 40P01). */
export async function withRetries<T>(run: () => Promise<T>, maxAttempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (err) {
      const code = pgErrorCode(err)
      if (
        attempt >= maxAttempts ||
        (code !== SERIALIZATION_FAILURE && code !== DEADLOCK_DETECTED)
      ) {
        throw err
      }
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10))
    }
  }
}

const isId = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0

/** Checks the shape of every fill, sorts by fillSeq and drops exact repeats. */
function normalize(symbol: string, batch: OutboxFill[]) {
  const bySeq = new Map<number, OutboxFill>()
  let repeated = 0
  for (const f of batch) {
    const seq = isId(f?.fillSeq) ? f.fillSeq : undefined
    const bad = (what: string) => new FillRejected(symbol, seq, `malformed fill: ${what}`)
    if (seq === undefined) throw bad('fillSeq must be a positive integer')
    if (!isId(f.taker)) throw bad('taker must be an order id')
    // maker 0: a venue's fill, which names the venue and its ExecID instead
    if (f.maker === 0) {
      if (!f.venue || f.venue === 'BOURSE' || !f.execId) throw bad('a venue fill names its venue and ExecID')
    } else {
      if (!isId(f.maker)) throw bad('maker must be an order id, or 0 at a venue')
      if (f.venue !== undefined || f.execId !== undefined) throw bad('a fill of our book names no venue')
    }
    if (f.taker === f.maker) throw bad('taker and maker are the same order')
    if (f.side !== 'buy' && f.side !== 'sell') throw bad('side must be buy or sell')
    if (!isId(f.qty) || !isId(f.price)) throw bad('qty and price must be positive integers')
    if (!Number.isFinite(f.ts)) throw bad('ts must be a time in milliseconds')
    const prior = bySeq.get(seq)
    if (prior) {
      if (!sameFill(prior, f)) throw bad('two different fills with this fillSeq in the batch')
      repeated++
      continue
    }
    bySeq.set(seq, f)
  }
  return { fills: [...bySeq.values()].sort((a, b) => a.fillSeq - b.fillSeq), repeated }
}

const sameFill = (a: OutboxFill, b: OutboxFill) =>
  a.taker === b.taker &&
  a.maker === b.maker &&
  a.venue === b.venue &&
  a.execId === b.execId &&
  a.side === b.side &&
  a.price === b.price &&
  a.qty === b.qty

type OrderRow = typeof orders.$inferSelect
type PositionState = { qty: number; reservedQty: number; costCents: number; exists: boolean }

/** Runs inside the batch's transaction; returns how many fills it applied, and their events. */
async function applyInTx(tx: Tx, symbol: string, batch: OutboxFill[]) {
  const reject = (fillSeq: number | undefined, message: string): never => {
    throw new FillRejected(symbol, fillSeq, message)
  }

  const [sym] = await tx
    .select({ symbol: symbols.symbol })
    .from(symbols)
    .where(eq(symbols.symbol, symbol))
    .for('no key update')
  if (!sym) reject(undefined, 'unknown symbol')

  // Users first (by id), then their orders (by id), then their positions: the lock order.
  const orderIds = [...new Set(batch.flatMap(ours))].sort((a, b) => a - b)
  const owners = await tx
    .select({ id: orders.id, userId: orders.userId })
    .from(orders)
    .where(inArray(orders.id, orderIds))
  const owner = new Map(owners.map((o) => [o.id, o.userId]))
  for (const f of batch) {
    for (const id of ours(f)) if (!owner.has(id)) reject(f.fillSeq, `unknown order ${id}`)
  }
  const userIds = [...new Set(owner.values())].sort((a, b) => a - b)
  // locked and read once: each posting of the batch writes in one statement (ledger.ts). The
  // ledger ids are drawn after the locks, so a user's entries keep their order by id.
  const ids: number[] = []
  const locked = await lockUsersForCash(tx, userIds, ids)
  ids.push(...(await ledgerIds(tx, 2 * batch.length)))
  const orderRows = await tx
    .select()
    .from(orders)
    .where(inArray(orders.id, orderIds))
    .orderBy(asc(orders.id))
    .for('update')
  const order = new Map(orderRows.map((o) => [o.id, { ...o }]))
  for (const o of orderRows) {
    if (o.symbol !== symbol) reject(undefined, `order ${o.id} is an order of ${o.symbol}`)
    if (o.status === 'rejected') reject(undefined, `order ${o.id} was rejected: it never traded`)
  }
  const positionRows = await tx
    .select()
    .from(positions)
    .where(and(eq(positions.symbol, symbol), inArray(positions.userId, userIds)))
    .orderBy(asc(positions.userId))
    .for('update')
  const position = new Map<number, PositionState>()
  for (const id of userIds)
    position.set(id, { qty: 0, reservedQty: 0, costCents: 0, exists: false })
  for (const p of positionRows) position.set(p.userId, { ...p, exists: true })

  // Which fills are new: they continue the symbol's sequence; older ones must be there already.
  const [{ last }] = await tx
    .select({ last: sql<number>`coalesce(max(${fills.seq}), 0)`.mapWith(Number) })
    .from(fills)
    .where(eq(fills.symbol, symbol))
  const fresh = batch.filter((f) => f.fillSeq > last)
  fresh.forEach((f, i) => {
    if (f.fillSeq !== last + 1 + i) {
      reject(f.fillSeq, `out of sequence: the next fill of ${symbol} is #${last + 1 + i}`)
    }
  })
  const old = batch.filter((f) => f.fillSeq <= last)

  const rows = fresh.flatMap((f) => fillRows(symbol, f, owner))
  const inserted = new Set<string>()
  for (let i = 0; i < rows.length; i += 1000) {
    const got = await tx
      .insert(fills)
      .values(rows.slice(i, i + 1000))
      .onConflictDoNothing()
      .returning({ seq: fills.seq, orderId: fills.orderId })
    for (const r of got) inserted.add(`${r.seq}:${r.orderId}`)
  }
  for (const f of fresh) {
    if (!ours(f).every((id) => inserted.has(`${f.fillSeq}:${id}`))) {
      reject(f.fillSeq, 'already recorded although it continues the sequence')
    }
  }
  if (old.length > 0) await checkRecorded(tx, symbol, old, owner, reject)

  const postings: Posting[] = []
  const filled: FilledOrder[] = []
  for (const f of fresh) {
    // a venue's fill has one order of ours; the street is the other side
    const taker = order.get(f.taker)!
    const maker = f.maker ? order.get(f.maker)! : undefined
    const [buyer, seller] = f.side === 'buy' ? [taker, maker] : [maker, taker]
    if (buyer?.side === 'sell' || seller?.side === 'buy') {
      const [b, s] = [buyer?.id ?? 'the street', seller?.id ?? 'the street']
      reject(f.fillSeq, `order ${b} must be a buy and ${s} a sell`)
    }
    if (buyer && seller && buyer.userId === seller.userId) {
      reject(f.fillSeq, `self-trade of user ${buyer.userId}`)
    }
    if (!Number.isSafeInteger(f.qty * f.price)) reject(f.fillSeq, 'notional out of range')
    if (buyer) postings.push(await buys(f, buyer, seller?.id ?? null))
    if (seller) postings.push(await sells(f, seller, buyer?.id ?? null))
  }

  /** The buyer's half of a fill: its reservation pays for it, a better price frees the rest. */
  async function buys(f: OutboxFill, buyer: OrderRow, counterparty: number | null) {
    const [x, p, notional] = [f.qty, f.price, f.qty * f.price]
    const reservePrice = buyer.reservePriceCents ?? buyer.priceCents
    if (reservePrice === null) reject(f.fillSeq, `order ${buyer.id} has no reserve price`)
    if (p > reservePrice!) {
      reject(f.fillSeq, `price ${p} above order ${buyer.id}'s reserve price ${reservePrice}`)
    }
    let release = x * reservePrice!
    fillOrder(buyer, f, reject)
    if (buyer.reservedCashCents < release) {
      reject(f.fillSeq, `order ${buyer.id} holds ${buyer.reservedCashCents} cents, not ${release}`)
    }
    buyer.reservedCashCents -= release
    if (buyer.status === 'filled') {
      release += buyer.reservedCashCents
      buyer.reservedCashCents = 0
    }
    filled.push({ f, order: { ...buyer, updatedAt: new Date(f.ts) } })
    const bought = position.get(buyer.userId)!
    Object.assign(bought, traded(bought, x, p))
    return settle(f, symbol, buyer, counterparty, -notional, -release, bought, locked, reject)
  }

  /** The seller's half: the shares it held leave the position. */
  async function sells(f: OutboxFill, seller: OrderRow, counterparty: number | null) {
    const [x, p, notional] = [f.qty, f.price, f.qty * f.price]
    if (seller.priceCents !== null && p < seller.priceCents) {
      reject(f.fillSeq, `price ${p} below order ${seller.id}'s limit ${seller.priceCents}`)
    }
    fillOrder(seller, f, reject)
    let unreserve = x
    if (seller.reservedQty < x) {
      reject(f.fillSeq, `order ${seller.id} holds ${seller.reservedQty} shares, not ${x}`)
    }
    seller.reservedQty -= x
    if (seller.status === 'filled') {
      unreserve += seller.reservedQty
      seller.reservedQty = 0
    }
    filled.push({ f, order: { ...seller, updatedAt: new Date(f.ts) } })
    const sold = position.get(seller.userId)!
    if (sold.qty - x < -locked.get(seller.userId)!.shortLimit || sold.reservedQty < unreserve) {
      reject(f.fillSeq, `user ${seller.userId} holds ${sold.reservedQty} reserved of ${sold.qty}`)
    }
    Object.assign(sold, traded(sold, -x, p))
    sold.reservedQty -= unreserve
    return settle(f, symbol, seller, counterparty, notional, 0, sold, locked, reject)
  }

  const totals = fresh.length > 0
    ? await writeBatch(tx, symbol, fresh, postings, order, position, reject)
    : new Map<number, FillTotals>()
  // in fill order: the fills sent again (all before the new ones) first
  const events = [
    ...old.flatMap((f) => ours(f).map((id) => resentFill(symbol, f, order.get(id)!))),
    ...fillEvents(symbol, filled, totals),
    ...[...locked].map(([userId, cash]) => {
      const p = position.get(userId)!
      return accountUpdate(`fills:${symbol}:${batch[batch.length - 1].fillSeq}`, userId, cash, Date.now(), {
        symbol, ...p,
      })
    }),
  ]
  return { applied: fresh.length, events }
}

/** An order's state right after one of the batch's fills. */
interface FilledOrder {
  f: OutboxFill
  order: OrderRow
}

/** An order's fills in Postgres after the batch: shares and their value in cents. */
type FillTotals = { qty: number; value: number }

const liquidity = (f: OutboxFill, id: number): 'taker' | 'maker' => (f.taker === id ? 'taker' : 'maker')

/** The fill's orders of ours: both sides for our book's, the taker alone for a venue's. */
const ours = (f: OutboxFill) => (f.maker ? [f.taker, f.maker] : [f.taker])

/**
 * Each fill's update of each of its orders, with the order's average price as of that fill: the
 * totals after the batch, less the order's later fills in it.
 */
function fillEvents(symbol: string, filled: FilledOrder[], totals: Map<number, FillTotals>) {
  const later = new Map<number, FillTotals>()
  const events: AccountEvent[] = []
  for (const { f, order } of filled.toReversed()) {
    const total = totals.get(order.id)!
    const after = later.get(order.id) ?? { qty: 0, value: 0 }
    const qty = total.qty - after.qty
    const value = total.value - after.value
    later.set(order.id, { qty: after.qty + f.qty, value: after.value + f.qty * f.price })
    const avgPriceCents = Math.floor((2 * value + qty) / (2 * qty)) // half up, as Postgres rounds
    const row = { ...order, avgPriceCents }
    const event = order.status === 'filled' ? 'fill' : 'partial_fill'
    const fill = { fill_seq: f.fillSeq, qty: f.qty, price: f.price, liquidity: liquidity(f, order.id) }
    events.push(orderUpdate(`fill:${symbol}:${f.fillSeq}`, event, row, f.ts, fill))
  }
  return events.reverse()
}

/** A fill Postgres had already (a batch sent again): its update again, as the order is now. */
function resentFill(symbol: string, f: OutboxFill, order: OrderRow) {
  const fill = { fill_seq: f.fillSeq, qty: f.qty, price: f.price, liquidity: liquidity(f, order.id) }
  const event = order.status === 'filled' ? 'fill' : 'partial_fill'
  return orderUpdate(`fill:${symbol}:${f.fillSeq}`, event, order, f.ts, fill)
}

/** round(total · part / whole), half away from zero, exact for any bigint cents */
function roundedShare(total: number, part: number, whole: number): number {
  const t = BigInt(Math.abs(total)) * BigInt(part) * 2n + BigInt(whole)
  return Math.sign(total) * Number(t / (2n * BigInt(whole)))
}

/**
 * The position after trading `signed` shares (buy > 0, sell < 0) at `price`, at average cost:
 * what opens or extends a position adds its cost (a short's is negative: its proceeds); what
 * closes one takes away its share of the cost (all of it when flat); a trade through zero does
 * both.
 */
export function traded(p: { qty: number; costCents: number }, signed: number, price: number) {
  const qty = p.qty + signed
  if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
    return { qty, costCents: p.costCents + signed * price }
  }
  const held = Math.abs(p.qty)
  const closing = Math.min(Math.abs(signed), held)
  const left = closing === held ? 0 : p.costCents - roundedShare(p.costCents, closing, held)
  return { qty, costCents: left + Math.sign(signed) * (Math.abs(signed) - closing) * price }
}

function fillRows(symbol: string, f: OutboxFill, owner: Map<number, number>) {
  const ts = new Date(f.ts)
  const other = f.side === 'buy' ? 'sell' : 'buy'
  const row = (
    orderId: number,
    counterpartyOrderId: number | null,
    side: 'buy' | 'sell',
    taker: boolean,
  ) => ({
    orderId,
    counterpartyOrderId,
    userId: owner.get(orderId)!,
    symbol,
    seq: f.fillSeq,
    side,
    taker,
    qty: f.qty,
    priceCents: f.price,
    ts,
    venue: f.venue ?? 'BOURSE',
    execId: f.execId ?? null,
  })
  if (!f.maker) return [row(f.taker, null, f.side, true)]
  return [row(f.taker, f.maker, f.side, true), row(f.maker, f.taker, other, false)]
}

/** A repeated fill must be the very fill recorded: anything else is a different event. */
async function checkRecorded(
  tx: Tx,
  symbol: string,
  old: OutboxFill[],
  owner: Map<number, number>,
  reject: (fillSeq: number, message: string) => never,
) {
  const stored = await tx
    .select()
    .from(fills)
    .where(
      and(
        eq(fills.symbol, symbol),
        inArray(
          fills.seq,
          old.map((f) => f.fillSeq),
        ),
      ),
    )
  const key = (r: ReturnType<typeof fillRows>[number]) =>
    [r.seq, r.orderId, r.counterpartyOrderId, r.userId, r.side, r.taker, r.qty, r.priceCents, r.venue, r.execId].join()
  const have = new Set(stored.map(key))
  for (const f of old) {
    const rows = fillRows(symbol, f, owner)
    if (
      stored.filter((r) => r.seq === f.fillSeq).length !== rows.length ||
      !rows.every((r) => have.has(key(r)))
    ) {
      reject(f.fillSeq, 'already applied as a different fill')
    }
  }
}

function fillOrder(
  o: OrderRow,
  f: OutboxFill,
  reject: (fillSeq: number, message: string) => never,
) {
  if (o.filledQty + f.qty > o.qty) {
    reject(f.fillSeq, `order ${o.id} would fill ${o.filledQty + f.qty} of ${o.qty}`)
  }
  o.filledQty += f.qty
  if (isActive(o.status)) {
    o.status = o.filledQty === o.qty ? 'filled' : 'partial'
    if (o.status === 'filled') o.filledAt = new Date(f.ts)
  }
}

/** One side's cash movement, ledger and audit entry. */
async function settle(
  f: OutboxFill,
  symbol: string,
  o: OrderRow,
  /** the other side's order; null at a venue */
  counterparty: number | null,
  cashDelta: number,
  reservedDelta: number,
  p: PositionState,
  locked: Map<number, LockedUser>,
  reject: (fillSeq: number, message: string) => never,
): Promise<Posting> {
  const posting = await stageCash({
    userId: o.userId,
    kind: 'trade',
    cashDelta,
    reservedDelta,
    refType: 'fill',
    refId: `${symbol}:${f.fillSeq}`,
    symbol,
    qty: f.qty,
    action: 'order.fill',
    data: {
      symbol,
      fill_seq: f.fillSeq,
      order_id: o.id,
      counterparty_order_id: counterparty,
      ...(f.venue && { venue: f.venue, exec_id: f.execId }),
      side: o.side,
      taker: o.id === f.taker,
      qty: f.qty,
      price_cents: f.price,
      order_filled_qty: o.filledQty,
      order_status: o.status,
      position_qty: p.qty,
      position_cost_cents: p.costCents,
    },
  }, locked.get(o.userId)!)
  return (
    posting ??
    reject(
      f.fillSeq,
      `user ${o.userId}'s cash cannot take ${cashDelta} cents with ${reservedDelta} reserved`,
    )
  )
}

/**
 * Writes what the batch changed in one statement: the users' cash with its ledger and audit
 * entries (writePostings), the orders (their average price from their fills, and filled_qty
 * checked against them) and the positions.
 */
async function writeBatch(
  tx: Tx,
  symbol: string,
  fresh: OutboxFill[],
  postings: Posting[],
  order: Map<number, OrderRow>,
  position: Map<number, PositionState>,
  reject: (fillSeq: number | undefined, message: string) => never,
) {
  const touched = [...new Set(fresh.flatMap(ours))].map((id) => {
    const o = order.get(id)!
    return {
      id,
      filled_qty: o.filledQty,
      status: o.status,
      reserved_cash: o.reservedCashCents,
      reserved_qty: o.reservedQty,
      filled_at: o.filledAt?.toISOString() ?? null,
    }
  })
  type PositionRow = { user_id: number; qty: number; reserved_qty: number; cost: number }
  const held: PositionRow[] = []
  const opened: PositionRow[] = []
  for (const [userId, p] of position) {
    const row = { user_id: userId, qty: p.qty, reserved_qty: p.reservedQty, cost: p.costCents }
    if (p.exists) held.push(row)
    else if (p.qty !== 0 || p.costCents !== 0) opened.push(row)
  }
  const positionRows = (rows: PositionRow[]) => sql`
    jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS v(user_id bigint, qty bigint, reserved_qty bigint, cost bigint)`
  const ctes: SQL = sql`
    ord AS (
      UPDATE orders o SET filled_qty = v.filled_qty, status = v.status,
        reserved_cash_cents = v.reserved_cash, reserved_qty = v.reserved_qty,
        filled_at = v.filled_at, avg_price_cents = f.avg, updated_at = now()
      FROM jsonb_to_recordset(${JSON.stringify(touched)}::jsonb)
        AS v(id bigint, filled_qty bigint, status order_status, reserved_cash bigint,
          reserved_qty bigint, filled_at timestamptz)
      CROSS JOIN LATERAL (
        SELECT round(sum(qty * price_cents)::numeric / sum(qty))::bigint AS avg,
          coalesce(sum(qty), 0) AS total, coalesce(sum(qty * price_cents), 0) AS value
        FROM fills WHERE order_id = v.id) f
      WHERE o.id = v.id AND o.symbol = ${symbol}
      RETURNING o.id, o.filled_qty, f.total, f.value),
    held AS (
      UPDATE positions p SET qty = v.qty, reserved_qty = v.reserved_qty, cost_cents = v.cost,
        updated_at = now()
      FROM ${positionRows(held)}
      WHERE p.user_id = v.user_id AND p.symbol = ${symbol}),
    opened AS (
      INSERT INTO positions (user_id, symbol, qty, reserved_qty, cost_cents)
      SELECT user_id, ${symbol}::text, qty, reserved_qty, cost FROM ${positionRows(opened)})`
  const checked = await writePostings(tx, postings, {
    ctes,
    columns: sql`(SELECT count(*) FROM ord) AS orders,
      (SELECT json_agg(json_build_object('id', id, 'filled_qty', filled_qty, 'fills', total))
        FROM ord WHERE total <> filled_qty) AS mismatched,
      (SELECT json_agg(json_build_object('id', id, 'qty', total, 'value', value)) FROM ord)
        AS totals`,
  })
  // filled_qty is only ever the sum of the order's fills
  type Mismatch = { id: number; filled_qty: number; fills: number }
  const [m] = (checked.mismatched as Mismatch[] | null) ?? []
  if (m) reject(undefined, `order ${m.id}: filled_qty ${m.filled_qty}, its fills ${m.fills}`)
  if (Number(checked.orders) !== touched.length) reject(undefined, 'an order of another symbol')
  const totals = checked.totals as { id: number; qty: number; value: number }[]
  return new Map(totals.map((t) => [Number(t.id), { qty: Number(t.qty), value: Number(t.value) }]))
}
