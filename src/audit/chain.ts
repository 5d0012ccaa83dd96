// Per-user audit hash chain. Entry n stores hash_n = SHA-256(canonical JSON of
// {user_id, seq, action, data, created_at, prev_hash: hash_{n-1}}), and users.audit_head holds
// the newest hash, so rewriting, dropping or reordering any entry breaks verification.
import { and, asc, eq, gte, sql } from 'drizzle-orm'
import type { DbOrTx } from '../db/client.ts'
import { auditLog, users } from '../db/schema.ts'
import { sha256Hex } from '../auth/tokens.ts'

export type AuditData = Record<string, unknown>

/** JSON with object keys sorted at every level (jsonb does not keep key order). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

export function auditHash(e: {
  userId: number
  seq: number
  action: string
  data: unknown
  createdAt: Date
  prevHash: string | null
}): Promise<string> {
  return sha256Hex(
    canonicalJson({
      user_id: e.userId,
      seq: e.seq,
      action: e.action,
      data: e.data,
      created_at: e.createdAt.toISOString(),
      prev_hash: e.prevHash,
    }),
  )
}

/** A user's chain head as read with the user's row locked. */
export interface AuditHead {
  seq: number
  hash: string | null
}

/**
 * Appends an entry. Must run inside a transaction: it locks the user's row (FOR UPDATE), which
 * also serializes it with every other change to that user's money.
 */
export async function appendAudit(
  tx: DbOrTx,
  userId: number,
  action: string,
  data: AuditData,
): Promise<AuditHead> {
  const [head] = await tx
    .select({ seq: users.auditSeq, hash: users.auditHead })
    .from(users)
    .where(eq(users.id, userId))
    .for('update')
  if (!head) throw new Error(`appendAudit: no user ${userId}`)
  return appendAuditAfter(tx, userId, head, action, data)
}

/**
 * Appends an entry after `head`, which the caller read with the user's row locked in this
 * transaction: one statement (moves the head and inserts the entry). Returns the new head.
 */
export async function appendAuditAfter(
  tx: DbOrTx,
  userId: number,
  head: AuditHead,
  action: string,
  data: AuditData,
): Promise<AuditHead> {
  const entry = await auditEntry(userId, head, action, data)
  const result = await tx.execute(sql`
    WITH moved AS (
      UPDATE users SET audit_seq = ${entry.seq}, audit_head = ${entry.hash}
      WHERE id = ${userId} AND audit_seq = ${head.seq} RETURNING id)
    ${insertAuditEntry(entry)}`)
  if (result.rowCount !== 1) throw new Error(`appendAudit: user ${userId}'s head moved`)
  return { seq: entry.seq, hash: entry.hash }
}

export interface AuditEntry {
  userId: number
  seq: number
  action: string
  data: AuditData
  prevHash: string | null
  hash: string
  createdAt: Date
}

/** The entry that follows `head`, hashed. */
export async function auditEntry(
  userId: number,
  head: AuditHead,
  action: string,
  data: AuditData,
): Promise<AuditEntry> {
  const seq = head.seq + 1
  const createdAt = new Date()
  const hash = await auditHash({ userId, seq, action, data, createdAt, prevHash: head.hash })
  return { userId, seq, action, data, prevHash: head.hash, hash, createdAt }
}

/** INSERT of the entry, once for each row of a CTE named `moved` (the user's row, updated). */
export const insertAuditEntry = (e: AuditEntry) => sql`
  INSERT INTO audit_log (user_id, seq, action, data, prev_hash, hash, created_at)
  SELECT id, ${e.seq}::bigint, ${e.action}::text, ${JSON.stringify(e.data)}::jsonb,
    ${e.prevHash}::text, ${e.hash}::text, ${e.createdAt.toISOString()}::timestamptz
  FROM moved`

export interface ChainCheck {
  valid: boolean
  length: number
  head: string | null
  /** seq of the first entry that does not verify */
  brokenAt?: number
}

/** Re-hashes the user's whole chain, reading it in pages of `pageSize` entries. */
export async function verifyAuditChain(
  db: DbOrTx,
  userId: number,
  pageSize = 1000,
): Promise<ChainCheck> {
  const [user] = await db
    .select({ seq: users.auditSeq, head: users.auditHead })
    .from(users)
    .where(eq(users.id, userId))
  if (!user) return { valid: false, length: 0, head: null }
  let prev: string | null = null
  let expectedSeq = 1
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, userId), gte(auditLog.seq, expectedSeq)))
      .orderBy(asc(auditLog.seq))
      .limit(pageSize)
    for (const row of rows) {
      const expected = await auditHash({ ...row, prevHash: prev })
      if (row.seq !== expectedSeq || row.prevHash !== prev || row.hash !== expected) {
        return { valid: false, length: expectedSeq - 1, head: user.head, brokenAt: expectedSeq }
      }
      prev = row.hash
      expectedSeq++
    }
    if (rows.length < pageSize) break
  }
  const length = expectedSeq - 1
  return user.seq === length && user.head === prev
    ? { valid: true, length, head: prev }
    : { valid: false, length, head: user.head, brokenAt: length + 1 }
}
