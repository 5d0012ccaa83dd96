// The invariant checker must catch broken books, or the differential test proves little: feed it
// hand-made events of a book that gets each invariant wrong.

import { describe, expect, test } from 'bun:test'
import type { BookEvent, Depth } from '../../src/engine/types.ts'
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
  pending,
  rested,
  stop,
  triggered,
} from './fixtures.ts'
import { Auditor } from './invariants.ts'

const empty: Depth = { bids: [], asks: [] }

/** An auditor that has seen two sells rest at 100 (ids 1 then 2) and a buy at 98 (id 3). */
function withBook(): Auditor {
  const auditor = new Auditor()
  auditor.step(add(limit(1, A, 'sell', 5, 100)), [rested(1, 100, 5)], {
    bids: [],
    asks: [[100, 5, 1]],
  })
  auditor.step(add(limit(2, B, 'sell', 5, 100)), [rested(2, 100, 5)], {
    bids: [],
    asks: [[100, 10, 2]],
  })
  auditor.step(add(limit(3, B, 'buy', 5, 98)), [rested(3, 98, 5)], {
    bids: [[98, 5, 1]],
    asks: [[100, 10, 2]],
  })
  return auditor
}

const book = (asks: Depth['asks'], bids: Depth['bids'] = [[98, 5, 1]]): Depth => ({ bids, asks })

describe('the invariant checker rejects', () => {
  test('a correct history (control)', () => {
    const auditor = withBook()
    const events = [fill(4, 1, 'buy', 100, 5), fill(4, 2, 'buy', 100, 1)]
    const order = add(market(4, C, 'buy', 6))
    expect(() => auditor.step(order, events, book([[100, 4, 1]]))).not.toThrow()
  })

  test('a fill that skips the oldest order of the level (FIFO)', () => {
    const events = [fill(4, 2, 'buy', 100, 2)]
    expect(() => withBook().step(add(market(4, C, 'buy', 2)), events, book([[100, 8, 2]]))).toThrow(
      /FIFO/,
    )
  })

  test('a fill at the taker’s price instead of the maker’s', () => {
    const events = [fill(4, 1, 'buy', 101, 2)]
    const order = add(limit(4, C, 'buy', 2, 101))
    expect(() => withBook().step(order, events, book([[100, 8, 2]]))).toThrow(/rests at 100/)
  })

  test('a self-trade', () => {
    const events = [fill(4, 1, 'buy', 100, 2)]
    expect(() => withBook().step(add(market(4, A, 'buy', 2)), events, book([[100, 8, 2]]))).toThrow(
      /self-trade/,
    )
  })

  test('quantity that disappears (rested less than what is left)', () => {
    const events = [fill(4, 1, 'buy', 100, 2)]
    const order = add(limit(4, C, 'sell', 6, 99))
    const depth = book([[99, 5, 1], [100, 10, 2]])
    expect(() => withBook().step(order, [rested(4, 99, 5)], depth)).toThrow(/rested 4/)
    expect(() => withBook().step(add(market(4, C, 'buy', 3)), events, book([[100, 8, 2]]))).toThrow(
      /no outcome/,
    )
  })

  test('a depth level that is not the sum of its orders', () => {
    const order = add(limit(4, C, 'sell', 1, 101))
    const depth = book([[100, 10, 2], [101, 2, 1]])
    expect(() => withBook().step(order, [rested(4, 101, 1)], depth)).toThrow(/depth/)
  })

  test('a crossed book', () => {
    const auditor = new Auditor()
    auditor.step(add(limit(1, A, 'buy', 5, 101)), [rested(1, 101, 5)], book([], [[101, 5, 1]]))
    const order = add(limit(2, B, 'sell', 5, 100))
    const depth = book([[100, 5, 1]], [[101, 5, 1]])
    expect(() => auditor.step(order, [rested(2, 100, 5)], depth)).toThrow(/crossed/)
  })

  test('a stop that should fire but does not, or fires out of turn', () => {
    const setup = () => {
      const auditor = withBook()
      auditor.step(add(stop(4, C, 'buy', 1, 100)), [pending(4, 100, 1)], book([[100, 10, 2]]))
      auditor.step(add(stop(5, C, 'buy', 1, 99)), [pending(5, 99, 1)], book([[100, 10, 2]]))
      return auditor
    }
    const trade = add(market(6, C, 'buy', 1))
    expect(() => setup().step(trade, [fill(6, 1, 'buy', 100, 1)], book([[100, 9, 2]]))).toThrow(
      /should have fired/,
    )
    const late: BookEvent[] = [fill(6, 1, 'buy', 100, 1), triggered(5)]
    expect(() => setup().step(trade, late, book([[100, 9, 2]]))).toThrow(/earliest/)
  })

  test('a stop that fires without a trade', () => {
    const auditor = withBook()
    auditor.step(add(stop(4, C, 'sell', 1, 100)), [pending(4, 100, 1)], book([[100, 10, 2]]))
    const events = [rested(6, 97, 1), triggered(4), canceled(4, 1, 'self_trade')]
    const order = add(limit(6, C, 'buy', 1, 97))
    expect(() => auditor.step(order, events, empty)).toThrow(/without a trade/)
  })

  test('close out of arrival order, or keeping a DAY order', () => {
    const setup = () => {
      const auditor = new Auditor()
      const day = { tif: 'DAY' } as const
      auditor.step(add(limit(1, A, 'buy', 1, 99, day)), [rested(1, 99, 1)], book([], [[99, 1, 1]]))
      const depth = book([], [[99, 1, 1], [98, 1, 1]])
      auditor.step(add(limit(2, A, 'buy', 1, 98, day)), [rested(2, 98, 1)], depth)
      return auditor
    }
    const close = { op: 'close' } as const
    expect(() => setup().step(close, [expired(2, 1), expired(1, 1)], empty)).toThrow(/close/)
    expect(() => setup().step(close, [expired(1, 1)], empty)).toThrow(/close/)
    expect(() => setup().step(close, [expired(1, 1), expired(2, 1)], empty)).not.toThrow()
  })
})
