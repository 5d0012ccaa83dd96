// The one way cash and reserved cash change: a conditional UPDATE that refuses any result
// breaking 0 ≤ reserved ≤ cash, then the ledger entry with the balances after it, then the audit
// entry — inside the caller's transaction. Deposits and withdrawals use it now; issue 4's order
// reservations (reserve/release) and fill settlement (trade, fee) are the same call with other
// deltas:
//   withdraw X:    cash -X                → refused when X > cash - reserved
//   reserve R:     reserved +R            → refused when R > cash - reserved
//   release R:     reserved -R            → refused when R > reserved
//   buy fill C:    cash -C, reserved -C   (the reservation pays for it)
import { and, eq, gte, lte, sql } from 'drizzle-orm'
import { appendAudit } from '../audit/chain.ts'
import type { DbOrTx } from '../db/client.ts'
import { cashLedger, users } from '../db/schema.ts'

export type LedgerKind = (typeof cashLedger.kind.enumValues)[number]

export interface CashChange {
  userId: number
  kind: LedgerKind
  /** signed change of cash, cents */
  cashDelta: number
  /** signed change of reserved cash, cents */
  reservedDelta?: number
  refType?: string
  refId?: string
  idempotencyKey?: string
  /** transfer_in: the shares received */
  symbol?: string
  qty?: number
  /** audit action; defaults to `cash.<kind>` */
  action?: string
  /** extra audit data */
  data?: Record<string, unknown>
}

export type CashPosting =
  | { ok: true; entry: typeof cashLedger.$inferSelect }
  | { ok: false; reason: 'insufficient' }

/** Must run inside a transaction. Returns ok: false (and changes nothing) when refused. */
export async function postCash(tx: DbOrTx, change: CashChange): Promise<CashPosting> {
  const cashDelta = change.cashDelta
  const reservedDelta = change.reservedDelta ?? 0
  if (!Number.isSafeInteger(cashDelta) || !Number.isSafeInteger(reservedDelta)) {
    throw new RangeError('cash deltas must be integer cents')
  }
  const cashAfter = sql`${users.cashCents} + ${cashDelta}`
  const reservedAfter = sql`${users.reservedCashCents} + ${reservedDelta}`
  const [after] = await tx
    .update(users)
    .set({ cashCents: cashAfter, reservedCashCents: reservedAfter })
    .where(
      and(
        eq(users.id, change.userId),
        gte(reservedAfter, 0),
        lte(reservedAfter, cashAfter),
        lte(cashAfter, Number.MAX_SAFE_INTEGER),
      ),
    )
    .returning({ cash: users.cashCents, reserved: users.reservedCashCents })
  if (!after) return { ok: false, reason: 'insufficient' }
  const [entry] = await tx
    .insert(cashLedger)
    .values({
      userId: change.userId,
      kind: change.kind,
      amountCents: cashDelta,
      reservedDeltaCents: reservedDelta,
      cashAfterCents: after.cash,
      reservedAfterCents: after.reserved,
      refType: change.refType ?? null,
      refId: change.refId ?? null,
      idempotencyKey: change.idempotencyKey ?? null,
      symbol: change.symbol ?? null,
      qty: change.qty ?? null,
    })
    .returning()
  await appendAudit(tx, change.userId, change.action ?? `cash.${change.kind}`, {
    ...change.data,
    ledger_id: entry.id,
    amount_cents: cashDelta,
    ...(reservedDelta ? { reserved_delta_cents: reservedDelta } : {}),
    cash_after_cents: after.cash,
    reserved_after_cents: after.reserved,
  })
  return { ok: true, entry }
}
