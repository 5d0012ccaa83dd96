// A real SQLite database (bun's) behind the interface a Durable Object's storage gives the book
// journal, so the journal runs outside workerd with the same SQL.
import { Database } from 'bun:sqlite'
import { BookJournal } from '../../src/engine/journal.ts'
import type { JournalOptions, JournalStore, SqlValue } from '../../src/engine/journal.ts'
import { bookModule } from '../../src/engine/wasm-file.ts'

export function sqliteStore(db = new Database(':memory:')): JournalStore & { db: Database } {
  return {
    db,
    exec: (query: string, ...bindings: SqlValue[]) =>
      db.query(query).all(...(bindings as never[])) as Record<string, SqlValue>[],
    transaction: <T>(fn: () => T) => db.transaction(fn)(),
  }
}

/** A book journal on a fresh in-memory database, opened: what a symbol's object holds. */
export function newJournal(options?: JournalOptions): BookJournal {
  const journal = new BookJournal(sqliteStore(), bookModule(), options)
  journal.open()
  return journal
}
