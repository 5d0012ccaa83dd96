// Applying what a symbol's book did to an order besides filling it: a cancel or an expiry of its
// open quantity, a rejection at entry, an amend that cut it. Each releases what the order held
// for the quantity that left the book (buys: qty × reserve price of cash; sells: qty shares) and,
// but for an amend, ends the order.
//
// Two paths apply the same events: the gateway, at once, from the ack it got (so the response
// shows the release), and the symbol's outbox drain, later (so a crash between the book and
// Postgres loses nothing). A row in order_events, keyed by (symbol, book seq, order id), is
// inserted first: whichever path inserts it applies the event, the other finds it and does
// nothing. Both run under the same locks as fills (the user's row, then the order's), so they
// commute with fills as fills.ts describes.
import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm'
import { postCash } from '../accounts/ledger.ts'
import { accountUpdate, orderUpdate } from '../accounts/stream.ts'
import type { AccountEvent } from '../accounts/stream.ts'
import { appendAudit } from '../audit/chain.ts'
import type { Db, Tx } from '../db/client.ts'
import { fills, orderEvents, orders, positions, routedOrders, users } from '../db/schema.ts'
import type { OutboxOrderEvent, RoutedEvent } from '../engine/journal.ts'
import { FillRejected, withRetries } from './fills.ts'
import { isActive } from './rules.ts'

type OrderRow = typeof orders.$inferSelect
export type BookOrderEvent = Omit<OutboxOrderEvent, 'id'>

/** The user's row, then the orders' rows (by id), locked: the lock order of fills.ts. */
export async function lockOrders(tx: Tx, ids: number[]): Promise<Map<number, OrderRow>> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b)
  const owners = await tx
    .select({ userId: orders.userId })
    .from(orders)
    .where(inArray(orders.id, sorted))
  const userIds = [...new Set(owners.map((o) => o.userId))].sort((a, b) => a - b)
  if (userIds.length > 0) {
    await tx
      .select({ id: users.id })
      .from(users)
      .where(inArray(users.id, userIds))
      .orderBy(asc(users.id))
      .for('update')
  }
  const rows = await tx
    .select()
    .from(orders)
    .where(inArray(orders.id, sorted))
    .orderBy(asc(orders.id))
    .for('update')
  return new Map(rows.map((o) => [o.id, o]))
}

/**
 * Applies a batch of a symbol's order events (the drain), in one transaction, each at most once;
 * returns how many it applied and the users' stream events of all of them (those the gateway
 * applied first too: the stream shows each once, by its key). Throws FillRejected when an event
 * does not fit Postgres (nothing of the batch is applied), and a plain Error when an amend's
 * earlier fills are not in Postgres yet (retry later).
 */
export async function applyOrderEvents(db: Db, symbol: string, batch: BookOrderEvent[]) {
  if (batch.length === 0) return { applied: 0, events: [] }
  return withRetries(() =>
    db.transaction(async (tx) => {
      const locked = await lockOrders(
        tx,
        batch.map((e) => e.event.id),
      )
      let applied = 0
      const events: AccountEvent[] = []
      for (const e of batch) {
        const order = locked.get(e.event.id)
        if (!order) throw new FillRejected(symbol, undefined, `event for unknown order ${e.event.id}`)
        const after = await applyOrderEvent(tx, symbol, e, order)
        if (after) {
          locked.set(order.id, after)
          applied++
        }
        const update = UPDATES[e.event.type as keyof typeof UPDATES]
        events.push(orderUpdate(`event:${symbol}:${e.seq}`, update, after ?? order, e.ts))
      }
      const owners = [...new Set([...locked.values()].map((o) => o.userId))]
      const balances = await tx
        .select({ id: users.id, cash: users.cashCents, reserved: users.reservedCashCents })
        .from(users)
        .where(inArray(users.id, owners))
      // (one close expires many orders under one book seq: name the batch by its first and last)
      const [first, last] = [batch[0], batch[batch.length - 1]]
      const key = `events:${symbol}:${first.seq}.${first.event.id}-${last.seq}.${last.event.id}`
      for (const b of balances) events.push(accountUpdate(key, b.id, b, Date.now()))
      return { applied, events }
    }),
  )
}

