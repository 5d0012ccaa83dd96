// Per-user audit hash chain. Entry n stores hash_n = SHA-256(canonical JSON of
// {user_id, seq, action, data, created_at, prev_hash: hash_{n-1}}), and users.audit_head holds
// the newest hash, so rewriting, dropping or reordering any entry breaks verification.
import { and, asc, eq, gte } from 'drizzle-orm'
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

/**
 * Appends an entry. Must run inside a transaction: it locks the user's row (FOR UPDATE), which
 * also serializes it with every other change to that user's money.
 */
export async function appendAudit(
  tx: DbOrTx,
  userId: number,
  action: string,
  data: AuditData,
): Promise<{ seq: number; hash: string }> {
  const [head] = await tx
    .select({ seq: users.auditSeq, hash: users.auditHead })
    .from(users)
    .where(eq(users.id, userId))
    .for('update')
  if (!head) throw new Error(`appendAudit: no user ${userId}`)
  const seq = head.seq + 1
  const createdAt = new Date()
  const hash = await auditHash({ userId, seq, action, data, createdAt, prevHash: head.hash })
  await tx
    .insert(auditLog)
    .values({ userId, seq, action, data, prevHash: head.hash, hash, createdAt })
  await tx.update(users).set({ auditSeq: seq, auditHead: hash }).where(eq(users.id, userId))
  return { seq, hash }
}

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
