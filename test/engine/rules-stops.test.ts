// Stop and stop_limit orders (README.md, "Matching rules", 3 and 8): pending on arrival, fired
// after a trade by the last price, earliest submitted first, in cascades.
//
// Each scenario runs against the WASM engine and the reference model, and its expected events
// are written out in full: a scenario pins the exact events and their order.

import { describe, expect, test } from 'bun:test'
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
  triggered,
} from './fixtures.ts'
import { implementations } from './implementations.ts'

for (const [name, make] of implementations) {
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
}
