// The FIX session store in SQLite (what a Durable Object keeps) behaves as the in-memory one, and
// what it holds survives a new store on the same database (a restart).
import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { MemorySessionStore } from '../../src/execution/fix/store.ts'
import type { SessionStore } from '../../src/execution/fix/store.ts'
import { SqlSessionStore } from '../../src/execution/sql-session-store.ts'
import { sqliteStore } from '../helpers/sqlite-store.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

function exercise(store: SessionStore) {
  const seen = [store.nextOutgoingSeq(), store.nextIncomingSeq()]
  store.setNextOutgoingSeq(4)
  store.setNextIncomingSeq(7)
  // a view into a larger buffer: only its own bytes are kept
  const big = bytes('xx8=FIX.4.4|35=D|yy')
  store.saveOutgoing(1, big.subarray(2, 17))
  store.saveOutgoing(2, bytes('two'))
  store.saveOutgoing(3, bytes('three'))
  store.saveOutgoing(2, bytes('two again'))
  const text = (from: number, to: number) =>
    store.outgoingBetween(from, to).map((m) => [m.seq, new TextDecoder().decode(m.message)])
  return { seen, next: [store.nextOutgoingSeq(), store.nextIncomingSeq()], all: text(1, 99), middle: text(2, 2) }
}

describe('SqlSessionStore', () => {
  test('answers exactly as the in-memory store does', () => {
    const expected = exercise(new MemorySessionStore())
    expect(expected).toEqual({
      seen: [1, 1],
      next: [4, 7],
      all: [[1, '8=FIX.4.4|35=D|'], [2, 'two again'], [3, 'three']],
      middle: [[2, 'two again']],
    })
    expect(exercise(new SqlSessionStore(sqliteStore()))).toEqual(expected)
  })

  test('survives a restart; reset starts a new sequence and forgets what was sent', () => {
    const db = new Database(':memory:')
    exercise(new SqlSessionStore(sqliteStore(db)))
    const again = new SqlSessionStore(sqliteStore(db))
    expect([again.nextOutgoingSeq(), again.nextIncomingSeq()]).toEqual([4, 7])
    expect(again.outgoingBetween(1, 3).map((m) => m.seq)).toEqual([1, 2, 3])
    again.reset()
    expect([again.nextOutgoingSeq(), again.nextIncomingSeq()]).toEqual([1, 1])
    expect(new SqlSessionStore(sqliteStore(db)).outgoingBetween(1, 99)).toEqual([])
  })
})
