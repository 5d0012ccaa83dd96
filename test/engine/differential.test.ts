// The WASM engine against the reference model on random command streams: after every command the
// events and the depth must be identical, and the engine must satisfy the book invariants.
// A failure prints the shrunk command stream (and the first command whose events differ): paste
// it into a rules.test.ts scenario. ENGINE_RUNS=<factor> scales the number of runs for longer
// soaks; ENGINE_SEED=<seed> replays the runs of a reported failure.

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { Command } from '../../src/engine/types.ts'
import { newOrderBook } from '../../src/engine/wasm-file.ts'
import type { Book } from './implementations.ts'
import { Auditor } from './invariants.ts'
import { ReferenceBook } from './reference-book.ts'
import { TIMEOUT, commands, runs } from './streams.ts'

/** Runs the stream through both books, comparing after each command; returns the engine. */
function compare(stream: Command[]): Book {
  const engine = newOrderBook()
  const reference = new ReferenceBook()
  const auditor = new Auditor()
  stream.forEach((command, i) => {
    const events = engine.apply(command)
    const expected = reference.apply(command)
    const depth = engine.depth()
    const where = `after command ${i}: ${JSON.stringify(command)}`
    expect(events, where).toEqual(expected)
    expect(depth, where).toEqual(reference.depth())
    auditor.step(command, events, depth)
  })
  return engine
}

describe('wasm engine vs reference model', () => {
  test('short streams: same events and depth after every command, invariants hold', () => {
    fc.assert(fc.property(commands(40), (stream) => void compare(stream)), { numRuns: runs(400) })
  }, TIMEOUT)

  test('long streams reach deep books and many stops', () => {
    fc.assert(fc.property(commands(400), (stream) => void compare(stream)), { numRuns: runs(60) })
  }, TIMEOUT)

  test('prices spread wide: many levels, sweeps across them', () => {
    const wide = commands(400, 300)
    fc.assert(fc.property(wide, (stream) => void compare(stream)), { numRuns: runs(40) })
  }, TIMEOUT)

  test('a few very long streams', () => {
    const long = commands(3000, 30)
    fc.assert(fc.property(long, (stream) => void compare(stream)), { numRuns: runs(4) })
  }, TIMEOUT)

  test('execute(batch) matches the reference command by command', () => {
    fc.assert(
      fc.property(commands(200), (stream) => {
        const reference = new ReferenceBook()
        const expected = stream.flatMap((c) => reference.apply(c))
        const engine = newOrderBook()
        expect(engine.execute(stream)).toEqual(expected)
        expect(engine.depth()).toEqual(reference.depth())
      }),
      { numRuns: runs(100) },
    )
  }, TIMEOUT)

  test('depth(maxLevels) is the first levels of the full depth', () => {
    fc.assert(
      fc.property(commands(120), fc.integer({ min: 0, max: 6 }), (stream, maxLevels) => {
        const engine = newOrderBook()
        engine.execute(stream)
        const full = engine.depth()
        expect(engine.depth(maxLevels)).toEqual({
          bids: full.bids.slice(0, maxLevels),
          asks: full.asks.slice(0, maxLevels),
        })
      }),
      { numRuns: runs(100) },
    )
  }, TIMEOUT)
})

describe('the invariant checker itself', () => {
  test('holds on the reference model', () => {
    fc.assert(
      fc.property(commands(200), (stream) => {
        const book = new ReferenceBook()
        const auditor = new Auditor()
        for (const c of stream) auditor.step(c, book.apply(c), book.depth())
      }),
      { numRuns: runs(100) },
    )
  }, TIMEOUT)
})
