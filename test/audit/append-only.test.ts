// drizzle/0012_audit_append_only.sql: audit rows cannot be changed or removed, not even by the
// owner (a trigger), and the app's role bourse_app has only SELECT and INSERT on audit_log.
import { beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { postCash } from '../../src/accounts/ledger.ts'
import { verifyAuditChain } from '../../src/audit/chain.ts'
import { connect } from '../../scripts/lib/db.ts'
import { auditLog } from '../../src/db/schema.ts'
import { newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'
import type { TestDatabase } from '../helpers/db.ts'

let client: TestClient
let db: TestDatabase
beforeAll(async () => {
  client = await testClient()
  db = await testDatabase()
}, 60_000)

/** The Postgres error a statement fails with (drizzle wraps it in `cause`). */
async function pgError(run: Promise<unknown>) {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e as { cause?: unknown },
  )
  if (!err) throw new Error('the statement succeeded')
  const pg = (err.cause ?? err) as { code?: string; constraint?: string; message: string }
  return { code: pg.code, constraint: pg.constraint, message: pg.message }
}

/** Runs statements in one transaction as the app's role bourse_app. */
const asApp = (...stmts: SQL[]) =>
  db.handle.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL ROLE bourse_app`)
    for (const s of stmts) await tx.execute(s)
  })

async function userWithEntries() {
  const u = await newUser(client, 'append-only')
  const rows = await db.handle.db.select().from(auditLog).where(eq(auditLog.userId, u.id))
  expect(rows.length).toBeGreaterThan(0)
  return { ...u, entry: rows[0] }
}

describe('the append-only trigger', () => {
  test('refuses UPDATE, DELETE and TRUNCATE of audit_log, for the owner too', async () => {
    const { id, entry } = await userWithEntries()
    const refusals = [
      sql`UPDATE audit_log SET data = '{"amount_cents": 1}' WHERE id = ${entry.id}`,
      sql`UPDATE audit_log SET hash = hash WHERE user_id = ${id}`,
      sql`DELETE FROM audit_log WHERE id = ${entry.id}`,
      sql`TRUNCATE audit_log`,
    ]
    for (const stmt of refusals) {
      const err = await pgError(db.handle.db.execute(stmt))
      expect(err).toMatchObject({ code: '23001', constraint: 'audit_log_append_only' })
      expect(err.message).toMatch(/^audit_log is append-only: (UPDATE|DELETE|TRUNCATE) refused$/)
    }
    const [still] = await db.handle.db.select().from(auditLog).where(eq(auditLog.id, entry.id))
    expect(still).toEqual(entry)
    expect((await verifyAuditChain(db.handle.db, id)).valid).toBe(true)
  })
})

describe('the app role bourse_app', () => {
  test('is NOLOGIN and cannot UPDATE or DELETE audit rows (permission denied)', async () => {
    const { entry } = await userWithEntries()
    const [role] = (
      await db.handle.db.execute<{ rolcanlogin: boolean }>(
        sql`SELECT rolcanlogin FROM pg_roles WHERE rolname = 'bourse_app'`,
      )
    ).rows
    expect(role).toEqual({ rolcanlogin: false })
    for (const stmt of [
      sql`UPDATE audit_log SET data = '{}' WHERE id = ${entry.id}`,
      sql`DELETE FROM audit_log WHERE id = ${entry.id}`,
      sql`TRUNCATE audit_log`,
    ]) {
      const err = await pgError(asApp(stmt))
      expect(err.code).toBe('42501') // insufficient_privilege, before any trigger runs
      expect(err.message).toContain('permission denied for table audit_log')
    }
  })

  test('appends through the normal path and uses the other tables', async () => {
    const { id } = await userWithEntries()
    const before = await verifyAuditChain(db.handle.db, id)
    const posted = await db.handle.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL ROLE bourse_app`)
      // reads users FOR UPDATE, updates users, inserts cash_ledger and audit_log
      return postCash(tx, { userId: id, kind: 'deposit', cashDelta: 1_234 })
    })
    expect(posted.ok).toBe(true)
    expect(await verifyAuditChain(db.handle.db, id)).toMatchObject({
      valid: true,
      length: before.length + 1,
    })
    // the other tables keep UPDATE and DELETE
    await asApp(
      sql`UPDATE users SET display_name = 'as bourse_app' WHERE id = ${id}`,
      sql`DELETE FROM refresh_tokens WHERE user_id = ${id}`,
    )
  })

  test.skipIf(!process.env.DATABASE_URL)(
    'a LOGIN role in bourse_app runs the app (the production setup)',
    async () => {
      // Roles are per server: a uniquely named one, dropped at the end.
      const login = `bourse_t_app_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
      await db.handle.db.execute(sql.raw(`CREATE ROLE ${login} LOGIN IN ROLE bourse_app`))
      const url = new URL(db.url)
      url.username = login
      url.password = ''
      const asLogin = await connect(url.toString(), db.proxy)
      try {
        const who = await asLogin.db.execute<{ u: string }>(sql`SELECT current_user AS u`)
        expect(who.rows[0].u).toBe(login)
        const app = await testClient({ DATABASE_URL: url.toString() })
        const u = await newUser(app, 'as-login-role')
        const dep = await app.request('POST', '/v1/account/deposits', { amount: '5.00' }, u.auth)
        expect(dep.status).toBe(201)
        const audit = await app.request('GET', '/v1/account/audit?verify=true', undefined, u.auth)
        expect(((await audit.json()) as { chain: unknown }).chain).toMatchObject({ valid: true })
        const [entry] = await asLogin.db.select().from(auditLog).where(eq(auditLog.userId, u.id))
        const err = await pgError(
          asLogin.db.execute(sql`DELETE FROM audit_log WHERE id = ${entry.id}`),
        )
        expect(err.code).toBe('42501')
      } finally {
        await asLogin.close()
        await db.handle.db.execute(sql.raw(`DROP ROLE IF EXISTS ${login}`))
      }
    },
  )
})
