// One symbol's order book: the single writer of its matching, hosting the WASM book behind a
// journal in the object's SQLite storage. Each RPC runs the book and stores the command, its
// events and its fills' outbox rows in one synchronous block, so they commit together before the
// reply leaves (the output gate), and nothing else interleaves (no await in between).

import { DurableObject } from 'cloudflare:workers'
import bookWasm from '../../wasm/build/book.wasm'
import {
  type Ack, BookJournal, type JournalStore, type OpenReport, type OutboxFill, type SqlValue,
} from '../engine/journal.ts'
import type { Depth, NewOrder } from '../engine/types.ts'
import type { Env } from '../env.ts'

export class SymbolBook extends DurableObject<Env> {
  private readonly journal: BookJournal
  private opened: OpenReport | undefined

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.journal = new BookJournal(sqlStore(ctx.storage), bookWasm)
    ctx.blockConcurrencyWhile(async () => {
      this.opened = this.journal.open()
    })
  }

  submit(order: NewOrder): Ack {
    return this.journal.submit(order)
  }

  cancel(id: number): Ack {
    return this.journal.cancel(id)
  }

  amend(id: number, qty: number): Ack {
    return this.journal.amend(id, qty)
  }

  close(): Ack {
    return this.journal.close()
  }

  depth(maxLevels?: number): Depth & { seq: number } {
    return this.journal.depth(maxLevels)
  }

  /** Fills not yet applied to Postgres, oldest first (the outbox the drain reads). */
  pendingFills(limit?: number): OutboxFill[] {
    return this.journal.pendingFills(limit)
  }

  /** The drain committed every fill up to `fillSeq` in Postgres. */
  acknowledgeFills(fillSeq: number): void {
    this.journal.acknowledgeFills(fillSeq)
  }

  /** How the book was restored when this instance started (replay time, commands replayed). */
  restoreReport(): OpenReport | undefined {
    return this.opened
  }
}

function sqlStore(storage: DurableObjectStorage): JournalStore {
  return {
    exec: (query: string, ...bindings: SqlValue[]) => storage.sql.exec(query, ...bindings).toArray(),
    transaction: (fn) => storage.transactionSync(fn),
  }
}
