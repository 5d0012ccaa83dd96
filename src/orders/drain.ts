// The outbox drain: a symbol's fills and order events move from its Durable Object's outbox into
// Postgres, batch by batch, each batch forgotten by the outbox only after Postgres committed it.
// A crash between the commit and the acknowledgement re-sends the batch, which applyFills and
// applyOrderEvents skip: at-least-once delivery, applied exactly once.
//
// Once a batch is committed, its users' stream events are published (the caller's `publish`,
// which must not throw), before the outbox forgets it: a crash in between sends the batch again,
// and the events again under the same keys, shown once.
//
// Fills go first: an order event may depend on the fills made before it (an amend's cut), and
// cancels and expiries commute with fills anyway (fills.ts).

import type { Publish } from '../accounts/stream.ts'
import type { Db } from '../db/client.ts'
import type { OutboxFill, OutboxOrderEvent } from '../engine/journal.ts'
import { applyFills } from './fills.ts'
import { applyOrderEvents } from './order-events.ts'

/** What the drain needs of a journal (BookJournal has it). */
export interface Outbox {
  pendingFills(limit?: number): OutboxFill[]
  acknowledgeFills(fillSeq: number): void
  pendingOrderEvents(limit?: number): OutboxOrderEvent[]
  acknowledgeOrderEvents(id: number): void
}

/**
 * Applies every pending fill, then every pending order event, until both are empty; returns how
 * many of each were applied. Throws what applyFills and applyOrderEvents throw.
 */
export async function drainOutbox(
  outbox: Outbox,
  db: Db,
  symbol: string,
  { batchSize = 100, publish = async () => {} }: { batchSize?: number; publish?: Publish } = {},
) {
  const applied = { fills: 0, orderEvents: 0 }
  for (;;) {
    const fills = outbox.pendingFills(batchSize)
    if (fills.length > 0) {
      const result = await applyFills(db, symbol, fills)
      await publish(result.events)
      outbox.acknowledgeFills(result.through)
      applied.fills += result.applied
      continue
    }
    const events = outbox.pendingOrderEvents(batchSize)
    if (events.length === 0) return applied
    const result = await applyOrderEvents(db, symbol, events)
    await publish(result.events)
    applied.orderEvents += result.applied
    outbox.acknowledgeOrderEvents(events[events.length - 1].id)
  }
}
