// drizzle/ must match src/db/schema.ts: generating from the schema against a copy of the
// committed migrations must find nothing to do (someone changed the schema without running
// `npm run db:generate` otherwise).
import { expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

const root = new URL('../..', import.meta.url).pathname

test('the committed migrations are up to date with the schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-drizzle-'))
  try {
    cpSync(join(root, 'drizzle'), join(dir, 'drizzle'), { recursive: true })
    writeFileSync(
      join(dir, 'drizzle.config.ts'),
      // drizzle-kit resolves both paths relative to the working directory
      `export default { dialect: 'postgresql', schema: ${JSON.stringify(relative(dir, join(root, 'src/db/schema.ts')))}, out: './drizzle' }\n`,
    )
    const before = readdirSync(join(dir, 'drizzle')).sort()
    const run = spawnSync(
      join(root, 'node_modules/.bin/drizzle-kit'),
      ['generate', '--config', 'drizzle.config.ts'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    )
    expect(run.status).toBe(0)
    expect(run.stdout + run.stderr).toContain('No schema changes')
    expect(readdirSync(join(dir, 'drizzle')).sort()).toEqual(before)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)
