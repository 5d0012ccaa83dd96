// Sizes the random streams never reach: enough orders to grow the engine's tables and memory,
// batches longer than one command buffer, one command making tens of thousands of events, and
// stop cascades thousands deep. Expected results are computed directly (the reference model is
// too slow at this size), from the same rules: price-time priority, fills at the maker's price.

import { describe, expect, test } from 'bun:test'
import type { BookEvent, DepthLevel, NewOrder } from '../../src/engine/types.ts'
import { MAX_QTY } from '../../src/engine/types.ts'
import { newOrderBook } from '../../src/engine/wasm-file.ts'
import {
  add,
  canceled,
  fill,
  limit,
  market,
  rejected,
  rested,
  stop,
  triggered,
} from './fixtures.ts'

const N = 100_000

interface Spec {
  order: NewOrder
  open: number
}

/** N resting orders: bids at 1..400, asks at 1001..1400, ids small and near 2^53, 5 users. */
function restingOrders(): Spec[] {
  return Array.from({ length: N }, (_, i) => {
    const id = i % 2 === 0 ? i + 1 : Number.MAX_SAFE_INTEGER - i
    const side = i % 3 === 0 ? 'sell' : 'buy'
    const price = side === 'buy' ? 1 + ((i * 7) % 400) : 1001 + ((i * 13) % 400)
    const qty = 1 + (i % 7)
    return { order: limit(id, 1 + (i % 5), side, qty, price), open: qty }
  })
}

/** Depth from the specs still open, in arrival order within a level. */
function levels(specs: Spec[], side: 'buy' | 'sell'): DepthLevel[] {
  const byPrice = new Map<number, DepthLevel>()
  for (const { order, open } of specs) {
    if (order.side !== side || open === 0) continue
    const level = byPrice.get(order.price!) ?? [order.price!, 0, 0]
    level[1] += open
    level[2] += 1
    byPrice.set(order.price!, level)
  }
  return [...byPrice.values()].sort((a, b) => (side === 'buy' ? b[0] - a[0] : a[0] - b[0]))
}

describe('engine at scale', () => {
  test(`${N} resting orders: duplicates, cancels, amends, snapshot, one sweep`, () => {
    const book = newOrderBook()
    const specs = restingOrders()
    const events = book.execute(specs.map((s) => add(s.order)))
    expect(events).toEqual(specs.map(({ order: o }) => rested(o.id, o.price!, o.qty)))

    const again = book.execute(specs.map((s) => add({ ...s.order, price: 1200 })))
    expect(again).toEqual(specs.map((s) => rejected(s.order.id, 'duplicate_id')))

    const cancels = specs.filter((_, i) => i % 3 === 1)
    expect(book.execute(cancels.map((s) => ({ op: 'cancel', id: s.order.id })))).toEqual(
      cancels.map((s) => canceled(s.order.id, s.open, 'user')),
    )
    for (const s of cancels) s.open = 0
    const amends = specs.filter((s, i) => i % 5 === 0 && s.open > 1)
    expect(book.execute(amends.map((s) => ({ op: 'amend', id: s.order.id, qty: 1 })))).toEqual(
      amends.map((s) => ({ type: 'amended', id: s.order.id, qty: 1 })),
    )
    for (const s of amends) s.open = 1
    expect(book.depth()).toEqual({ bids: levels(specs, 'buy'), asks: levels(specs, 'sell') })

    const copy = newOrderBook()
    copy.restore(book.snapshot())
    expect(copy.hash()).toBe(book.hash())

    // One market sell takes every bid: best price first, arrival order within a price.
    const bids = specs
      .filter((s) => s.order.side === 'buy' && s.open > 0)
      .sort((a, b) => b.order.price! - a.order.price!)
    const sweep = market(2 ** 40, 99, 'sell', MAX_QTY)
    const filled = bids.map((s) => fill(2 ** 40, s.order.id, 'sell', s.order.price!, s.open))
    const left = MAX_QTY - bids.reduce((sum, s) => sum + s.open, 0)
    const expected = [...filled, canceled(2 ** 40, left, 'no_liquidity')]
    expect(book.submit(sweep)).toEqual(expected)
    expect(copy.submit(sweep)).toEqual(expected)
    expect(copy.hash()).toBe(book.hash())
    for (const s of bids) s.open = 0
    expect(copy.depth()).toEqual({ bids: [], asks: levels(specs, 'sell') })
  }, 60_000)

  test('a stop cascade 3000 deep, one stop triggering the next', () => {
    const book = newOrderBook()
    const depthN = 3000
    const asks = Array.from({ length: depthN + 1 }, (_, i) => limit(i + 1, 1, 'sell', 1, 1001 + i))
    // Submitted latest trigger first, so the earliest-arrival rule cannot hide behind list order.
    const stops = Array.from({ length: depthN }, (_, i) => stop(10_000 + i, 2, 'buy', 1, 4000 - i))
    book.execute([...asks, ...stops].map(add))
    const expected: BookEvent[] = [fill(99_999, 1, 'buy', 1001, 1)]
    for (let k = 1; k <= depthN; k++) {
      const id = 10_000 + 3000 - k // the stop whose trigger is 1000 + k
      expected.push(triggered(id), fill(id, k + 1, 'buy', 1001 + k, 1))
    }
    expect(book.submit(limit(99_999, 3, 'buy', 1, 1001))).toEqual(expected)
    expect(book.depth()).toEqual({ bids: [], asks: [] })
  })

  test('3000 stops triggered at once fire in arrival order', () => {
    const book = newOrderBook()
    const count = 3000
    const asks = Array.from({ length: count + 1 }, (_, i) => limit(i + 1, 1, 'sell', 1, 1001 + i))
    // Triggers scattered over 1..1001: all satisfied by the first trade at 1001 (last >= stop),
    // in an order unrelated to arrival.
    const trigger = (i: number) => 1 + ((i * 7919) % 1001)
    const stops = Array.from({ length: count }, (_, i) => stop(10_000 + i, 2, 'buy', 1, trigger(i)))
    book.execute([...asks, ...stops].map(add))
    const expected: BookEvent[] = [fill(99_999, 1, 'buy', 1001, 1)]
    stops.forEach((s, k) => expected.push(triggered(s.id), fill(s.id, k + 2, 'buy', 1002 + k, 1)))
    expect(book.submit(limit(99_999, 3, 'buy', 1, 1001))).toEqual(expected)
  })
})
