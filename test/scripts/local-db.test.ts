// The embedded Postgres for dev and tests (scripts/lib/local-db.ts): a client that leaves in the
// middle of a query (its Execute sent, its Sync never) has its statement undone, as Postgres would,
// and the one session PGlite has serves the next client.
import { afterAll, expect, test } from 'bun:test'
import { connect as tcp } from 'node:net'
import { sql } from 'drizzle-orm'
import { connect } from '../../scripts/lib/db.ts'
import { startLocalDb } from '../../scripts/lib/local-db.ts'

const local = await startLocalDb({ cuttable: true })
const handle = await connect(local.url)
afterAll(async () => {
  await handle.close()
  await local.close()
})

/** a Postgres protocol message: type, then int32 length, then the body */
function message(type: string, ...parts: (string | number[])[]) {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(`${p}\0`) : Buffer.from(p))))
  const head = Buffer.alloc(5)
  head.write(type, 0)
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

test('a client gone between its Execute and its Sync: its insert is undone, the next client is served', async () => {
  await handle.db.execute(sql`CREATE TABLE left_mid_query (n int)`)
  const socket = tcp({ host: '127.0.0.1', port: local.port })
  await new Promise((resolve) => socket.once('connect', resolve))
  const startup = Buffer.from('\0\0\0\0\0\x03\0\0user\0postgres\0database\0postgres\0\0', 'latin1')
  startup.writeInt32BE(startup.length, 0)
  socket.write(startup)
  await new Promise((resolve) => socket.once('data', resolve)) // authentication and ReadyForQuery
  socket.write(
    Buffer.concat([
      message('P', '', 'INSERT INTO left_mid_query VALUES (1)', [0, 0]),
      message('B', '', '', [0, 0, 0, 0, 0, 0]),
      message('E', '', [0, 0, 0, 0]),
    ]),
  )
  await new Promise((resolve) => socket.once('data', resolve)) // ParseComplete, BindComplete, CommandComplete
  socket.destroy()
  await Bun.sleep(200)
  const rows = await handle.db.execute(sql`SELECT count(*)::int AS n FROM left_mid_query`)
  expect(rows.rows[0]).toEqual({ n: 0 })
})