/** How a user's stream names each kind of order event. */
const UPDATES = {
  canceled: 'canceled',
  expired: 'expired',
  rejected: 'rejected',
  amended: 'reduced',
  routed: 'routed',
} as const

/**
 * Applies one event to its order, locked by the caller (lockOrders). `filledBefore`: the order's
 * fills made before an amend, when the caller counted them (the gateway, with the book's outbox);
 * otherwise they are read from Postgres, which must have them all. Returns the order after, or
 * undefined when the event was applied already.
 */
export async function applyOrderEvent(
  tx: Tx,
  symbol: string,
  e: BookOrderEvent,
  order: OrderRow,
  filledBefore?: number,
): Promise<OrderRow | undefined> {
  const ev = e.event
  if (order.symbol !== symbol) {
    throw new FillRejected(symbol, undefined, `order ${order.id} is an order of ${order.symbol}`)
  }
  if (ev.type === 'routed') return recordRoute(tx, symbol, e.ts, ev, order)
  // an order Postgres already ended (or one acked before order events existed) holds nothing more
  const active = isActive(order.status)
  // ...but for an amend's cut that reaches Postgres after a later cancel or expiry (the amend's
  // own transaction lost to a crash, the drain bringing it later): that end released only what
  // was open after the amend, so the cut is still held (a fill that ends an order releases all)
  const cutStillHeld = ev.type === 'amended' && (order.status === 'canceled' || order.status === 'expired')
  let released = 0
  // an amend applied already, or one a later amend of the order reached Postgres before (a drain
  // behind two PATCHes, or this one's own transaction lost): that later cut was taken from the
  // quantity before this one, so it covers it and this one releases nothing
  const latestAmend = ev.type === 'amended' ? await latestAmendSeq(tx, symbol, order.id, e.seq) : undefined
  if (latestAmend === e.seq) return undefined
  if (ev.type === 'amended') {
    if ((active || cutStillHeld) && latestAmend === undefined) {
      released = await cut(tx, symbol, e, order, filledBefore)
    }
  } else if (active) {
    released = ev.type === 'rejected' ? order.qty : ev.qty
  }
  const [recorded] = await tx
    .insert(orderEvents)
    .values({
      symbol,
      seq: e.seq,
      orderId: order.id,
      type: ev.type,
      qty: ev.type === 'rejected' ? null : ev.qty,
      releasedQty: released,
      reason: 'reason' in ev ? ev.reason : null,
      ts: new Date(e.ts),
    })
    .onConflictDoNothing()
    .returning()
  if (!recorded) return undefined
  if ((!active && !cutStillHeld) || released === 0) return order
  return release(tx, order, ev.type, released, 'reason' in ev ? ev.reason : null)
}

/**
 * The best-execution record of a routed order (once); the order keeps what it holds for the
 * routed quantity until the venue's fills or its end arrive.
 */
async function recordRoute(tx: Tx, symbol: string, ts: number, ev: RoutedEvent, order: OrderRow) {
  const { bid, ask } = ev.nbbo
  const [recorded] = await tx
    .insert(routedOrders)
    .values({
      orderId: order.id,
      symbol,
      venue: ev.venue,
      clOrdId: ev.clOrdId,
      qty: ev.qty,
      limitCents: ev.price,
      nbboBidCents: bid?.price ?? null,
      nbboBidVenue: bid?.venue ?? null,
      nbboAskCents: ask?.price ?? null,
      nbboAskVenue: ask?.venue ?? null,
      decidedAt: new Date(ts),
    })
    .onConflictDoNothing()
    .returning()
  if (!recorded) return undefined
  await appendAudit(tx, order.userId, 'order.routed', {
    order_id: order.id, symbol, venue: ev.venue, qty: ev.qty, cl_ord_id: ev.clOrdId,
  })
  return order
}

/**
 * What an amend cuts: the order's quantity in Postgres, less its fills before the amend, less the
 * new open quantity. `filledBefore` as applyOrderEvent has it.
 */
