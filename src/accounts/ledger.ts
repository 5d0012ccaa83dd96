// The one way cash and reserved cash change: with the user's row locked, a change that would break
// 0 ≤ reserved ≤ cash is refused; otherwise one statement writes the balances, the ledger entry
// with the balances after it and the audit entry — inside the caller's transaction. Deposits and withdrawals use it now; issue 4's order
// reservations (reserve/release) and fill settlement (trade, fee) are the same call with other
// deltas:
//   withdraw X:    cash -X                → refused when X > cash - reserved
//   reserve R:     reserved +R            → refused when R > cash - reserved
//   release R:     reserved -R            → refused when R > reserved
//   buy fill C:    cash -C, reserved -C   (the reservation pays for it)
import { asc, eq, inArray, sql } from 'drizzle-orm'
import { auditEntry, insertAuditEntry } from '../audit/chain.ts'
import type { AuditHead } from '../audit/chain.ts'
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

/**
 * A user's row as this transaction locked it (FOR UPDATE), kept up to date by each posting, and
 * ids for its next ledger entries (several users may share one pool of ids).
 */
export interface LockedUser {
  cash: number
  reserved: number
  audit: AuditHead
  ledgerIds: number[]
}

const nextLedgerId = sql<number>`nextval(pg_get_serial_sequence('cash_ledger', 'id'))`.mapWith(Number)

/**
 * Locks the users' rows (by id: the lock order) and reads what postings need, and each user's
 * short limit; `ids`: the ledger ids they will share.
 */
export async function lockUsersForCash(tx: DbOrTx, userIds: number[], ids: number[]) {
  const rows = await tx
    .select({
      id: users.id,
      shortLimit: users.shortLimitQty,
      cash: users.cashCents,
      reserved: users.reservedCashCents,
      auditSeq: users.auditSeq,
      auditHead: users.auditHead,
    })
    .from(users)
    .where(inArray(users.id, userIds))
    .orderBy(asc(users.id))
    .for('update')
  return new Map(
    rows.map((r) => [
      r.id,
      {
        cash: r.cash,
        reserved: r.reserved,
        audit: { seq: r.auditSeq, hash: r.auditHead },
        ledgerIds: ids,
        shortLimit: r.shortLimit,
      },
    ]),
  )
}

/** `n` ledger entry ids, in one round trip. */
export async function ledgerIds(tx: DbOrTx, n: number): Promise<number[]> {
  const rows = await tx.execute<{ id: string }>(
    sql`SELECT nextval(pg_get_serial_sequence('cash_ledger', 'id')) AS id FROM generate_series(1, ${n}::int)`,
  )
  return rows.rows.map((r) => Number(r.id))
}

async function lockUserForCash(tx: DbOrTx, userId: number): Promise<LockedUser | undefined> {
  const [row] = await tx
    .select({
      cash: users.cashCents,
      reserved: users.reservedCashCents,
      seq: users.auditSeq,
      hash: users.auditHead,
      id: nextLedgerId,
    })
    .from(users)
    .where(eq(users.id, userId))
    .for('update')
  return (
    row && { cash: row.cash, reserved: row.reserved, audit: { seq: row.seq, hash: row.hash }, ledgerIds: [row.id] }
  )
}

/**
 * Must run inside a transaction. Returns ok: false (and changes nothing) when refused. `locked`:
 * the user's row as the caller locked it in this transaction, which saves a read; the posting
 * brings it up to date. One statement writes the balances, the ledger entry and the audit entry.
 */
