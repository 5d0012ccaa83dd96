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
import type { SQL } from 'drizzle-orm'
import { auditEntry } from '../audit/chain.ts'
import type { AuditEntry, AuditHead } from '../audit/chain.ts'
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
  const user = locked ?? (await lockUserForCash(tx, change.userId))
  if (!user) return { ok: false, reason: 'insufficient' }
  if (user.ledgerIds.length === 0) user.ledgerIds.push(...(await ledgerIds(tx, 1)))
  const posting = await stageCash(change, user)
  if (!posting) return { ok: false, reason: 'insufficient' }
  await writePostings(tx, [posting])
  return { ok: true, entry: posting.entry }
}

/** A cash change computed against a locked user's row, not yet written (writePostings). */
export interface Posting {
  entry: LedgerEntry
  audit: AuditEntry
}

/**
 * Computes a cash change against `user` (locked by this transaction, with a ledger id ready) and
 * brings `user` up to date, without writing; undefined (and `user` unchanged) when refused. A
 * batch stages all its changes, then writes them together with writePostings.
 */
export async function stageCash(
  change: CashChange,
  user: LockedUser,
): Promise<Posting | undefined> {
  const { cashDelta, reservedDelta = 0 } = change
  if (!Number.isSafeInteger(cashDelta) || !Number.isSafeInteger(reservedDelta)) {
    throw new RangeError('cash deltas must be integer cents')
  }
  const id = user.ledgerIds[0]
  if (id === undefined) throw new Error('stageCash: no ledger id left')
  const posting = cashEntry(change, user, id)
  if (!posting) return undefined
  user.ledgerIds.shift()
  const audit = await auditEntry(
    change.userId,
    user.audit,
    change.action ?? `cash.${change.kind}`,
    { ...change.data, ...posting.auditData },
  )
  Object.assign(user, {
    cash: posting.entry.cashAfterCents,
    reserved: posting.entry.reservedAfterCents,
    audit: { seq: audit.seq, hash: audit.hash },
  })
  return { entry: posting.entry, audit }
}

/**
 * Writes staged postings (in the order staged) in one statement: each user's balances and audit
 * head as after its last posting, guarded by its audit_seq before the first, every ledger entry
 * and every audit entry. `more`: the caller's own CTEs to run in the same statement, and the
 * columns it selects from them; returns that row.
 */
export async function writePostings(
  tx: DbOrTx,
  postings: Posting[],
  more?: { ctes: SQL; columns: SQL },
): Promise<Record<string, unknown>> {
  const result = await tx.execute<Record<string, unknown>>(sql`
    WITH ${postingsCte(postings)}${more ? sql`, ${more.ctes}` : sql``}
    SELECT (SELECT count(*) FROM moved) AS users${more ? sql`, ${more.columns}` : sql``}`)
  const row = result.rows[0]
  if (Number(row.users) !== new Set(postings.map((p) => p.entry.userId)).size) {
    throw new Error("writePostings: a user's row moved")
  }
  return row
}

/** The CTEs `moved` (the users' rows, updated), `ledger` and `audit` of writePostings. */
function postingsCte(postings: Posting[]): SQL {
  const last = new Map<number, { first: Posting; last: Posting }>()
  for (const p of postings) {
    const seen = last.get(p.entry.userId)
    last.set(p.entry.userId, { first: seen?.first ?? p, last: p })
  }
  const balances = [...last.values()].map(({ first, last: p }) => ({
    id: p.entry.userId,
    cash: p.entry.cashAfterCents,
    reserved: p.entry.reservedAfterCents,
    seq: p.audit.seq,
    head: p.audit.hash,
    prev_seq: first.audit.seq - 1,
  }))
  const entries = postings.map(({ entry: e }) => ({
    id: e.id,
    user_id: e.userId,
    kind: e.kind,
    amount: e.amountCents,
    reserved_delta: e.reservedDeltaCents,
    cash_after: e.cashAfterCents,
    reserved_after: e.reservedAfterCents,
    ref_type: e.refType,
    ref_id: e.refId,
    idempotency_key: e.idempotencyKey,
    symbol: e.symbol,
    qty: e.qty,
    created_at: e.createdAt.toISOString(),
  }))
  const audits = postings.map(({ audit: a }) => ({
    user_id: a.userId,
    seq: a.seq,
    action: a.action,
    data: a.data,
    prev_hash: a.prevHash,
    hash: a.hash,
    created_at: a.createdAt.toISOString(),
  }))
  return sql`
    moved AS (
      UPDATE users u SET cash_cents = v.cash, reserved_cash_cents = v.reserved,
        audit_seq = v.seq, audit_head = v.head
      FROM jsonb_to_recordset(${JSON.stringify(balances)}::jsonb)
        AS v(id bigint, cash bigint, reserved bigint, seq bigint, head text, prev_seq bigint)
      WHERE u.id = v.id AND u.audit_seq = v.prev_seq RETURNING u.id),
    ledger AS (
      INSERT INTO cash_ledger (id, user_id, kind, amount_cents, reserved_delta_cents,
        cash_after_cents, reserved_after_cents, ref_type, ref_id, idempotency_key, symbol, qty,
        created_at)
      OVERRIDING SYSTEM VALUE
      SELECT e.id, user_id, kind, amount, reserved_delta, cash_after, reserved_after, ref_type,
        ref_id, idempotency_key, symbol, qty, created_at
      FROM jsonb_to_recordset(${JSON.stringify(entries)}::jsonb)
        AS e(id bigint, user_id bigint, kind ledger_kind, amount bigint, reserved_delta bigint,
          cash_after bigint, reserved_after bigint, ref_type text, ref_id text,
          idempotency_key text, symbol text, qty bigint, created_at timestamptz)
      JOIN moved ON moved.id = e.user_id),
    audit AS (
      INSERT INTO audit_log (user_id, seq, action, data, prev_hash, hash, created_at)
      SELECT user_id, seq, action, data, prev_hash, hash, created_at
      FROM jsonb_to_recordset(${JSON.stringify(audits)}::jsonb)
        AS a(user_id bigint, seq bigint, action text, data jsonb, prev_hash text, hash text,
          created_at timestamptz)
      JOIN moved ON moved.id = a.user_id)`
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