async function cut(tx: Tx, symbol: string, e: BookOrderEvent, order: OrderRow, filledBefore?: number) {
  const ev = e.event as Extract<BookOrderEvent['event'], { type: 'amended' }>
  const before = filledBefore ?? (await filledThrough(tx, symbol, order.id, e.fillsBefore))
  // 0: the order has the cut already (a gateway of the previous version made it during a
  // deploy, without an order_events row)
  const released = order.qty - before - ev.qty
  if (released < 0) {
    const open = order.qty - before
    throw new FillRejected(symbol, undefined, `order ${order.id}: amend to ${ev.qty} of ${open} open`)
  }
  return released
}

/** The book seq of the order's last amend in Postgres at or after `seq`, if any. */
async function latestAmendSeq(tx: Tx, symbol: string, orderId: number, seq: number) {
  const [row] = await tx
    .select({ seq: orderEvents.seq })
    .from(orderEvents)
    .where(
      and(
        eq(orderEvents.symbol, symbol),
        eq(orderEvents.orderId, orderId),
        eq(orderEvents.type, 'amended'),
        gte(orderEvents.seq, seq),
      ),
    )
    .orderBy(desc(orderEvents.seq))
    .limit(1)
  return row?.seq
}

/** The order's fills with fill sequence ≤ `fillSeq`, which Postgres must have all of. */
async function filledThrough(tx: Tx, symbol: string, orderId: number, fillSeq: number) {
  const [{ last }] = await tx
    .select({ last: sql<number>`coalesce(max(${fills.seq}), 0)`.mapWith(Number) })
    .from(fills)
    .where(eq(fills.symbol, symbol))
  if (last < fillSeq) throw new Error(`${symbol}: fills through #${fillSeq} are not in Postgres yet`)
  const [{ qty }] = await tx
    .select({ qty: sql<number>`coalesce(sum(${fills.qty}), 0)`.mapWith(Number) })
    .from(fills)
    .where(and(eq(fills.orderId, orderId), lte(fills.seq, fillSeq)))
  return qty
}

const ACTIONS = {
  canceled: 'order.canceled',
  expired: 'order.expired',
  rejected: 'order.rejected',
  amended: 'order.reduced',
} as const

/** An amend's new quantity; an active order its fills have reached by then is filled. */
function amendedTo(order: OrderRow, qty: number) {
  const filled = isActive(order.status) && order.filledQty === qty
  return { qty, ...(filled && { status: 'filled' as const, filledAt: sql`now()` }) }
}

/** Releases `qty` shares' worth of what the order holds; ends it unless it was an amend. */
async function release(
  tx: Tx,
  order: OrderRow,
  type: keyof typeof ACTIONS,
  qty: number,
  reason: string | null,
): Promise<OrderRow> {
  const reservePrice = order.reservePriceCents ?? order.priceCents ?? 0
  const cash = order.side === 'buy' ? qty * reservePrice : 0
  const shares = order.side === 'sell' ? qty : 0
  const [after] = await tx
    .update(orders)
    .set({
      ...(type === 'amended' ? amendedTo(order, order.qty - qty) : { status: type, reason }),
      reservedCashCents: sql`${orders.reservedCashCents} - ${cash}`,
      reservedQty: sql`${orders.reservedQty} - ${shares}`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(orders.id, order.id),
        sql`${orders.reservedCashCents} >= ${cash}`,
        sql`${orders.reservedQty} >= ${shares}`,
      ),
    )
    .returning()
  if (!after) {
    throw new FillRejected(order.symbol, undefined, `order ${order.id} holds less than ${qty} shares' worth`)
  }
  const data = { order_id: order.id, symbol: order.symbol, qty, reason, status: after.status }
  if (cash > 0) {
    const posted = await postCash(tx, {
      userId: order.userId,
      kind: 'release',
      cashDelta: 0,
      reservedDelta: -cash,
      refType: 'order',
      refId: String(order.id),
      action: ACTIONS[type],
      data,
    })
    if (!posted.ok) throw new FillRejected(order.symbol, undefined, `order ${order.id}: cannot release ${cash} cents`)
  } else {
    if (shares > 0) {
      await tx
        .update(positions)
        .set({ reservedQty: sql`${positions.reservedQty} - ${shares}`, updatedAt: sql`now()` })
        .where(and(eq(positions.userId, order.userId), eq(positions.symbol, order.symbol)))
    }
    await appendAudit(tx, order.userId, ACTIONS[type], data)
  }
  return after
}