export async function postCash(
  tx: DbOrTx,
  change: CashChange,
  locked?: LockedUser,
): Promise<CashPosting> {
  const cashDelta = change.cashDelta
  const reservedDelta = change.reservedDelta ?? 0
  if (!Number.isSafeInteger(cashDelta) || !Number.isSafeInteger(reservedDelta)) {
    throw new RangeError('cash deltas must be integer cents')
  }
  const user = locked ?? (await lockUserForCash(tx, change.userId))
  if (!user) return { ok: false, reason: 'insufficient' }
  const id = user.ledgerIds.shift() ?? (await ledgerIds(tx, 1))[0]
  const posting = cashEntry(change, user, id)
  if (!posting) return { ok: false, reason: 'insufficient' }
  const { entry } = posting
  const audit = await auditEntry(
    change.userId,
    user.audit,
    change.action ?? `cash.${change.kind}`,
    { ...change.data, ...posting.auditData },
  )
  const result = await tx.execute(sql`
    WITH moved AS (
      UPDATE users SET cash_cents = ${entry.cashAfterCents},
        reserved_cash_cents = ${entry.reservedAfterCents},
        audit_seq = ${audit.seq}, audit_head = ${audit.hash}
      WHERE id = ${change.userId} AND audit_seq = ${user.audit.seq} RETURNING id),
    ledger AS (${insertLedgerEntry(entry)})
    ${insertAuditEntry(audit)}`)
  if (result.rowCount !== 1) throw new Error(`postCash: user ${change.userId}'s row moved`)
  Object.assign(user, {
    cash: entry.cashAfterCents,
    reserved: entry.reservedAfterCents,
    audit: { seq: audit.seq, hash: audit.hash },
  })
  return { ok: true, entry }
}

export type LedgerEntry = typeof cashLedger.$inferSelect

/**
 * A cash change as the ledger entry it writes and the audit data it adds, from the user's
 * balances before it; undefined when it would break 0 ≤ reserved ≤ cash.
 */
export function cashEntry(
  change: CashChange,
  before: { cash: number; reserved: number },
  id: number,
  at = new Date(),
): { entry: LedgerEntry; auditData: Record<string, unknown> } | undefined {
  const reservedDelta = change.reservedDelta ?? 0
  const cashAfter = before.cash + change.cashDelta
  const reservedAfter = before.reserved + reservedDelta
  if (reservedAfter < 0 || reservedAfter > cashAfter || cashAfter > Number.MAX_SAFE_INTEGER) {
    return undefined
  }
  const entry: LedgerEntry = {
    id,
    userId: change.userId,
    kind: change.kind,
    amountCents: change.cashDelta,
    reservedDeltaCents: reservedDelta,
    cashAfterCents: cashAfter,
    reservedAfterCents: reservedAfter,
    refType: change.refType ?? null,
    refId: change.refId ?? null,
    idempotencyKey: change.idempotencyKey ?? null,
    symbol: change.symbol ?? null,
    qty: change.qty ?? null,
    createdAt: at,
  }
  const auditData = {
    ledger_id: id,
    amount_cents: change.cashDelta,
    ...(reservedDelta ? { reserved_delta_cents: reservedDelta } : {}),
    cash_after_cents: cashAfter,
    reserved_after_cents: reservedAfter,
  }
  return { entry, auditData }
}

/** INSERT of the ledger entry, for the row of a CTE named `moved` (the user's row, updated). */
export const insertLedgerEntry = (e: LedgerEntry) => sql`
  INSERT INTO cash_ledger (id, user_id, kind, amount_cents, reserved_delta_cents,
    cash_after_cents, reserved_after_cents, ref_type, ref_id, idempotency_key, symbol, qty,
    created_at)
  OVERRIDING SYSTEM VALUE
  SELECT ${e.id}::bigint, id, ${e.kind}::ledger_kind, ${e.amountCents}::bigint,
    ${e.reservedDeltaCents}::bigint, ${e.cashAfterCents}::bigint, ${e.reservedAfterCents}::bigint,
    ${e.refType}::text, ${e.refId}::text, ${e.idempotencyKey}::text, ${e.symbol}::text,
    ${e.qty}::bigint, ${e.createdAt.toISOString()}::timestamptz
  FROM moved`
