// Snapshots must carry the whole state: a book restored from one is indistinguishable from the
// original (same hash, same events for whatever comes next), and the hash tells different
// states apart. Batched execute must be indistinguishable from one call per command.

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { OrderBook } from '../../src/engine/book.ts'
import type { BookEvent, Command } from '../../src/engine/types.ts'
import { newOrderBook } from '../../src/engine/wasm-file.ts'
import {
  A,
  B,
  C,
  add,
  canceled,
  expired,
  fill,
  limit,
  market,
  rejected,
  rested,
  stop,
  stopLimit,
  triggered,
} from './fixtures.ts'
import { ReferenceBook } from './reference-book.ts'
import { TIMEOUT, commands, runs } from './streams.ts'

const day = { tif: 'DAY' } as const

function run(book: OrderBook | ReferenceBook, command: Command): BookEvent[] {
  return book.execute([command])
}

function restored(from: OrderBook): OrderBook {
  const copy = newOrderBook()
  copy.restore(from.snapshot())
  return copy
}

function bookAfter(stream: Command[]): OrderBook {
  const book = newOrderBook()
  book.execute(stream)
  return book
}

describe('snapshot and restore', () => {
  test('restored books have the same hash and produce the same events from then on', () => {
    fc.assert(
      fc.property(commands(150), commands(150), (before, after) => {
        const original = bookAfter(before)
        const copy = restored(original)
        expect(copy.hash()).toBe(original.hash())
        expect(copy.depth()).toEqual(original.depth())
        // The reference replays the whole history: the copy must agree with it too.
        const reference = new ReferenceBook()
        reference.execute(before)
        after.forEach((command, i) => {
          const events = run(original, command)
          const where = `command ${i} after restore: ${JSON.stringify(command)}`
          expect(run(copy, command), where).toEqual(events)
          expect(events, where).toEqual(run(reference, command))
          expect(copy.hash(), where).toBe(original.hash())
        })
        expect(copy.depth()).toEqual(original.depth())
      }),
      { numRuns: runs(150) },
    )
  }, TIMEOUT)

  test('restore replaces whatever state the book had', () => {
    fc.assert(
      fc.property(commands(100), commands(100), (mine, theirs) => {
        const target = bookAfter(mine)
        const source = bookAfter(theirs)
        target.restore(source.snapshot())
        expect(target.hash()).toBe(source.hash())
        expect(target.depth()).toEqual(source.depth())
        // Same live orders and seen ids: closing, canceling everything and resubmitting the
        // target's old orders (duplicates only if the source saw them too) agrees.
        const probe = [{ op: 'close' } as const, ...theirs.map(cancelOf), ...mine]
        expect(target.execute(probe)).toEqual(source.execute(probe))
      }),
      { numRuns: runs(100) },
    )
  }, TIMEOUT)

  test('a snapshot is a copy: later commands on the book do not change it', () => {
    const book = newOrderBook()
    book.submit(limit(1, A, 'sell', 5, 100))
    const snapshot = book.snapshot()
    const hash = book.hash()
    book.submit(limit(2, B, 'buy', 5, 100))
    expect(book.hash()).not.toBe(hash)
    const copy = newOrderBook()
    copy.restore(snapshot)
    expect(copy.hash()).toBe(hash)
    expect(copy.depth()).toEqual({ bids: [], asks: [[100, 5, 1]] })
  })

  test('the empty book round-trips', () => {
    const copy = restored(newOrderBook())
    expect(copy.hash()).toBe(newOrderBook().hash())
    expect(copy.depth()).toEqual({ bids: [], asks: [] })
    expect(copy.submit(limit(1, A, 'buy', 1, 100))).toEqual([rested(1, 100, 1)])
  })

  test('restore keeps every id ever seen, rejected ones included', () => {
    const book = newOrderBook()
    book.submit(limit(1, A, 'sell', 5, 100)) // rests
    book.submit(limit(2, B, 'buy', 5, 100)) // fills 1 completely
    book.submit(limit(3, A, 'buy', 0, 100)) // rejected invalid
    book.submit(limit(4, A, 'buy', 1, 90))
    book.cancel(4)
    book.submit(limit(Number.MAX_SAFE_INTEGER, A, 'buy', 1, 90, { tif: 'IOC' }))
    const copy = restored(book)
    for (const id of [1, 2, 3, 4, Number.MAX_SAFE_INTEGER]) {
      expect(copy.submit(limit(id, C, 'buy', 1, 50))).toEqual([rejected(id, 'duplicate_id')])
    }
    expect(copy.submit(limit(5, C, 'buy', 1, 50))).toEqual([rested(5, 50, 1)])
  })

  test('restore keeps pending stops, their triggers, tif and arrival order', () => {
    const book = newOrderBook()
    book.submit(stop(1, A, 'sell', 1, 100, { tif: 'DAY' }))
    book.submit(stopLimit(2, C, 'buy', 2, 95, 99))
    book.submit(stop(3, A, 'buy', 1, 99))
    book.submit(limit(4, B, 'buy', 3, 99))
    book.submit(limit(5, B, 'sell', 3, 101))
    const copy = restored(book)
    // The original and the copy must now behave alike, and as follows.
    for (const b of [copy, book]) {
      expect(b.cancel(3)).toEqual([canceled(3, 1, 'user')])
      // A trade at 99 triggers the sell stop 1 (99 <= 100) and the buy stop_limit 2 (99 >= 95),
      // earliest first; 2 then bids 99, where nothing is offered, so it rests.
      expect(b.submit(limit(6, C, 'sell', 1, 99))).toEqual([
        fill(6, 4, 'sell', 99, 1),
        triggered(1),
        fill(1, 4, 'sell', 99, 1),
        triggered(2),
        rested(2, 99, 2),
      ])
    }
  })

  test('restore keeps resting orders: FIFO, amended quantities, DAY/GTC and close order', () => {
    const book = newOrderBook()
    book.submit(stopLimit(1, C, 'buy', 4, 100, 99, { tif: 'DAY' })) // arrives first
    book.submit(limit(2, A, 'buy', 5, 99, { tif: 'DAY' }))
    book.submit(limit(3, B, 'buy', 5, 99))
    book.submit(limit(4, A, 'sell', 2, 100, { tif: 'DAY' }))
    book.submit(limit(5, B, 'buy', 1, 100)) // trades at 100: 1 triggers and rests last at 99
    book.amend(2, 3)
    const copy = restored(book)
    expect(copy.depth()).toEqual({ bids: [[99, 12, 3]], asks: [[100, 1, 1]] })
    const probe: Command[] = [{ op: 'close' }, add(market(6, A, 'sell', 20))]
    const events = copy.execute(probe)
    expect(events).toEqual([
      expired(1, 4),
      expired(2, 3),
      expired(4, 1),
      fill(6, 3, 'sell', 99, 5),
      canceled(6, 15, 'no_liquidity'),
    ])
    expect(book.execute(probe)).toEqual(events)
  })

  test('a malformed snapshot is refused', () => {
    const book = newOrderBook()
    book.submit(limit(1, A, 'sell', 5, 100))
    const snapshot = book.snapshot()
    expect(() => newOrderBook().restore(snapshot.slice(0, snapshot.length - 1))).toThrow()
    expect(() => newOrderBook().restore(new Uint8Array([1, 2, 3]))).toThrow()
  })
})

