// Reserving what a new order needs, in two round trips and no explicit transaction (every round
// trip to Postgres is latency on the order path; BEGIN and COMMIT would be two more):
//  1. one read, no lock: the user's balances and audit head, the symbol, the position, and ids
//     for the order and its ledger entry (nextval);
//  2. one statement that writes it all (the user's reservation and audit head, the order, the
//     ledger entry or the position's reserved shares, the audit entry), guarded by the user's
//     audit_seq: every change to a user's money or holdings appends to that user's audit chain,
//     so an unchanged audit_seq means the balances read in 1 are still the balances. A guard
//     that fails writes nothing (each part selects from the guarded UPDATE), and the reservation
//     is tried again from 1; after 5 lost races, with the user's row locked for the try (the
//     account waits its turn instead of losing every race; 503 account_busy after 20).
// The checks the gateway makes on the values read (buying power, shares, the day-trade rule) are
// therefore exact; the database's own checks (users_reserved_cash_range, the positions trigger)
// stand behind them.
import { sql } from 'drizzle-orm'
import type { AuditData } from '../audit/chain.ts'
import { cashEntry, insertLedgerEntry } from '../accounts/ledger.ts'
import { auditEntry, insertAuditEntry } from '../audit/chain.ts'
import type { DbOrTx } from '../db/client.ts'
import type { OrderRequest, orders } from '../db/schema.ts'
import type { OrderPlan } from './rules.ts'

type OrderRow = typeof orders.$inferSelect

/** What reserving needs to know, read in one round trip without a lock. */
export interface AccountSnapshot {
  cash: number
  reserved: number
  auditSeq: number
  auditHead: string | null
  nextOrderId: number
  nextLedgerId: number
  /** the position in the order's symbol (0 and 0 without one) */
  hasPosition: boolean
  heldQty: number
  heldReserved: number
}

/**
 * Writes the order and its reservation if the user's row is still as `snap` read it and no order
 * of the user has the same Idempotency-Key or client_order_id. Returns the order, or undefined
 * when nothing was written (the caller looks for a repeated key, else reads and tries again).
 */
export async function writeReservation(
  db: DbOrTx,
  userId: number,
  snap: AccountSnapshot,
  plan: OrderPlan,
  keys: { clientOrderId: string | null; idempotencyKey: string | null; request: OrderRequest },
  data: AuditData,
): Promise<OrderRow | undefined> {
  const now = new Date()
  const order: OrderRow = {
    id: snap.nextOrderId,
    userId,
    symbol: plan.symbol,
    side: plan.side,
    type: plan.type,
    timeInForce: plan.tif,
    postOnly: plan.postOnly,
    qty: plan.qty,
    priceCents: plan.priceCents,
    stopPriceCents: plan.stopPriceCents,
    reservePriceCents: plan.reservePriceCents,
    status: 'pending',
    filledQty: 0,
    avgPriceCents: null,
    reservedCashCents: plan.reserveCashCents,
    reservedQty: plan.reserveQty,
    reason: null,
    clientOrderId: keys.clientOrderId,
    idempotencyKey: keys.idempotencyKey,
    request: keys.request,
    createdAt: now,
    updatedAt: now,
    filledAt: null,
  }
  const buy = plan.side === 'buy'
  const reservation = buy
    ? cashEntry(
        {
          userId,
          kind: 'reserve',
          cashDelta: 0,
          reservedDelta: plan.reserveCashCents,
          refType: 'order',
          refId: String(order.id),
        },
        snap,
        snap.nextLedgerId,
        now,
      )
    : undefined
  if (buy && !reservation) throw new Error(`user ${userId}: reserving beyond the checked buying power`)
  const reservedAfter = reservation?.entry.reservedAfterCents ?? snap.reserved
  const audit = await auditEntry(
    userId,
    { seq: snap.auditSeq, hash: snap.auditHead },
    'order.placed',
    buy ? { ...data, ...reservation!.auditData } : { ...data, reserved_qty: plan.qty },
  )
  const at = now.toISOString()
  const holding = buy
    ? sql`ledger AS (${insertLedgerEntry(reservation!.entry)})`
    : snap.hasPosition
      ? sql`held AS (
          UPDATE positions SET reserved_qty = reserved_qty + ${plan.qty}, updated_at = now()
          FROM moved WHERE positions.user_id = moved.id AND positions.symbol = ${plan.symbol})`
      : // a market maker selling short what it never held (the positions trigger checks the limit)
        sql`held AS (
          INSERT INTO positions (user_id, symbol, reserved_qty)
          SELECT id, ${plan.symbol}::text, ${plan.qty}::bigint FROM moved)`
  const result = await db.execute(sql`
    WITH moved AS (
      UPDATE users SET reserved_cash_cents = ${reservedAfter}, audit_seq = ${audit.seq},
        audit_head = ${audit.hash}
      WHERE id = ${userId} AND audit_seq = ${snap.auditSeq}
        AND NOT EXISTS (SELECT 1 FROM orders WHERE user_id = ${userId}
          AND (idempotency_key = ${keys.idempotencyKey}::text
            OR client_order_id = ${keys.clientOrderId}::text))
      RETURNING id),
    placed AS (
      INSERT INTO orders (id, user_id, symbol, side, type, time_in_force, post_only, qty,
        price_cents, stop_price_cents, reserve_price_cents, reserved_cash_cents, reserved_qty,
        client_order_id, idempotency_key, request, created_at, updated_at)
      OVERRIDING SYSTEM VALUE
      SELECT ${order.id}::bigint, id, ${plan.symbol}::text, ${plan.side}::order_side,
        ${plan.type}::order_type, ${plan.tif}::order_tif, ${plan.postOnly}::boolean,
        ${plan.qty}::bigint, ${plan.priceCents}::bigint, ${plan.stopPriceCents}::bigint,
        ${plan.reservePriceCents}::bigint, ${plan.reserveCashCents}::bigint,
        ${plan.reserveQty}::bigint, ${keys.clientOrderId}::text, ${keys.idempotencyKey}::text,
        ${JSON.stringify(keys.request)}::jsonb, ${at}::timestamptz, ${at}::timestamptz
      FROM moved),
    ${holding}
    ${insertAuditEntry(audit)}`)
  return result.rowCount === 1 ? order : undefined
}
