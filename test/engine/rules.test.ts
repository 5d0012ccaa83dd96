// One scenario per matching rule (README.md, "Matching rules"), each run against the WASM engine
// and the reference model. Expected events are written out in full: a scenario pins the exact
// events and their order, not just that "something happened".

import { describe, expect, test } from 'bun:test'
import { MAX_PRICE, MAX_QTY, type NewOrder } from '../../src/engine/types.ts'
import { newOrderBook } from '../../src/engine/wasm-file.ts'
import {
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

const A = 1
const B = 2
const C = 3

for (const [name, make] of implementations) {
  describe(`${name}: limit orders`, () => {
    test('a limit order with nothing to match rests and shows in depth', () => {
      const book = make()
      expect(book.submit(limit(1, A, 'buy', 10, 100))).toEqual([rested(1, 100, 10)])
      expect(book.submit(limit(2, A, 'sell', 4, 101, { tif: 'DAY' }))).toEqual([rested(2, 101, 4)])
      expect(book.depth()).toEqual({ bids: [[100, 10, 1]], asks: [[101, 4, 1]] })
    })

    test('a crossing buy trades at the resting (maker) price, not its own', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 101))
      expect(book.submit(limit(2, B, 'buy', 5, 105))).toEqual([fill(2, 1, 'buy', 101, 5)])
      expect(book.depth()).toEqual({ bids: [], asks: [] })
    })

    test('a crossing sell trades at the resting bid price and side is the taker side', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 5, 100))
      expect(book.submit(limit(2, B, 'sell', 3, 90))).toEqual([fill(2, 1, 'sell', 100, 3)])
      expect(book.depth()).toEqual({ bids: [[100, 2, 1]], asks: [] })
    })

    test('a limit does not trade beyond its price and rests the remainder', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 3, 101))
      book.submit(limit(2, A, 'sell', 3, 103))
      expect(book.submit(limit(3, B, 'buy', 5, 102))).toEqual([
        fill(3, 1, 'buy', 101, 3),
        rested(3, 102, 2),
      ])
      expect(book.depth()).toEqual({ bids: [[102, 2, 1]], asks: [[103, 3, 1]] })
    })

    test('a taker walks price levels best first, each at its own price', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 2, 98))
      book.submit(limit(2, A, 'buy', 2, 100))
      book.submit(limit(3, A, 'buy', 2, 99))
      expect(book.submit(limit(4, B, 'sell', 5, 98))).toEqual([
        fill(4, 2, 'sell', 100, 2),
        fill(4, 3, 'sell', 99, 2),
        fill(4, 1, 'sell', 98, 1),
      ])
      expect(book.depth()).toEqual({ bids: [[98, 1, 1]], asks: [] })
    })

    test('FIFO within a level: the oldest resting order fills first', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 2, 100))
      book.submit(limit(2, B, 'sell', 2, 100))
      book.submit(limit(3, A, 'sell', 2, 100))
      expect(book.submit(limit(4, C, 'buy', 5, 100))).toEqual([
        fill(4, 1, 'buy', 100, 2),
        fill(4, 2, 'buy', 100, 2),
        fill(4, 3, 'buy', 100, 1),
      ])
      expect(book.depth()).toEqual({ bids: [], asks: [[100, 1, 1]] })
    })

    test('a partially filled maker keeps its place at the head of the level', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100))
      book.submit(limit(2, B, 'sell', 5, 100))
      expect(book.submit(limit(3, C, 'buy', 2, 100))).toEqual([fill(3, 1, 'buy', 100, 2)])
      expect(book.submit(limit(4, C, 'buy', 4, 100))).toEqual([
        fill(4, 1, 'buy', 100, 3),
        fill(4, 2, 'buy', 100, 1),
      ])
    })

    test('IOC fills what it can and cancels the rest with reason ioc', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 3, 100))
      expect(book.submit(limit(2, B, 'buy', 5, 100, { tif: 'IOC' }))).toEqual([
        fill(2, 1, 'buy', 100, 3),
        canceled(2, 2, 'ioc'),
      ])
      expect(book.depth()).toEqual({ bids: [], asks: [] })
    })

    test('IOC with nothing to match is canceled in full and never rests', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 3, 101))
      expect(book.submit(limit(2, B, 'buy', 5, 100, { tif: 'IOC' }))).toEqual([
        canceled(2, 5, 'ioc'),
      ])
      expect(book.depth()).toEqual({ bids: [], asks: [[101, 3, 1]] })
    })

    test('a fully filled IOC or GTC order gets no outcome event', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 10, 100))
      expect(book.submit(limit(2, B, 'buy', 4, 100, { tif: 'IOC' }))).toEqual([
        fill(2, 1, 'buy', 100, 4),
      ])
      expect(book.submit(limit(3, B, 'buy', 6, 100))).toEqual([fill(3, 1, 'buy', 100, 6)])
    })
  })

  describe(`${name}: market orders`, () => {
    test('a market order takes any price, best first', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 2, 100))
      book.submit(limit(2, A, 'sell', 2, MAX_PRICE))
      expect(book.submit(market(3, B, 'buy', 4))).toEqual([
        fill(3, 1, 'buy', 100, 2),
        fill(3, 2, 'buy', MAX_PRICE, 2),
      ])
    })

    test('a market remainder is canceled with no_liquidity whatever its tif (never rests)', () => {
      for (const tif of ['GTC', 'DAY', 'IOC'] as const) {
        const book = make()
        book.submit(limit(1, A, 'buy', 3, 100))
        expect(book.submit(market(2, B, 'sell', 5, { tif }))).toEqual([
          fill(2, 1, 'sell', 100, 3),
          canceled(2, 2, 'no_liquidity'),
        ])
        expect(book.depth()).toEqual({ bids: [], asks: [] })
      }
    })

    test('a market order into an empty side is canceled in full', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 3, 100))
      expect(book.submit(market(2, B, 'buy', 5, { tif: 'GTC' }))).toEqual([
        canceled(2, 5, 'no_liquidity'),
      ])
      expect(book.depth()).toEqual({ bids: [[100, 3, 1]], asks: [] })
    })
  })

  describe(`${name}: post-only`, () => {
    test('a post-only order that would cross is rejected and leaves the book unchanged', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 101))
      book.submit(limit(2, A, 'buy', 5, 99))
      const before = book.depth()
      expect(book.submit(limit(3, B, 'buy', 1, 101, { postOnly: true }))).toEqual([
        rejected(3, 'post_only'),
      ])
      expect(book.submit(limit(4, B, 'buy', 1, 150, { postOnly: true, tif: 'DAY' }))).toEqual([
        rejected(4, 'post_only'),
      ])
      expect(book.submit(limit(5, B, 'sell', 1, 99, { postOnly: true }))).toEqual([
        rejected(5, 'post_only'),
      ])
      expect(book.depth()).toEqual(before)
    })

    test('a post-only order that does not cross rests like any limit', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 101))
      expect(book.submit(limit(2, B, 'buy', 3, 100, { postOnly: true }))).toEqual([
        rested(2, 100, 3),
      ])
      expect(book.submit(limit(3, B, 'sell', 3, 102, { postOnly: true, tif: 'DAY' }))).toEqual([
        rested(3, 102, 3),
      ])
      // postOnly: false is an ordinary limit order and may take liquidity.
      expect(book.submit(limit(4, C, 'sell', 3, 1, { postOnly: false }))).toEqual([
        fill(4, 2, 'sell', 100, 3),
      ])
    })

    test('post-only against an empty opposite side rests', () => {
      const book = make()
      expect(book.submit(limit(1, A, 'sell', 5, 1, { postOnly: true }))).toEqual([rested(1, 1, 5)])
    })

    test('crossing the same user’s own order is still post_only, not self-trade', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100))
      expect(book.submit(limit(2, A, 'buy', 5, 100, { postOnly: true }))).toEqual([
        rejected(2, 'post_only'),
      ])
    })
  })

  describe(`${name}: self-trade prevention`, () => {
    test('meeting its own order cancels the taker remainder; earlier fills stand', () => {
      const book = make()
      book.submit(limit(1, B, 'sell', 3, 100))
      book.submit(limit(2, A, 'sell', 5, 100))
      book.submit(limit(3, B, 'sell', 5, 100))
      expect(book.submit(limit(4, A, 'buy', 10, 101))).toEqual([
        fill(4, 1, 'buy', 100, 3),
        canceled(4, 7, 'self_trade'),
      ])
      // The user's own order and the one behind it are untouched, and the taker did not rest.
      expect(book.depth()).toEqual({ bids: [], asks: [[100, 10, 2]] })
      expect(book.submit(limit(5, C, 'buy', 6, 100))).toEqual([
        fill(5, 2, 'buy', 100, 5),
        fill(5, 3, 'buy', 100, 1),
      ])
    })

    test('self-trade on the first order cancels the whole taker, whatever its type', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 5, 100))
      book.submit(limit(2, B, 'buy', 5, 99))
      expect(book.submit(limit(3, A, 'sell', 4, 99))).toEqual([canceled(3, 4, 'self_trade')])
      expect(book.submit(limit(4, A, 'sell', 4, 99, { tif: 'IOC' }))).toEqual([
        canceled(4, 4, 'self_trade'),
      ])
      expect(book.submit(market(5, A, 'sell', 4, { tif: 'DAY' }))).toEqual([
        canceled(5, 4, 'self_trade'),
      ])
      expect(book.depth()).toEqual({ bids: [[100, 5, 1], [99, 5, 1]], asks: [] })
    })

    test('the own order on a worse level stops matching only when reached', () => {
      const book = make()
      book.submit(limit(1, B, 'buy', 2, 100))
      book.submit(limit(2, A, 'buy', 2, 99))
      expect(book.submit(market(3, A, 'sell', 5))).toEqual([
        fill(3, 1, 'sell', 100, 2),
        canceled(3, 3, 'self_trade'),
      ])
      expect(book.depth()).toEqual({ bids: [[99, 2, 1]], asks: [] })
    })

    test('a limit whose price stops before the own order rests normally', () => {
      const book = make()
      book.submit(limit(1, B, 'sell', 2, 100))
      book.submit(limit(2, A, 'sell', 2, 101))
      expect(book.submit(limit(3, A, 'buy', 5, 100))).toEqual([
        fill(3, 1, 'buy', 100, 2),
        rested(3, 100, 3),
      ])
    })
  })

  describe(`${name}: fill-or-kill`, () => {
    test('FOK fills completely across levels when enough is available', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 3, 100))
      book.submit(limit(2, B, 'sell', 3, 101))
      expect(book.submit(limit(3, C, 'buy', 6, 101, { tif: 'FOK' }))).toEqual([
        fill(3, 1, 'buy', 100, 3),
        fill(3, 2, 'buy', 101, 3),
      ])
      expect(book.depth()).toEqual({ bids: [], asks: [] })
    })

    test('FOK that cannot fill completely is canceled in full with no fill', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 3, 100))
      book.submit(limit(2, B, 'sell', 3, 102))
      const before = book.depth()
      expect(book.submit(limit(3, C, 'buy', 4, 101, { tif: 'FOK' }))).toEqual([
        canceled(3, 4, 'fok'),
      ])
      expect(book.submit(market(4, C, 'buy', 7, { tif: 'FOK' }))).toEqual([canceled(4, 7, 'fok')])
      expect(book.depth()).toEqual(before)
    })

    test('FOK market counts liquidity at any price', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 3, 100))
      book.submit(limit(2, B, 'buy', 3, 1))
      expect(book.submit(market(3, C, 'sell', 6, { tif: 'FOK' }))).toEqual([
        fill(3, 1, 'sell', 100, 3),
        fill(3, 2, 'sell', 1, 3),
      ])
    })

    test('FOK counting stops at the first order of the same user', () => {
      const book = make()
      book.submit(limit(1, B, 'sell', 3, 100))
      book.submit(limit(2, A, 'sell', 3, 100))
      book.submit(limit(3, B, 'sell', 30, 100))
      // 36 shares at the price, but only 3 before A's own order: killed, nothing traded.
      expect(book.submit(limit(4, A, 'buy', 4, 100, { tif: 'FOK' }))).toEqual([
        canceled(4, 4, 'fok'),
      ])
      expect(book.depth()).toEqual({ bids: [], asks: [[100, 36, 3]] })
      // Exactly what is ahead of the own order is enough.
      expect(book.submit(limit(5, A, 'buy', 3, 100, { tif: 'FOK' }))).toEqual([
        fill(5, 1, 'buy', 100, 3),
      ])
    })

    test('FOK exactly equal to the available quantity fills', () => {
      const book = make()
      book.submit(limit(1, A, 'buy', 3, 100))
      book.submit(limit(2, A, 'buy', 2, 99))
      expect(book.submit(limit(3, B, 'sell', 5, 99, { tif: 'FOK' }))).toEqual([
        fill(3, 1, 'sell', 100, 3),
        fill(3, 2, 'sell', 99, 2),
      ])
    })
  })

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

  describe(`${name}: stops`, () => {
    test('a stop is pending and never triggers on arrival, even if already satisfied', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100))
      book.submit(limit(2, B, 'buy', 1, 100)) // last trade 100
      book.submit(limit(3, C, 'buy', 5, 90))
      expect(book.submit(stop(4, C, 'buy', 2, 95))).toEqual([pending(4, 95, 2)])
      expect(book.submit(stopLimit(5, A, 'sell', 2, 105, 90))).toEqual([pending(5, 105, 2)])
      expect(book.depth()).toEqual({ bids: [[90, 5, 1]], asks: [[100, 4, 1]] })
    })

    test('commands that do not trade trigger nothing, even when a stop is satisfied', () => {
      const book = make()
      book.submit(limit(1, A, 'sell', 5, 100))
      book.submit(limit(2, B, 'buy', 1, 100)) // last trade 100
      book.submit(stop(3, C, 'buy', 1, 95))
      expect(book.submit(limit(4, A, 'sell', 1, 101))).toEqual([rested(4, 101, 1)])
      expect(book.cancel(4)).toEqual([canceled(4, 1, 'user')])
      expect(book.amend(1, 3)).toEqual([amended(1, 3)])
      expect(book.submit(limit(5, A, 'buy', 1, 100, { tif: 'IOC' }))).toEqual([
        canceled(5, 1, 'self_trade'),
      ])
      expect(book.close()).toEqual([])
      // The next trade (at 100 >= 95) fires it.
      expect(book.submit(limit(6, B, 'buy', 1, 100))).toEqual([
        fill(6, 1, 'buy', 100, 1),
        triggered(3),
        fill(3, 1, 'buy', 100, 1),
      ])
    })

    test('a buy stop triggers when last >= stop; a sell stop when last <= stop', () => {
      const book = make()
      book.submit(stop(1, A, 'buy', 1, 101))
      book.submit(stop(2, A, 'sell', 1, 99))
      book.submit(limit(3, B, 'sell', 10, 100))
      book.submit(limit(4, B, 'buy', 10, 99))
      // Trades at 100 trigger neither.
      expect(book.submit(limit(5, C, 'buy', 1, 100))).toEqual([fill(5, 3, 'buy', 100, 1)])
      // A trade exactly at the sell stop's trigger fires it (market sell hits the 99 bid).
      expect(book.submit(market(6, C, 'sell', 1))).toEqual([
        fill(6, 4, 'sell', 99, 1),
        triggered(2),
        fill(2, 4, 'sell', 99, 1),
      ])
      book.submit(limit(7, B, 'sell', 1, 101))
      expect(book.submit(limit(8, C, 'buy', 10, 101))).toEqual([
        fill(8, 3, 'buy', 100, 9),
        fill(8, 7, 'buy', 101, 1),
        triggered(1),
        canceled(1, 1, 'no_liquidity'),
      ])
    })

    test('the triggering order finishes (outcome included) before the stop fires', () => {
      const book = make()
      book.submit(stop(1, A, 'sell', 3, 100))
      book.submit(limit(2, B, 'buy', 2, 100))
      book.submit(limit(3, B, 'buy', 5, 98))
      expect(book.submit(limit(4, C, 'sell', 4, 100))).toEqual([
        fill(4, 2, 'sell', 100, 2),
        rested(4, 100, 2),
        triggered(1),
        fill(1, 3, 'sell', 98, 3),
      ])
    })

    test('a triggered stop_limit rests at its price at the tail of the level', () => {
      const book = make()
      book.submit(stopLimit(1, A, 'buy', 5, 100, 99))
      book.submit(limit(2, B, 'buy', 1, 99)) // joins 99 before the stop does
      book.submit(limit(3, C, 'sell', 2, 100))
      expect(book.submit(limit(4, B, 'buy', 2, 100))).toEqual([
        fill(4, 3, 'buy', 100, 2),
        triggered(1),
        rested(1, 99, 5),
      ])
      expect(book.depth()).toEqual({ bids: [[99, 6, 2]], asks: [] })
      expect(book.submit(market(5, C, 'sell', 3))).toEqual([
        fill(5, 2, 'sell', 99, 1),
        fill(5, 1, 'sell', 99, 2),
      ])
    })

    test('a triggered stop_limit trades up to its limit, then rests', () => {
      const book = make()
      book.submit(stopLimit(1, A, 'buy', 5, 100, 101))
      book.submit(limit(2, B, 'sell', 1, 100))
      book.submit(limit(3, B, 'sell', 2, 101))
      book.submit(limit(4, B, 'sell', 2, 102))
      expect(book.submit(market(5, C, 'buy', 1))).toEqual([
        fill(5, 2, 'buy', 100, 1),
        triggered(1),
        fill(1, 3, 'buy', 101, 2),
        rested(1, 101, 3),
      ])
    })

    test('a triggered stop uses its own tif: IOC, FOK and self-trade apply', () => {
      const book = make()
      book.submit(stopLimit(1, A, 'sell', 5, 100, 99, { tif: 'IOC' }))
      book.submit(stop(2, A, 'sell', 50, 100, { tif: 'FOK' }))
      book.submit(stop(3, C, 'sell', 5, 100, { tif: 'DAY' }))
      book.submit(limit(4, B, 'buy', 1, 100))
      book.submit(limit(5, B, 'buy', 2, 99))
      book.submit(limit(6, C, 'buy', 9, 98))
      expect(book.submit(limit(7, C, 'sell', 1, 100))).toEqual([
        fill(7, 4, 'sell', 100, 1),
        triggered(1),
        fill(1, 5, 'sell', 99, 2),
        canceled(1, 3, 'ioc'),
        triggered(2),
        canceled(2, 50, 'fok'),
        triggered(3),
        canceled(3, 5, 'self_trade'),
      ])
      expect(book.depth()).toEqual({ bids: [[98, 9, 1]], asks: [] })
    })

    test('stops cascade: a triggered stop’s trades can trigger further stops', () => {
      const book = make()
      book.submit(limit(1, B, 'buy', 1, 100))
      book.submit(limit(2, B, 'buy', 1, 99))
      book.submit(limit(3, B, 'buy', 1, 98))
      book.submit(stop(4, A, 'sell', 1, 99)) // fires at 99
      book.submit(stop(5, C, 'sell', 1, 98)) // fires once 4 trades at 98
      book.submit(stop(6, C, 'sell', 1, 97)) // never: nothing trades below 98
      expect(book.submit(limit(7, A, 'sell', 2, 99))).toEqual([
        fill(7, 1, 'sell', 100, 1),
        fill(7, 2, 'sell', 99, 1),
        triggered(4),
        fill(4, 3, 'sell', 98, 1),
        triggered(5),
        canceled(5, 1, 'no_liquidity'),
      ])
      expect(book.cancel(6)).toEqual([canceled(6, 1, 'user')])
    })

    test('among all triggering stops, both sides, the earliest submitted fires first', () => {
      const book = make()
      book.submit(stop(1, A, 'buy', 1, 110)) // not triggered by 100
      book.submit(stop(2, A, 'sell', 1, 100)) // earliest triggering
      book.submit(stop(3, C, 'buy', 1, 95)) // triggering, later
      book.submit(stop(4, A, 'buy', 1, 100)) // triggering, latest
      book.submit(limit(5, B, 'sell', 5, 100))
      book.submit(limit(6, B, 'buy', 5, 90))
      expect(book.submit(limit(7, C, 'buy', 1, 100))).toEqual([
        fill(7, 5, 'buy', 100, 1),
        triggered(2),
        fill(2, 6, 'sell', 90, 1), // last is now 90: the buy stops no longer trigger
      ])
      // Trading at 100 again fires the two buy stops, earliest (3) first.
      expect(book.submit(limit(8, C, 'buy', 1, 100))).toEqual([
        fill(8, 5, 'buy', 100, 1),
        triggered(3),
        fill(3, 5, 'buy', 100, 1),
        triggered(4),
        fill(4, 5, 'buy', 100, 1),
      ])
    })

    test('the stop check uses the last price after each fired stop', () => {
      const book = make()
      book.submit(stop(1, A, 'buy', 1, 100))
      book.submit(stop(2, A, 'buy', 1, 101))
      book.submit(limit(3, B, 'sell', 1, 100))
      book.submit(limit(4, B, 'sell', 1, 101))
      book.submit(limit(5, B, 'sell', 1, 102))
      expect(book.submit(limit(6, C, 'buy', 1, 100))).toEqual([
        fill(6, 3, 'buy', 100, 1),
        triggered(1),
        fill(1, 4, 'buy', 101, 1),
        triggered(2),
        fill(2, 5, 'buy', 102, 1),
      ])
    })

    test('a pending stop can be canceled; it then never fires', () => {
      const book = make()
      book.submit(stop(1, A, 'buy', 4, 100))
      expect(book.cancel(1)).toEqual([canceled(1, 4, 'user')])
      book.submit(limit(2, B, 'sell', 5, 100))
      expect(book.submit(limit(3, C, 'buy', 1, 100))).toEqual([fill(3, 2, 'buy', 100, 1)])
      expect(book.cancel(1)).toEqual([rejected(1, 'unknown_order')])
    })

    test('a triggered stop is finished as a stop: it cannot be canceled as pending', () => {
      const book = make()
      book.submit(stop(1, A, 'buy', 4, 100))
      book.submit(limit(2, B, 'sell', 5, 100))
      book.submit(limit(3, C, 'buy', 1, 100))
      expect(book.cancel(1)).toEqual([rejected(1, 'unknown_order')])
    })

    test('pending stops do not show in depth', () => {
      const book = make()
      book.submit(stopLimit(1, A, 'buy', 4, 100, 100))
      book.submit(stop(2, A, 'sell', 4, 100))
      expect(book.depth()).toEqual({ bids: [], asks: [] })
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