describe('hash', () => {
  test('is 16 hex digits and the same for the same state', () => {
    const a = bookAfter([add(limit(1, A, 'sell', 5, 100)), add(stop(2, B, 'buy', 1, 105))])
    expect(a.hash()).toMatch(/^[0-9a-f]{16}$/)
    // Rejected cancels and amends and a close with no DAY order change nothing.
    const b = bookAfter([
      add(limit(1, A, 'sell', 5, 100)),
      { op: 'cancel', id: 99 },
      { op: 'amend', id: 1, qty: 7 },
      { op: 'close' },
      add(stop(2, B, 'buy', 1, 105)),
      { op: 'amend', id: 2, qty: 1 },
    ])
    expect(b.hash()).toBe(a.hash())
  })

  /** Pairs of histories whose states differ in exactly one respect. */
  const differing: [string, Command[], Command[]][] = [
    ['empty vs one order', [], [add(limit(1, A, 'buy', 5, 100))]],
    ['quantity', [add(limit(1, A, 'buy', 5, 100))], [add(limit(1, A, 'buy', 6, 100))]],
    ['price', [add(limit(1, A, 'buy', 5, 100))], [add(limit(1, A, 'buy', 5, 101))]],
    ['side', [add(limit(1, A, 'buy', 5, 100))], [add(limit(1, A, 'sell', 5, 100))]],
    ['user', [add(limit(1, A, 'buy', 5, 100))], [add(limit(1, B, 'buy', 5, 100))]],
    ['id', [add(limit(1, A, 'buy', 5, 100))], [add(limit(2, A, 'buy', 5, 100))]],
    [
      'tif',
      [add(limit(1, A, 'buy', 5, 100))],
      [add(limit(1, A, 'buy', 5, 100, { tif: 'DAY' }))],
    ],
    [
      'queue order within a level',
      [add(limit(1, A, 'buy', 5, 100)), add(limit(2, B, 'buy', 5, 100))],
      [add(limit(2, B, 'buy', 5, 100)), add(limit(1, A, 'buy', 5, 100))],
    ],
    [
      'amended quantity',
      [add(limit(1, A, 'buy', 5, 100))],
      [add(limit(1, A, 'buy', 5, 100)), { op: 'amend', id: 1, qty: 4 }],
    ],
    ['a seen id with no live order', [], [add(limit(1, A, 'buy', 0, 100))]],
    [
      'a pending stop vs a canceled one',
      [add(stop(1, A, 'buy', 5, 100)), { op: 'cancel', id: 1 }],
      [add(stop(1, A, 'buy', 5, 100))],
    ],
    ['stop trigger', [add(stop(1, A, 'buy', 5, 100))], [add(stop(1, A, 'buy', 5, 101))]],
    [
      'stop vs stop_limit',
      [add(stop(1, A, 'buy', 5, 100))],
      [add(stopLimit(1, A, 'buy', 5, 100, 100))],
    ],
    [
      'arrival order of a resting order and a stop (close order)',
      [add(limit(1, A, 'buy', 5, 100, { tif: 'DAY' })), add(stop(2, A, 'buy', 5, 200, day))],
      [add(stop(2, A, 'buy', 5, 200, day)), add(limit(1, A, 'buy', 5, 100, { tif: 'DAY' }))],
    ],
  ]
  test('random books: different depth means different hash; same hash means same behavior', () => {
    fc.assert(
      fc.property(commands(40), commands(40), (left, right) => {
        const [a, b] = [bookAfter(left), bookAfter(right)]
        if (JSON.stringify(a.depth()) !== JSON.stringify(b.depth())) {
          expect(a.hash()).not.toBe(b.hash())
        }
        if (a.hash() === b.hash()) {
          // Close, then cancel and resubmit every id either stream used: all must agree.
          const probe = [{ op: 'close' } as const, ...[...left, ...right].map(cancelOf), ...left]
          expect(a.execute(probe)).toEqual(b.execute(probe))
        }
      }),
      { numRuns: runs(300) },
    )
  }, TIMEOUT)

  for (const [what, left, right] of differing) {
    test(`differs when the state differs: ${what}`, () => {
      const [a, b] = [bookAfter(left), bookAfter(right)]
      expect(a.hash()).not.toBe(b.hash())
      // And each state survives a round trip with its own hash.
      expect(restored(a).hash()).toBe(a.hash())
      expect(restored(b).hash()).toBe(b.hash())
    })
  }
})

describe('execute(batch)', () => {
  test('gives the same events and state as one call per command', () => {
    fc.assert(
      fc.property(commands(300), (stream) => {
        const batched = newOrderBook()
        const single = newOrderBook()
        const one = stream.flatMap((command) => run(single, command))
        expect(batched.execute(stream)).toEqual(one)
        expect(batched.hash()).toBe(single.hash())
      }),
      { numRuns: runs(100) },
    )
  }, TIMEOUT)
})

/** A cancel that targets whatever a command created, to probe which orders are live. */
function cancelOf(command: Command): Command {
  return { op: 'cancel', id: 'id' in command ? command.id : 1 }
}
