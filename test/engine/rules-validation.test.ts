// Order of checks for `new` (README.md, "Matching rules", 1-2): duplicate ids, then validation;
// and the ranges of ids and users.
//
// Each scenario runs against the WASM engine and the reference model, and its expected events
// are written out in full: a scenario pins the exact events and their order.

import { describe, expect, test } from 'bun:test'
import { MAX_PRICE, MAX_QTY, type NewOrder } from '../../src/engine/types.ts'
import { newOrderBook } from '../../src/engine/wasm-file.ts'
import {
  A,
  B,
  C,
  amended,
  canceled,
  fill,
  limit,
  market,
  pending,
  rejected,
  rested,
  stop,
  stopLimit,
} from './fixtures.ts'
import { implementations } from './implementations.ts'

for (const [name, make] of implementations) {
  describe(`${name}: validation and duplicate ids`, () => {
    const invalid: [string, NewOrder][] = [
      ['qty 0', limit(1, A, 'buy', 0, 100)],
      ['negative qty', limit(1, A, 'buy', -5, 100)],
      ['fractional qty', limit(1, A, 'buy', 1.5, 100)],
      ['NaN qty', limit(1, A, 'buy', NaN, 100)],
      ['infinite qty', limit(1, A, 'buy', Infinity, 100)],
      ['qty above MAX_QTY', limit(1, A, 'buy', MAX_QTY + 1, 100)],
      ['limit price 0', limit(1, A, 'buy', 1, 0)],
      ['limit without price', { ...limit(1, A, 'buy', 1, 1), price: undefined }],
      ['negative limit price', limit(1, A, 'buy', 1, -100)],
      ['fractional limit price', limit(1, A, 'sell', 1, 100.5)],
      ['limit price above MAX_PRICE', limit(1, A, 'sell', 1, MAX_PRICE + 1)],
      ['limit with a stop', limit(1, A, 'buy', 1, 100, { stop: 100 })],
      ['market with a price', market(1, A, 'buy', 1, { price: 100 })],
      ['market with a stop', market(1, A, 'buy', 1, { stop: 100 })],
      ['stop without trigger', { ...stop(1, A, 'buy', 1, 1), stop: undefined }],
      ['stop trigger 0', stop(1, A, 'buy', 1, 0)],
      ['fractional stop trigger', stop(1, A, 'buy', 1, 99.5)],
      ['stop trigger above MAX_PRICE', stop(1, A, 'buy', 1, MAX_PRICE + 1)],
      ['stop with a price', stop(1, A, 'buy', 1, 100, { price: 100 })],
      ['stop_limit without price', { ...stopLimit(1, A, 'buy', 1, 100, 1), price: undefined }],
      ['stop_limit without trigger', { ...stopLimit(1, A, 'buy', 1, 1, 100), stop: undefined }],
      ['stop_limit price 0', stopLimit(1, A, 'buy', 1, 100, 0)],
      ['stop_limit trigger -1', stopLimit(1, A, 'buy', 1, -1, 100)],
      ['stop_limit price above MAX_PRICE', stopLimit(1, A, 'sell', 1, 100, MAX_PRICE + 1)],
      ['post-only IOC', limit(1, A, 'buy', 1, 100, { postOnly: true, tif: 'IOC' })],
      ['post-only FOK', limit(1, A, 'buy', 1, 100, { postOnly: true, tif: 'FOK' })],
      ['post-only market', market(1, A, 'buy', 1, { postOnly: true, tif: 'GTC' })],
      ['post-only stop', stop(1, A, 'buy', 1, 100, { postOnly: true })],
      ['post-only stop_limit', stopLimit(1, A, 'buy', 1, 100, 100, { postOnly: true })],
    ]
    for (const [what, order] of invalid) {
      test(`${what} is rejected invalid, and its id is used up`, () => {
        const book = make()
        expect(book.submit(order)).toEqual([rejected(1, 'invalid')])
        expect(book.depth()).toEqual({ bids: [], asks: [] })
        expect(book.submit(limit(1, A, 'buy', 1, 100))).toEqual([rejected(1, 'duplicate_id')])
      })
    }

    test('the limits themselves are valid: qty MAX_QTY, price MAX_PRICE, absent = 0', () => {
      const book = make()
      expect(book.submit(limit(1, A, 'sell', MAX_QTY, MAX_PRICE))).toEqual([
        rested(1, MAX_PRICE, MAX_QTY),
      ])
      expect(book.submit(limit(2, A, 'buy', 1, 1, { stop: 0 }))).toEqual([rested(2, 1, 1)])
      expect(book.submit(market(3, B, 'buy', 1, { price: 0, stop: 0 }))).toEqual([
        fill(3, 1, 'buy', MAX_PRICE, 1),
      ])
      expect(book.submit(stop(4, B, 'buy', 1, MAX_PRICE, { price: 0 }))).toEqual([
        pending(4, MAX_PRICE, 1),
      ])
      expect(book.submit(stopLimit(5, B, 'sell', MAX_QTY, 1, MAX_PRICE))).toEqual([
        pending(5, 1, MAX_QTY),
      ])
    })

    test('a reused id is duplicate_id whatever became of the first order', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100)) // rests
      book.submit(limit(2, B, 'buy', 2, 100)) // fills
      book.submit(limit(3, B, 'buy', 1, 101, { tif: 'IOC' })) // fills completely
      book.submit(limit(4, A, 'buy', 1, 101, { postOnly: true })) // rejected post_only
      book.submit(stop(5, A, 'buy', 1, 200)) // pending
      book.submit(limit(6, A, 'buy', 1, 90))
      book.cancel(6) // canceled by user
      for (const id of [1, 2, 3, 4, 5, 6]) {
        expect(book.submit(limit(id, C, 'sell', 1, 1000))).toEqual([rejected(id, 'duplicate_id')])
      }
      expect(book.depth()).toEqual({ bids: [], asks: [[100, 2, 1]] })
    })

    test('a duplicate does not disturb the original order', () => {
      const book = make()
      book.submit(limit(7, A, 'sell', 5, 100))
      expect(book.submit(limit(7, B, 'buy', 5, 100))).toEqual([rejected(7, 'duplicate_id')])
      expect(book.submit(market(7, B, 'buy', 5))).toEqual([rejected(7, 'duplicate_id')])
      expect(book.depth()).toEqual({ bids: [], asks: [[100, 5, 1]] })
      expect(book.cancel(7)).toEqual([canceled(7, 5, 'user')])
    })

    test('an id used by cancel or amend only is still free for a new order', () => {
      const book = make()
      book.cancel(9)
      book.amend(9, 1)
      expect(book.submit(limit(9, A, 'buy', 1, 100))).toEqual([rested(9, 100, 1)])
    })

    test('ids up to the largest safe integer are distinct and usable', () => {
      const book = make()
      const big = Number.MAX_SAFE_INTEGER
      expect(book.submit(limit(big, A, 'sell', 5, 100))).toEqual([rested(big, 100, 5)])
      // big - 1 and 2^32 + big differ from big only in high bits: no aliasing.
      expect(book.submit(limit(big - 1, B, 'buy', 2, 100))).toEqual([
        fill(big - 1, big, 'buy', 100, 2),
      ])
      expect(book.submit(limit(2 ** 32 + 1, B, 'sell', 1, 101))).toEqual([
        rested(2 ** 32 + 1, 101, 1),
      ])
      expect(book.submit(limit(1, B, 'sell', 1, 102))).toEqual([rested(1, 102, 1)])
      const signBit = 2 ** 31
      expect(book.submit(limit(signBit, B, 'sell', 1, 103))).toEqual([rested(signBit, 103, 1)])
      expect(book.submit(limit(signBit, B, 'sell', 1, 103))).toEqual([
        rejected(signBit, 'duplicate_id'),
      ])
      expect(book.cancel(signBit + 1)).toEqual([rejected(signBit + 1, 'unknown_order')])
      expect(book.cancel(signBit)).toEqual([canceled(signBit, 1, 'user')])
      expect(book.submit(limit(big, C, 'sell', 1, 100))).toEqual([rejected(big, 'duplicate_id')])
      expect(book.amend(big, 1)).toEqual([amended(big, 1)])
      expect(book.cancel(big)).toEqual([canceled(big, 1, 'user')])
      expect(book.cancel(2 ** 32 + 1)).toEqual([canceled(2 ** 32 + 1, 1, 'user')])
      expect(book.depth()).toEqual({ bids: [], asks: [[102, 1, 1]] })
    })

    test('sparse ids sharing their low bits stay distinct through cancels and amends', () => {
      const book = make()
      // Multiples of 2^20 (and 2^40) look alike to anything that hashes or pages by low bits.
      const ids = Array.from({ length: 300 }, (_, i) => (i + 1) * 2 ** (i % 3 === 0 ? 40 : 20))
      const qty = (i: number) => 1 + (i % 4)
      ids.forEach((id, i) => book.submit(limit(id, A, 'sell', qty(i), 200 + (i % 10))))
      // Amend, then cancel, every other order: holes all along any shared probe sequence.
      ids.forEach((id, i) => {
        if (i % 4 === 2) expect(book.amend(id, 1)).toEqual([amended(id, 1)])
      })
      // (Each of these has 1 open: qty(i) is 1 when i % 4 === 0, and the others were amended.)
      ids.forEach((id, i) => {
        if (i % 2 === 0) expect(book.cancel(id)).toEqual([canceled(id, 1, 'user')])
      })
      // The others are all still there, found by id, with their own quantities.
      ids.forEach((id, i) => {
        if (i % 2 === 0) return
        expect(book.amend(id, qty(i))).toEqual([rejected(id, 'invalid_amend')])
        expect(book.cancel(id)).toEqual([canceled(id, qty(i), 'user')])
        expect(book.cancel(id)).toEqual([rejected(id, 'unknown_order')])
      })
      expect(book.depth()).toEqual({ bids: [], asks: [] })
      expect(book.submit(limit(ids[7], B, 'buy', 1, 1))).toEqual([rejected(ids[7], 'duplicate_id')])
    })

    // types.ts: user ids are integers in [1, 2^31); the book only compares them.
    test('users up to 2^31 - 1 are distinct', () => {
      const book = make()
      const big = 2 ** 31 - 1
      expect(book.submit(limit(1, big, 'sell', 5, 100))).toEqual([rested(1, 100, 5)])
      // big - 1 is another user: it trades with big instead of self-trading.
      expect(book.submit(limit(2, big - 1, 'buy', 2, 100))).toEqual([fill(2, 1, 'buy', 100, 2)])
      expect(book.submit(limit(3, big, 'buy', 1, 100))).toEqual([canceled(3, 1, 'self_trade')])
      // 2^16 + 1 and 1 share the low 16 bits but are different users.
      expect(book.submit(limit(4, 1, 'sell', 1, 101))).toEqual([rested(4, 101, 1)])
      expect(book.submit(limit(5, 2 ** 16 + 1, 'buy', 4, 101))).toEqual([
        fill(5, 1, 'buy', 100, 3),
        fill(5, 4, 'buy', 101, 1),
      ])
    })
  })
}

describe('wasm: values the wrapper cannot encode are refused, never aliased', () => {
  const cases: [string, NewOrder][] = [
    ['user 0', limit(1, 0, 'buy', 1, 100)],
    ['user 2^31', limit(1, 2 ** 31, 'buy', 1, 100)],
    ['user 2^32 + 1 (would alias user 1)', limit(1, 2 ** 32 + 1, 'buy', 1, 100)],
    ['id 0', limit(0, A, 'buy', 1, 100)],
    ['fractional id', limit(1.5, A, 'buy', 1, 100)],
    ['id 2^53', limit(2 ** 53, A, 'buy', 1, 100)],
  ]
  for (const [what, order] of cases) {
    test(what, () => {
      const book = newOrderBook()
      book.submit(limit(9, A, 'sell', 1, 100))
      const hash = book.hash()
      expect(() => book.submit(order)).toThrow(RangeError)
      expect(book.hash()).toBe(hash)
    })
  }
})
