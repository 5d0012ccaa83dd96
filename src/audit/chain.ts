// Per-user audit hash chain. Entry n stores hash_n = SHA-256(canonical JSON of
// {user_id, seq, action, data, created_at, prev_hash: hash_{n-1}}), and users.audit_head holds
// the newest hash, so rewriting, dropping or reordering any entry breaks verification.
import { and, asc, eq, gte, sql } from 'drizzle-orm'
import type { DbOrTx } from '../db/client.ts'
import { auditLog, users } from '../db/schema.ts'
import { sha256Hex } from '../auth/tokens.ts'
import { requestOrigin } from './origin.ts'

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

/** The entry that follows `head`, hashed; made while serving a request, it says where from. */
export async function auditEntry(
  userId: number,
  head: AuditHead,
  action: string,
  fields: AuditData,
): Promise<AuditEntry> {
  const origin = requestOrigin()
  const data = origin ? { ...fields, origin } : fields
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

/** Why a chain does not verify (the first entry that does not). */
export type ChainBreak =
  /** the entry's hash is not the hash of its contents: its data (or hash) was changed */
  | 'hash_mismatch'
  /** the entry's prev_hash is not the previous entry's hash */
  | 'prev_hash_mismatch'
  /** the entry with the expected seq is missing (brokenId: the entry found after the gap) */
  | 'seq_gap'
  /** users.audit_seq / audit_head do not name the last entry: entries dropped from or added
   *  at the end (brokenId: that entry, absent when it is missing) */
  | 'head_mismatch'
  | 'unknown_user'

export interface ChainCheck {
  valid: boolean
  length: number
  head: string | null
  /** seq of the first entry that does not verify */
  brokenAt?: number
  /** audit_log.id of that entry, when there is a row */
  brokenId?: number
  reason?: ChainBreak
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
  if (!user) return { valid: false, length: 0, head: null, reason: 'unknown_user' }
  let prev: string | null = null
  let expectedSeq = 1
  let lastId: number | undefined
  let afterHeadId: number | undefined // the entry after the one users.audit_seq names
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, userId), gte(auditLog.seq, expectedSeq)))
      .orderBy(asc(auditLog.seq))
      .limit(pageSize)
    for (const row of rows) {
      const reason: ChainBreak | undefined =
        row.seq !== expectedSeq
          ? 'seq_gap'
          : row.prevHash !== prev
            ? 'prev_hash_mismatch'
            : row.hash !== (await auditHash({ ...row, prevHash: prev }))
              ? 'hash_mismatch'
              : undefined
      if (reason) {
        const broken = { brokenAt: expectedSeq, brokenId: row.id, reason }
        return { valid: false, length: expectedSeq - 1, head: user.head, ...broken }
      }
      if (row.seq === user.seq + 1) afterHeadId = row.id
      prev = row.hash
      lastId = row.id
      expectedSeq++
    }
    if (rows.length < pageSize) break
  }
  const length = expectedSeq - 1
  if (user.seq === length && user.head === prev) return { valid: true, length, head: prev }
  const [brokenAt, brokenId] =
    user.seq > length
      ? [length + 1, undefined] // the entries after `length` are gone
      : user.seq < length
        ? [user.seq + 1, afterHeadId] // entries beyond the head
        : [length, lastId] // the head's hash is not the last entry's
  return { valid: false, length, head: user.head, brokenAt, brokenId, reason: 'head_mismatch' }
}
