// What happens to orders after they rest (README.md, "Matching rules", 9-13): cancel, amend,
// close, depth, and batched execute.
//
// Each scenario runs against the WASM engine and the reference model, and its expected events
// are written out in full: a scenario pins the exact events and their order.

import { describe, expect, test } from 'bun:test'
import { MAX_PRICE, MAX_QTY } from '../../src/engine/types.ts'
import {
  A,
  B,
  C,
  amended,
  canceled,
  expired,
  fill,
  limit,
  market,
  pending,
  rejected,
  rested,
  stop,
  stopLimit,
  triggered,
} from './fixtures.ts'
import { implementations } from './implementations.ts'

for (const [name, make] of implementations) {
  describe(`${name}: cancel`, () => {
    test('cancel removes a resting order and reports its open quantity', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100))
      book.submit(limit(2, B, 'buy', 2, 100))
      expect(book.cancel(1)).toEqual([canceled(1, 3, 'user')])
      expect(book.depth()).toEqual({ bids: [], asks: [] })
    })

    test('cancel of the head of a level lets the next order take its turn', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100))
      book.submit(limit(2, B, 'sell', 5, 100))
      book.cancel(1)
      expect(book.submit(market(3, C, 'buy', 2))).toEqual([fill(3, 2, 'buy', 100, 2)])
    })

    test('cancel of anything not resting or pending is unknown_order', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100))
      book.submit(limit(2, B, 'buy', 5, 100)) // fills 1 and 2 completely
      book.submit(limit(3, A, 'sell', 0, 100)) // rejected invalid
      book.submit(limit(4, A, 'sell', 1, 100, { tif: 'DAY' }))
      book.close() // expires 4
      book.submit(limit(5, A, 'sell', 1, 100))
      book.cancel(5)
      book.submit(limit(6, A, 'sell', 1, 100, { tif: 'IOC' })) // canceled ioc
      for (const id of [1, 2, 3, 4, 5, 6, 7]) {
        expect(book.cancel(id)).toEqual([rejected(id, 'unknown_order')])
      }
    })
  })

  describe(`${name}: amend`, () => {
    test('amend down keeps time priority', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 10, 100))
      book.submit(limit(2, B, 'buy', 10, 100))
      expect(book.amend(1, 3)).toEqual([amended(1, 3)])
      expect(book.depth()).toEqual({ bids: [[100, 13, 2]], asks: [] })
      expect(book.submit(market(3, C, 'sell', 5))).toEqual([
        fill(3, 1, 'sell', 100, 3),
        fill(3, 2, 'sell', 100, 2),
      ])
    })

    test('amend applies to the open quantity after partial fills', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 10, 100))
      book.submit(limit(2, B, 'buy', 6, 100))
      expect(book.amend(1, 4)).toEqual([rejected(1, 'invalid_amend')])
      expect(book.amend(1, 1)).toEqual([amended(1, 1)])
      expect(book.cancel(1)).toEqual([canceled(1, 1, 'user')])
    })

    test('amend to a quantity not strictly between 0 and open is invalid_amend', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 10, 100))
      for (const qty of [10, 11, 0, -1, 2.5, NaN, Infinity, MAX_QTY + 1]) {
        expect(book.amend(1, qty)).toEqual([rejected(1, 'invalid_amend')])
      }
      expect(book.depth()).toEqual({ bids: [], asks: [[100, 10, 1]] })
    })

    test('amend of a pending stop, or a finished or unknown order, is unknown_order', () => {
      const book = make()
      book.submit(stop(1, A, 'buy', 10, 105))
      book.submit(limit(2, A, 'sell', 5, 100))
      book.submit(limit(3, B, 'buy', 5, 100))
      book.submit(limit(4, B, 'buy', 5, 90))
      book.cancel(4)
      for (const id of [1, 2, 3, 4, 99]) {
        expect(book.amend(id, 1)).toEqual([rejected(id, 'unknown_order')])
      }
      // unknown_order wins over a bad quantity.
      expect(book.amend(1, 0)).toEqual([rejected(1, 'unknown_order')])
    })
  })

  describe(`${name}: close`, () => {
    test('close expires DAY orders, resting and pending, in arrival order; GTC stays', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 5, 99, { tif: 'DAY' }))
      book.submit(stop(2, A, 'sell', 3, 90, { tif: 'DAY' }))
      book.submit(limit(3, B, 'buy', 4, 99))
      book.submit(limit(4, B, 'sell', 6, 101, { tif: 'DAY' }))
      book.submit(stopLimit(5, C, 'buy', 2, 120, 121))
      book.submit(limit(6, C, 'buy', 7, 100, { tif: 'DAY' }))
      expect(book.close()).toEqual([expired(1, 5), expired(2, 3), expired(4, 6), expired(6, 7)])
      expect(book.depth()).toEqual({ bids: [[99, 4, 1]], asks: [] })
      expect(book.cancel(5)).toEqual([canceled(5, 2, 'user')])
      expect(book.close()).toEqual([])
    })

    test('close reports the open quantity of partly filled or amended DAY orders', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 10, 100, { tif: 'DAY' }))
      book.submit(limit(2, A, 'sell', 10, 101, { tif: 'DAY' }))
      book.submit(limit(3, B, 'buy', 4, 100))
      book.amend(2, 6)
      expect(book.close()).toEqual([expired(1, 6), expired(2, 6)])
      expect(book.cancel(1)).toEqual([rejected(1, 'unknown_order')])
      expect(book.amend(2, 1)).toEqual([rejected(2, 'unknown_order')])
    })

    test('arrival order, not price or queue position, decides close order', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 1, 105, { tif: 'DAY' }))
      book.submit(limit(2, A, 'sell', 1, 101, { tif: 'DAY' }))
      book.submit(limit(3, A, 'buy', 1, 90, { tif: 'DAY' }))
      book.submit(limit(4, A, 'buy', 1, 95, { tif: 'DAY' }))
      expect(book.close()).toEqual([expired(1, 1), expired(2, 1), expired(3, 1), expired(4, 1)])
    })

    test('a triggered stop_limit that rested keeps its original arrival for close', () => {
      const book = make()
      book.submit(stopLimit(1, A, 'buy', 5, 100, 99, { tif: 'DAY' })) // arrives first
      book.submit(limit(2, C, 'buy', 1, 99, { tif: 'DAY' }))
      book.submit(limit(3, B, 'sell', 1, 100))
      book.submit(limit(4, C, 'buy', 1, 100)) // trades at 100: 1 triggers and rests at 99
      expect(book.depth()).toEqual({ bids: [[99, 6, 2]], asks: [] })
      expect(book.close()).toEqual([expired(1, 5), expired(2, 1)])
    })

    test('close does not count as a trade: no stop fires', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 2, 100))
      book.submit(limit(2, B, 'buy', 1, 100))
      book.submit(stop(3, C, 'buy', 1, 90))
      expect(book.close()).toEqual([])
      expect(book.cancel(3)).toEqual([canceled(3, 1, 'user')])
    })
  })

  describe(`${name}: depth`, () => {
    test('depth aggregates each level: best first, total open qty, order count', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 1, 98))
      book.submit(limit(2, B, 'buy', 2, 100))
      book.submit(limit(3, C, 'buy', 3, 98))
      book.submit(limit(4, A, 'buy', 4, 99))
      book.submit(limit(5, A, 'sell', 5, 103))
      book.submit(limit(6, B, 'sell', 6, 101))
      book.submit(limit(7, C, 'sell', 7, 101))
      expect(book.depth()).toEqual({
        bids: [[100, 2, 1], [99, 4, 1], [98, 4, 2]],
        asks: [[101, 13, 2], [103, 5, 1]],
      })
      expect(book.depth(1)).toEqual({ bids: [[100, 2, 1]], asks: [[101, 13, 2]] })
      expect(book.depth(2)).toEqual({ bids: [[100, 2, 1], [99, 4, 1]], asks: book.depth().asks })
    })

    test('depth of an empty book is empty on both sides', () => {
      expect(make().depth()).toEqual({ bids: [], asks: [] })
    })

    test('level totals beyond 32 bits are exact', () => {
      const book = make()
      for (let id = 1; id <= 5; id++) book.submit(limit(id, id, 'sell', MAX_QTY, MAX_PRICE))
      expect(book.depth()).toEqual({ bids: [], asks: [[MAX_PRICE, 5 * MAX_QTY, 5]] })
      expect(book.submit(market(9, 9, 'buy', MAX_QTY, { tif: 'FOK' }))).toEqual([
        fill(9, 1, 'buy', MAX_PRICE, MAX_QTY),
      ])
      expect(book.depth()).toEqual({ bids: [], asks: [[MAX_PRICE, 4 * MAX_QTY, 4]] })
    })
  })

  describe(`${name}: execute`, () => {
    test('execute runs commands in order and concatenates their events', () => {
      const book = make()
      const events = book.execute([
        { op: 'new', ...limit(1, A, 'sell', 5, 100, { tif: 'DAY' }) },
        { op: 'new', ...stop(2, A, 'sell', 1, 100) },
        { op: 'amend', id: 1, qty: 4 },
        { op: 'new', ...limit(3, B, 'buy', 1, 100) },
        { op: 'cancel', id: 42 },
        { op: 'close' },
      ])
      expect(events).toEqual([
        rested(1, 100, 5),
        pending(2, 100, 1),
        amended(1, 4),
        fill(3, 1, 'buy', 100, 1),
        triggered(2),
        canceled(2, 1, 'no_liquidity'),
        rejected(42, 'unknown_order'),
        expired(1, 3),
      ])
      expect(book.execute([])).toEqual([])
    })
  })
}
