// A FIX session's store (src/execution/fix/store.ts) in a Durable Object's SQLite storage: its
// sequence numbers and the messages it sent survive restarts, and a session step's writes commit
// with whatever the object records in the same transactionSync.
import type { SessionStore, SentMessage } from './fix/store.ts'
import type { JournalStore, SqlValue } from '../engine/journal.ts'

/** SQLite hands blobs back as ArrayBuffer in workerd, as Uint8Array in bun */
const bytesOf = (value: SqlValue | Uint8Array) =>
  value instanceof Uint8Array ? new Uint8Array(value) : new Uint8Array(value as ArrayBuffer)

export class SqlSessionStore implements SessionStore {
  constructor(private readonly sql: JournalStore) {
    sql.exec(`CREATE TABLE IF NOT EXISTS fix_seq (
      id INTEGER PRIMARY KEY CHECK (id = 1), next_out INTEGER NOT NULL, next_in INTEGER NOT NULL)`)
    sql.exec('INSERT OR IGNORE INTO fix_seq (id, next_out, next_in) VALUES (1, 1, 1)')
    sql.exec('CREATE TABLE IF NOT EXISTS fix_sent (seq INTEGER PRIMARY KEY, message BLOB NOT NULL)')
  }

  private seqs() {
    const [row] = this.sql.exec('SELECT next_out, next_in FROM fix_seq WHERE id = 1')
    return { out: Number(row.next_out), in: Number(row.next_in) }
  }

  nextOutgoingSeq(): number {
    return this.seqs().out
  }

  nextIncomingSeq(): number {
    return this.seqs().in
  }

  setNextOutgoingSeq(seq: number): void {
    this.sql.exec('UPDATE fix_seq SET next_out = ? WHERE id = 1', seq)
  }

  setNextIncomingSeq(seq: number): void {
    this.sql.exec('UPDATE fix_seq SET next_in = ? WHERE id = 1', seq)
  }

  saveOutgoing(seq: number, message: Uint8Array): void {
    const blob = message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength)
    this.sql.exec('INSERT OR REPLACE INTO fix_sent (seq, message) VALUES (?, ?)', seq, blob as ArrayBuffer)
  }

  outgoingBetween(begin: number, end: number): SentMessage[] {
    return this.sql
      .exec('SELECT seq, message FROM fix_sent WHERE seq BETWEEN ? AND ? ORDER BY seq', begin, end)
      .map((r) => ({ seq: Number(r.seq), message: bytesOf(r.message) }))
  }

  reset(): void {
    this.sql.transaction(() => {
      this.sql.exec('UPDATE fix_seq SET next_out = 1, next_in = 1 WHERE id = 1')
      this.sql.exec('DELETE FROM fix_sent')
    })
  }
}
