// How an order reads in the API: POST's answer (as the book acked it), GET's (as Postgres has
// it), and the account stream's (src/accounts/stream.ts): one shape, built here.
import type { fills } from '../db/schema.ts'
import type { Ack, OutboxFill } from '../engine/journal.ts'
import { formatCents } from '../lib/money.ts'
import { isActive, requestOf } from './rules.ts'
import type { AckOutcome } from './rules.ts'
import type { OrderRow } from './service.ts'

const money = (cents: number | null) => (cents === null ? null : formatCents(cents))

/** the order's fields the client gave (and the collar the gateway added) */
const orderFields = (o: OrderRow) => ({
  id: o.id,
  client_order_id: o.clientOrderId,
  symbol: o.symbol,
  side: o.side,
  type: o.type,
  qty: o.qty,
  price: o.type === 'limit' || o.type === 'stop_limit' ? money(o.priceCents) : null,
  stop_price: money(o.stopPriceCents),
  /** market and stop orders: the worst price they may trade at */
  collar_price: o.type === 'market' || o.type === 'stop' ? money(o.priceCents) : null,
  time_in_force: o.timeInForce.toLowerCase(),
  post_only: o.postOnly,
})

const ackFillView = (orderId: number) => (f: OutboxFill) => ({
  fill_seq: f.fillSeq,
  qty: f.qty,
  price: formatCents(f.price),
  liquidity: f.taker === orderId ? 'taker' : 'maker',
  venue: f.venue ?? 'BOURSE',
  ts: new Date(f.ts).toISOString(),
})

/** what the book left of the order went to a venue (issue 7): where, and how many shares */
function routedView(ack: Ack, orderId: number) {
  const routed = ack.events.find((e) => e.type === 'routed' && e.id === orderId)
  return routed?.type === 'routed' ? { venue: routed.venue, qty: routed.qty } : null
}

/** POST's answer: the order as the book acked it (fills reach Postgres through the drain). */
export const ackView = (o: OrderRow, ack: Ack, out: AckOutcome) => ({
  ...orderFields(o),
  // as requested: a replay answers as the first answer did, though a PATCH reduced it since
  qty: requestOf(o).qty,
  status: out.status,
  filled_qty: out.filledQty,
  open_qty: out.status === 'open' || out.status === 'partial' ? requestOf(o).qty - out.filledQty : 0,
  avg_fill_price: money(out.avgPriceCents),
  fills: out.fills.map(ackFillView(o.id)),
  reason: out.reason,
  routed: routedView(ack, o.id),
  book_seq: ack.seq,
  created_at: o.createdAt.toISOString(),
  acked_at: new Date(ack.ts).toISOString(),
})

/** GET's answer: the order as Postgres has it (fills applied by the drain) */
export const orderView = (o: OrderRow, rows?: (typeof fills.$inferSelect)[]) => ({
  ...orderFields(o),
  status: o.status,
  filled_qty: o.filledQty,
  open_qty: isActive(o.status) ? o.qty - o.filledQty : 0,
  avg_fill_price: money(o.avgPriceCents),
  reserved_cash: formatCents(o.reservedCashCents),
  reserved_qty: o.reservedQty,
  reason: o.reason,
  ...(rows && {
    fills: rows.map((f) => ({
      fill_seq: f.seq,
      qty: f.qty,
      price: formatCents(f.priceCents),
      liquidity: f.taker ? 'taker' : 'maker',
      venue: f.venue,
      ts: f.ts.toISOString(),
    })),
  }),
  created_at: o.createdAt.toISOString(),
  updated_at: o.updatedAt.toISOString(),
  filled_at: o.filledAt?.toISOString() ?? null,
})

