// A real SQLite database (bun's) behind the interface a Durable Object's storage gives the book
// journal, so the journal runs outside workerd with the same SQL.
import { Database } from 'bun:sqlite'
import type { JournalStore, SqlValue } from '../../src/engine/journal.ts'

export function sqliteStore(db = new Database(':memory:')): JournalStore & { db: Database } {
  return {
    db,
    exec: (query: string, ...bindings: SqlValue[]) =>
      db.query(query).all(...(bindings as never[])) as Record<string, SqlValue>[],
    transaction: <T>(fn: () => T) => db.transaction(fn)(),
  }
}
