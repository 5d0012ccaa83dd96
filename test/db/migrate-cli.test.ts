// `npm run db:migrate` (scripts/migrate.ts) — the deploy path for the schema — against the run's
// test database: applies nothing new a second time and records every migration of drizzle/.
import { expect, test } from 'bun:test'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { testDatabase } from '../helpers/db.ts'

const root = new URL('../..', import.meta.url).pathname

// Asynchronous on purpose: in PGlite mode the database is served by this very process.
function migrate(databaseUrl: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules/.bin/tsx'), ['scripts/migrate.ts'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl },
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({ status, stderr }))
  })
}

test('scripts/migrate.ts is idempotent and records every migration', async () => {
  const db = await testDatabase()
  const journal = JSON.parse(readFileSync(join(root, 'drizzle/meta/_journal.json'), 'utf8')) as {
    entries: { tag: string }[]
  }
  for (let run = 0; run < 2; run++) {
    const res = await migrate(db.url)
    expect(res.stderr).toContain('migrations applied')
    expect(res.status).toBe(0)
  }
  const applied = await db.handle.db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
  )
  expect(applied.rows[0].n).toBe(journal.entries.length)
  expect((await migrate('')).status).toBe(2)
}, 60_000)
