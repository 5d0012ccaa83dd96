// The outbox drain: a symbol's fills move from its Durable Object's outbox into Postgres, batch by
// batch, each batch forgotten by the outbox only after Postgres committed it. A crash between the
// commit and the acknowledgement re-sends the batch, which applyFills skips: at-least-once
// delivery, applied exactly once.

import type { Db } from '../db/client.ts'
import type { OutboxFill } from '../engine/journal.ts'
import { applyFills } from './fills.ts'

/** What the drain needs of a journal (BookJournal has it). */
export interface Outbox {
  pendingFills(limit?: number): OutboxFill[]
  acknowledgeFills(fillSeq: number): void
}

/** Applies every pending fill; returns how many were applied. Throws what applyFills throws. */
export async function drainFills(outbox: Outbox, db: Db, symbol: string, batchSize = 100): Promise<number> {
  let applied = 0
  for (let batch = outbox.pendingFills(batchSize); batch.length > 0; batch = outbox.pendingFills(batchSize)) {
    const result = await applyFills(db, symbol, batch)
    outbox.acknowledgeFills(result.through)
    applied += result.applied
  }
  return applied
}
