// A Durable Object's SQLite storage as the synchronous store the journal and the FIX session use.
import type { JournalStore, SqlValue } from '../engine/journal.ts'

export function sqlStore(storage: DurableObjectStorage): JournalStore {
  return {
    exec: (query: string, ...bindings: SqlValue[]) => storage.sql.exec(query, ...bindings).toArray(),
    transaction: (fn) => storage.transactionSync(fn),
  }
}
