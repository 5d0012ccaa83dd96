// What a user's private stream (GET /v1/stream, src/do/account-stream.ts) shows: their orders'
// updates and their account's changes, built where they happen — the symbol's object when its
// book accepts an order, the drain and the gateway when Postgres has applied a fill or an order
// event — and published to the user's AccountStream object once committed. Each event has a key
// naming what caused it, so publishing it again (a retried drain) shows it once.
import type { orders } from '../db/schema.ts'
import type { NewOrder } from '../engine/types.ts'
import { formatCents } from '../lib/money.ts'
import { orderView } from '../orders/views.ts'

type OrderRow = typeof orders.$inferSelect

export type OrderUpdate =
  | 'accepted'
  | 'partial_fill'
  | 'fill'
  | 'canceled'
  | 'expired'
  | 'rejected'
  | 'reduced'
  /** what the book did not fill went to a venue (issue 7) */
  | 'routed'

export type AccountEvent = { key: string; userId: number; ts: number } & (
  | { type: 'order'; event: OrderUpdate; order: Record<string, unknown>; fill?: Record<string, unknown> }
  | { type: 'account'; cash: string; reserved_cash: string; buying_power: string; position?: Record<string, unknown> }
)

/** The book took a new order (its own events: resting, filled at once, canceled, rejected). */
export function accepted(symbol: string, seq: number, o: NewOrder, status: string, filled: number, ts: number): AccountEvent {
  return {
    key: `new:${symbol}:${o.id}`,
    userId: o.user,
    ts,
    type: 'order',
    event: status === 'rejected' ? 'rejected' : 'accepted',
    order: {
      id: o.id,
      symbol,
      side: o.side,
      type: o.type,
      qty: o.qty,
      status,
      filled_qty: filled,
      open_qty: status === 'open' || status === 'partial' ? o.qty - filled : 0,
      book_seq: seq,
    },
  }
}

/** The order as Postgres has it after a change: as GET /v1/orders/:id shows it, with its open qty. */
export const orderState = (o: OrderRow) => ({
  ...orderView(o),
  open_qty: ['pending', 'open', 'partial'].includes(o.status) ? o.qty - o.filledQty : 0,
})

/** An order's update once Postgres committed it; `key` names its cause. */
export function orderUpdate(
  key: string,
  event: OrderUpdate,
  o: OrderRow,
  ts: number,
  fill?: { fill_seq: number; qty: number; price: number; liquidity: 'maker' | 'taker' },
): AccountEvent {
  return {
    key: `${key}:${o.id}`,
    userId: o.userId,
    ts,
    type: 'order',
    event,
    order: orderState(o),
    ...(fill && { fill: { ...fill, price: formatCents(fill.price) } }),
  }
}

/** The account's balances (and a position) once Postgres committed a change. */
export function accountUpdate(
  key: string,
  userId: number,
  cash: { cash: number; reserved: number },
  ts: number,
  position?: { symbol: string; qty: number; reservedQty: number; costCents: number },
): AccountEvent {
  return {
    key: `${key}:account:${userId}`,
    userId,
    ts,
    type: 'account',
    cash: formatCents(cash.cash),
    reserved_cash: formatCents(cash.reserved),
    buying_power: formatCents(cash.cash - cash.reserved),
    ...(position && {
      position: {
        symbol: position.symbol,
        qty: position.qty,
        reserved_qty: position.reservedQty,
        cost_basis: formatCents(position.costCents),
      },
    }),
  }
}

/** Where events go: each user's AccountStream object (the symbol object keeps the stubs). */
export type Publish = (events: AccountEvent[]) => Promise<void>

/** Groups events by user, in order, and hands each user's to `send`. */
export async function publishByUser(
  events: AccountEvent[],
  send: (userId: number, events: AccountEvent[]) => Promise<unknown>,
) {
  const byUser = new Map<number, AccountEvent[]>()
  for (const e of events) byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), e])
  await Promise.all([...byUser].map(([userId, list]) => send(userId, list)))
}
