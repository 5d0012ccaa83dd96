// Matching rules (README.md, "Matching rules", 4-7): price-time priority at the maker's price,
// IOC, market orders, post-only, self-trade prevention and fill-or-kill.
//
// Each scenario runs against the WASM engine and the reference model, and its expected events
// are written out in full: a scenario pins the exact events and their order.

import { describe, expect, test } from 'bun:test'
import { MAX_PRICE } from '../../src/engine/types.ts'
import { A, B, C, canceled, fill, limit, market, rejected, rested } from './fixtures.ts'
import { implementations } from './implementations.ts'

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
}
