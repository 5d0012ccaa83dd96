// `npm run audit:verify [-- --page-size N]`: re-hashes every user's audit chain
// (verifyAuditChain, src/audit/chain.ts), each in one REPEATABLE READ read-only transaction so a
// chain growing meanwhile is seen whole. Prints one line per broken chain,
//   user <id>: seq <n>, audit_log id <id|none>: <why>
// then `audit chains: N verified, M broken, E entries` (E: the entries of all chains). Exit 0
// when every chain verifies, 1 when one does not, 2 when the database cannot be reached.
//
// Database: DATABASE_URL; without it, the embedded database `npm run dev` uses
// ($BOURSE_STATE_DIR/pgdata, default .bourse/pgdata). PGlite lives in one process: while
// `npm run dev` runs, the script reaches it through the dev server's socket (the DATABASE_URL
// in .bourse/dev.vars, checked to be PGlite); when it does not, the script opens pgdata itself
// (do not start `npm run dev` until it is done).
import { existsSync, readFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { asc, count, eq, gt, sql } from 'drizzle-orm'
import { verifyAuditChain } from '../src/audit/chain.ts'
import type { ChainCheck } from '../src/audit/chain.ts'
import { auditLog, users } from '../src/db/schema.ts'
import { connect } from './lib/db.ts'
import { startLocalDb } from './lib/local-db.ts'
import type { LocalDb } from './lib/local-db.ts'

const USAGE = `usage: npm run audit:verify [-- --page-size N]
Re-hashes every user's audit chain in DATABASE_URL (without it, npm run dev's embedded
database: through the running dev server, else .bourse/pgdata directly). Exit 0: all verify;
1: a chain is broken (one line each: user, seq, audit_log id, why); 2: no database.`

const { values } = parseArgs({
  options: {
    'page-size': { type: 'string', default: '1000' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const pageSize = Number(values['page-size'])
if (!Number.isInteger(pageSize) || pageSize < 1) {
  console.error(USAGE)
  process.exit(2)
}

const root = resolve(new URL('..', import.meta.url).pathname)
let localDb: LocalDb | undefined
let url = process.env.DATABASE_URL
let label = url ? new URL(url).host + new URL(url).pathname : ''
if (!url) {
  const stateDir = resolve(root, process.env.BOURSE_STATE_DIR || '.bourse')
  const dataDir = join(stateDir, 'pgdata')
  if (!existsSync(dataDir)) {
    console.error(`DATABASE_URL is not set and there is no embedded database at ${dataDir}`)
    process.exit(2)
  }
  url = await runningDevDb(join(stateDir, 'dev.vars'))
  if (url) label = `embedded PGlite (${dataDir}) via the running dev server`
  else {
    localDb = await startLocalDb({ dataDir })
    url = localDb.url
    label = `embedded PGlite (${dataDir})`
  }
}

let handle: Awaited<ReturnType<typeof connect>>
try {
  handle = await connect(url)
  await handle.db.execute(sql`SELECT 1`)
} catch (err) {
  console.error(`cannot reach ${label}: ${(err as Error).message}`)
  await localDb?.close()
  process.exit(2)
}
console.error(`verifying audit chains in ${label}`)

let verified = 0
let broken = 0
let entries = 0
try {
  for (let after = 0; ; ) {
    const page = await handle.db
      .select({ id: users.id })
      .from(users)
      .where(gt(users.id, after))
      .orderBy(asc(users.id))
      .limit(1000)
    for (const { id } of page) {
      const { check, total } = await handle.db.transaction(
        async (tx) => {
          const check = await verifyAuditChain(tx, id, pageSize)
          if (check.valid) return { check, total: check.length }
          const [n] = await tx.select({ n: count() }).from(auditLog).where(eq(auditLog.userId, id))
          return { check, total: n.n }
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      )
      entries += total
      if (check.valid) verified++
      else {
        broken++
        console.log(describe(id, check))
      }
    }
    if (page.length < 1000) break
    after = page[page.length - 1].id
  }
  console.log(`audit chains: ${verified} verified, ${broken} broken, ${entries} entries`)
} finally {
  await handle.close()
  await localDb?.close()
}
process.exit(broken ? 1 : 0)

function describe(userId: number, c: ChainCheck): string {
  const why = {
    hash_mismatch: "hash mismatch (the entry's contents do not hash to its hash)",
    prev_hash_mismatch: "prev_hash link broken (not the previous entry's hash)",
    seq_gap: `gap in seq (no entry ${c.brokenAt}; the next entry is audit_log id ${c.brokenId})`,
    head_mismatch: `head in users (audit_seq, audit_head) does not match the last entry (seq ${c.length})`,
    unknown_user: 'no such user',
  }[c.reason ?? 'unknown_user']
  return `user ${userId}: seq ${c.brokenAt}, audit_log id ${c.brokenId ?? 'none'}: ${why}`
}

/** The URL of the PGlite a running `npm run dev` serves (from its dev.vars), if it answers. */
async function runningDevDb(varsFile: string): Promise<string | undefined> {
  if (!existsSync(varsFile)) return undefined
  const line = readFileSync(varsFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('DATABASE_URL='))
  const devUrl = line?.slice('DATABASE_URL='.length).replace(/^'(.*)'$/, '$1')
  if (!devUrl) return undefined
  const { port, hostname } = new URL(devUrl)
  const open = await new Promise<boolean>((done) => {
    const s = tcpConnect({ host: hostname, port: Number(port) }, () => {
      s.end()
      done(true)
    })
    s.on('error', () => done(false))
  })
  if (!open) return undefined
  // only the embedded database: a DATABASE_URL the dev server was given is not the default
  const probe = await connect(devUrl)
  try {
    const res = await probe.db.execute<{ v: string }>(sql`SELECT version() AS v`)
    return String(res.rows[0]?.v).includes('PGlite') ? devUrl : undefined
  } catch {
    return undefined
  } finally {
    await probe.close()
  }
}
