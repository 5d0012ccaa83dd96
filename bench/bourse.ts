// Our engine in the benchmark's two modes: one call per command through the TS wrapper, as the
// symbol Durable Object drives it, and the whole stream replayed inside WASM from encoded records.

import { COMMAND_WORDS, encodeCommand } from '../src/engine/abi.ts'
import type { BookEvent, NewOrder, Side } from '../src/engine/types.ts'
import { newOrderBook } from '../src/engine/wasm-file.ts'
import { throughputOf, type PassResult, type Replayer, type Throughput } from './measure.ts'
import { CANCEL, MARKET, type Stream } from './stream.ts'

const SIDES: Side[] = ['buy', 'sell']

/**
 * The order behind command i. Every order has its own user, so that self-trade prevention never
 * fires: nodejs-order-book is driven without it, and both books must match the same shadow book.
 */
function order(stream: Stream, i: number): NewOrder {
  const id = stream.id[i]
  const side = SIDES[stream.side[i]]
  const qty = stream.qty[i]
  if (stream.kind[i] === MARKET) return { id, user: id, side, type: 'market', qty, tif: 'IOC' }
  return { id, user: id, side, type: 'limit', qty, price: stream.price[i], tif: 'GTC' }
}

type Book = ReturnType<typeof newOrderBook>

function apply(book: Book, stream: Stream, i: number): BookEvent[] {
  if (stream.kind[i] === CANCEL) return book.cancel(stream.id[i])
  return book.submit(order(stream, i))
}

export function createWrapper(stream: Stream): Replayer {
  const book = newOrderBook()
  return { run: (i) => apply(book, stream, i), depth: () => book.depth() }
}

/** Encoded up front: the batch mode times the book, not the encoder. */
export function encodeStream(stream: Stream): Int32Array {
  const records = new Int32Array(stream.n * COMMAND_WORDS)
  for (let i = 0; i < stream.n; i++) {
    const command =
      stream.kind[i] === CANCEL
        ? { op: 'cancel' as const, id: stream.id[i] }
        : { op: 'new' as const, ...order(stream, i) }
    encodeCommand(command, records, i * COMMAND_WORDS)
  }
  return records
}

export interface BatchFigures extends Throughput {
  /** Events the book produced, to compare with the wrapper's (they are not decoded). */
  events: number
}

export function timeBatch(stream: Stream, records: Int32Array): PassResult<BatchFigures> {
  const book = newOrderBook()
  const t0 = process.hrtime.bigint()
  const events = book.executeEncoded(records, stream.n)
  const ns = Number(process.hrtime.bigint() - t0)
  return { figures: { ...throughputOf(stream.n, ns), events }, depth: book.depth() }
}

export interface EventCounts {
  events: number
  trades: number
  tradedQty: number
}

/** An untimed replay that reads every event, to check trades against the shadow book. */
export function countEvents(stream: Stream): EventCounts {
  const book = newOrderBook()
  const counts = { events: 0, trades: 0, tradedQty: 0 }
  for (let i = 0; i < stream.n; i++) {
    const events = apply(book, stream, i)
    counts.events += events.length
    for (const event of events) {
      if (event.type !== 'fill') continue
      counts.trades++
      counts.tradedQty += event.qty
    }
  }
  return counts
}
