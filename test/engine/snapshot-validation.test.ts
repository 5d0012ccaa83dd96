import { describe, expect, test } from 'bun:test'
import type { OrderBook } from '../../src/engine/book.ts'
import { newOrderBook } from '../../src/engine/wasm-file.ts'

// Snapshot layout (wasm/assembly/snapshot.ts): a 32-byte header (orders at 20, stops at 24,
// id containers at 28), then 36-byte order records (id i64, seq i64, user, qty, price, stop,
// flags), then the seen-id containers.
const HEADER = 32
const RECORD = 36

function sample(): Uint8Array {
  const book = newOrderBook()
  book.submit({ id: 1, user: 1, side: 'buy', type: 'limit', qty: 10, price: 100, tif: 'GTC' })
  book.submit({ id: 2, user: 2, side: 'buy', type: 'limit', qty: 20, price: 99, tif: 'DAY' })
  book.submit({ id: 3, user: 3, side: 'sell', type: 'stop', qty: 5, stop: 90, tif: 'GTC' })
  book.submit({ id: 900_000, user: 4, side: 'sell', type: 'limit', qty: 7, price: 105, tif: 'GTC' })
  return book.snapshot()
}

function edited(edit: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = sample()
  edit(new DataView(bytes.buffer), bytes)
  return bytes
}

function expectRefused(book: OrderBook, bytes: Uint8Array): void {
  expect(() => book.restore(bytes)).toThrow('malformed order book snapshot')
  expect(book.depth()).toEqual({ bids: [], asks: [] })
  expect(book.openOrders()).toBe(0)
  // The emptied book works, and has forgotten every id.
  expect(book.submit({ id: 1, user: 1, side: 'buy', type: 'limit', qty: 1, price: 1, tif: 'GTC' })).toEqual([
    { type: 'rested', id: 1, price: 1, qty: 1 },
  ])
}

describe('restore refuses a malformed snapshot and leaves an empty book', () => {
  test('a good snapshot restores (the baseline for the edits below)', () => {
    const book = newOrderBook()
    book.restore(sample())
    expect(book.openOrders()).toBe(4)
  })

  const cases: [string, (v: DataView, b: Uint8Array) => void][] = [
    ['order and stop counts that overflow 32 bits', (v) => {
      v.setInt32(20, 0x7fffffff, true)
      v.setInt32(24, 0x7fffffff, true)
    }],
    ['two live orders with one id', (v) => v.setBigInt64(HEADER + RECORD, 2n, true)],
    ['a live order whose id was never seen', (v) => v.setBigInt64(HEADER, 5_000_000n, true)],
    ['a quantity of zero', (v) => v.setInt32(HEADER + 20, 0, true)],
    ['a resting market order', (v) => v.setInt32(HEADER + 32, 1 << 1, true)],
    ['a resting IOC order', (v) => v.setInt32(HEADER + 32, 2 << 3, true)],
    ['a pending limit order', (v) => v.setInt32(HEADER + 32, 64, true)],
    ['an arrival number from the future', (v) => v.setBigInt64(HEADER + 8, 1_000n, true)],
    ['levels out of price order', (v, b) => {
      const first = b.slice(HEADER, HEADER + RECORD)
      b.copyWithin(HEADER, HEADER + RECORD, HEADER + 2 * RECORD)
      b.set(first, HEADER + RECORD)
    }],
    ['a crossed book', (v) => v.setInt32(HEADER + 2 * RECORD + 24, 99, true)],
    ['a negative last price', (v) => v.setInt32(16, -1, true)],
    ['a truncated tail', () => {}],
    ['garbage after the end', () => {}],
    ['another version', (v) => v.setInt32(4, 99, true)],
  ]

  for (const [name, edit] of cases) {
    test(name, () => {
      let bytes = edited(edit)
      if (name === 'a truncated tail') bytes = bytes.slice(0, bytes.length - 2)
      if (name === 'garbage after the end') bytes = Uint8Array.from([...bytes, 0, 0, 0, 0])
      const book = newOrderBook()
      book.submit({ id: 77, user: 1, side: 'sell', type: 'limit', qty: 1, price: 500, tif: 'GTC' })
      expectRefused(book, bytes)
    })
  }
})
