// Tampering with the audit log is detected: verifyAuditChain names the first entry that does not
// verify and why, and `npm run audit:verify` (scripts/audit-verify.ts) reports it per user and
// exits 1. Tampering needs the superuser to bypass the append-only trigger first
// (session_replication_role = replica skips it).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { spawn } from 'node:child_process'
import { and, asc, eq, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { postCash } from '../../src/accounts/ledger.ts'
import { appendAudit, auditHash, verifyAuditChain } from '../../src/audit/chain.ts'
import type { DbHandle } from '../../src/db/client.ts'
import { auditLog, users } from '../../src/db/schema.ts'
import { seedDemo } from '../../src/db/seed.ts'
import { newUser, testClient, TEST_PBKDF2_ITERATIONS } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { openDatabase, testDatabase } from '../helpers/db.ts'
import type { TestDatabase } from '../helpers/db.ts'

const root = new URL('../..', import.meta.url).pathname

/** Runs statements with the triggers off (superuser), as someone rewriting history would. */
const tamper = (handle: DbHandle, ...stmts: SQL[]) =>
  handle.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL session_replication_role = replica`)
    for (const s of stmts) await tx.execute(s)
  })

const entries = (handle: DbHandle, userId: number) =>
  handle.db.select().from(auditLog).where(eq(auditLog.userId, userId)).orderBy(asc(auditLog.seq))

describe('verifyAuditChain names the first entry that does not verify', () => {
  let client: TestClient
  let db: TestDatabase
  beforeAll(async () => {
    client = await testClient()
    db = await testDatabase()
  }, 60_000)

  /** A user with 5 entries: registered, login, 3 deposits. */
  async function chain() {
    const u = await newUser(client, 'verify')
    for (const cents of [100, 200, 300]) {
      const r = await db.handle.db.transaction((tx) =>
        postCash(tx, { userId: u.id, kind: 'deposit', cashDelta: cents }),
      )
      expect(r.ok).toBe(true)
    }
    const rows = await entries(db.handle, u.id)
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
    expect(await verifyAuditChain(db.handle.db, u.id)).toEqual({
      valid: true,
      length: 5,
      head: rows[4].hash,
    })
    return { id: u.id, rows }
  }

  test('changed data: hash mismatch at that entry', async () => {
    const { id, rows } = await chain()
    await tamper(
      db.handle,
      sql`UPDATE audit_log SET data = jsonb_set(data, '{amount_cents}', '100000') WHERE id = ${rows[2].id}`,
    )
    expect(await verifyAuditChain(db.handle.db, id, 2)).toMatchObject({
      valid: false,
      length: 2,
      brokenAt: 3,
      brokenId: rows[2].id,
      reason: 'hash_mismatch',
    })
  })

  test('an entry re-hashed after its change: the next entry’s prev_hash link breaks', async () => {
    const { id, rows } = await chain()
    const data = { ...(rows[2].data as object), amount_cents: 100_000 }
    const hash = await auditHash({ ...rows[2], data })
    await tamper(
      db.handle,
      sql`UPDATE audit_log SET data = ${JSON.stringify(data)}::jsonb, hash = ${hash} WHERE id = ${rows[2].id}`,
    )
    expect(await verifyAuditChain(db.handle.db, id)).toMatchObject({
      valid: false,
      brokenAt: 4,
      brokenId: rows[3].id,
      reason: 'prev_hash_mismatch',
    })
  })

  test('a deleted middle entry: gap in seq, naming the entry after it', async () => {
    const { id, rows } = await chain()
    await tamper(db.handle, sql`DELETE FROM audit_log WHERE id = ${rows[1].id}`)
    expect(await verifyAuditChain(db.handle.db, id)).toMatchObject({
      valid: false,
      length: 1,
      brokenAt: 2,
      brokenId: rows[2].id,
      reason: 'seq_gap',
    })
  })

  test('the head in users does not match the last entry', async () => {
    // the newest entry deleted: users still names seq 5
    const a = await chain()
    await tamper(db.handle, sql`DELETE FROM audit_log WHERE id = ${a.rows[4].id}`)
    expect(await verifyAuditChain(db.handle.db, a.id)).toMatchObject({
      valid: false,
      length: 4,
      brokenAt: 5,
      brokenId: undefined,
      reason: 'head_mismatch',
    })
    // an entry appended without moving the head
    const b = await chain()
    await db.handle.db.update(users).set({ auditSeq: 4, auditHead: b.rows[3].hash }).where(eq(users.id, b.id))
    expect(await verifyAuditChain(db.handle.db, b.id)).toMatchObject({
      brokenAt: 5,
      brokenId: b.rows[4].id,
      reason: 'head_mismatch',
    })
    // the head's hash rewritten
    const c = await chain()
    await db.handle.db.update(users).set({ auditHead: 'f'.repeat(64) }).where(eq(users.id, c.id))
    expect(await verifyAuditChain(db.handle.db, c.id)).toMatchObject({
      length: 5,
      brokenAt: 5,
      brokenId: c.rows[4].id,
      reason: 'head_mismatch',
    })
  })
})

// `npm run audit:verify` against a database of its own (the shared one holds other tests'
// tampered chains).
describe('npm run audit:verify', () => {
  let own: TestDatabase
  beforeAll(async () => {
    own = await openDatabase()
    await seedDemo(own.handle.db, Number(TEST_PBKDF2_ITERATIONS))
  }, 60_000)
  afterAll(async () => {
    await own?.close()
  })

  // Asynchronous on purpose: in PGlite mode the database is served by this very process.
  function auditVerify(
    env: Record<string, string>,
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('npm', ['run', '--silent', 'audit:verify', '--', '--page-size', '2'], {
        cwd: root,
        env: { ...process.env, ...env },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('close', (status) => resolve({ status, stdout, stderr }))
    })
  }

  test('an untouched database verifies (exit 0); one changed row is named (exit 1)', async () => {
    const [{ n }] = (
      await own.handle.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_log`)
    ).rows
    const clean = await auditVerify({ DATABASE_URL: own.url })
    expect(clean.stdout).toBe(`audit chains: 3 verified, 0 broken, ${n} entries\n`)
    expect(clean.status).toBe(0)

    const [bob] = await own.handle.db
      .select()
      .from(users)
      .where(eq(users.email, 'bob@demo.bourse.dev'))
    await own.handle.db.transaction((tx) => appendAudit(tx, bob.id, 'test.note', { n: 1 }))
    const [target] = await own.handle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, bob.id), eq(auditLog.seq, 2)))
    await tamper(
      own.handle,
      sql`UPDATE audit_log SET data = jsonb_set(data, '{amount_cents}', '1') WHERE id = ${target.id}`,
    )
    expect(await verifyAuditChain(own.handle.db, bob.id)).toMatchObject({
      valid: false,
      brokenAt: 2,
      brokenId: target.id,
      reason: 'hash_mismatch',
    })

    const res = await auditVerify({ DATABASE_URL: own.url })
    expect(res.stdout).toBe(
      `user ${bob.id}: seq 2, audit_log id ${target.id}: hash mismatch (the entry's contents do not hash to its hash)\n` +
        `audit chains: 2 verified, 1 broken, ${n + 1} entries\n`,
    )
    expect(res.status).toBe(1)
  }, 60_000)

  test('exit 2 when the database cannot be reached', async () => {
    const res = await auditVerify({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('cannot reach 127.0.0.1:1/none')
  }, 30_000)
})
