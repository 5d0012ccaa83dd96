import { describe, expect, test } from 'bun:test'
import { type Ack, BookJournal, JournalCorrupt, type JournalStore } from '../../src/engine/journal.ts'
import type { NewOrder } from '../../src/engine/types.ts'
import { bookModule } from '../../src/engine/wasm-file.ts'
import { sqliteStore } from '../helpers/sqlite-store.ts'

const limit = (id: number, user: number, side: 'buy' | 'sell', qty: number, price: number): NewOrder => ({
  id, user, side, type: 'limit', qty, price, tif: 'GTC',
})

function journal(store: JournalStore, snapshotEvery = 1000) {
  let clock = 1_700_000_000_000
  const j = new BookJournal(store, bookModule(), { snapshotEvery, now: () => clock++ })
  j.open()
  return j
}

/** A seeded stream of crossing orders and cancels over a few price levels. */
function drive(j: BookJournal, from: number, count: number): void {
  let seed = from
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000
  for (let id = from; id < from + count; id++) {
    if (next() < 0.2 && id > from) j.cancel(from + Math.floor(next() * (id - from)))
    else j.submit(limit(id, 1 + Math.floor(next() * 5), next() < 0.5 ? 'buy' : 'sell', 1 + Math.floor(next() * 50), 100 + Math.floor(next() * 6)))
  }
}

describe('the book journal', () => {
  test('order events go to the outbox with their command; a repeated cancel replays the first', () => {
    const store = sqliteStore()
    const j = journal(store)
    j.submit(limit(1, 1, 'sell', 10, 100))
    j.submit(limit(2, 2, 'buy', 4, 100)) // fills 4
    j.amend(1, 5)
    const canceled = j.cancel(1)
    expect(canceled).toMatchObject({ seq: 4, fillsBefore: 1, replayed: false })
    j.submit(limit(4, 1, 'sell', 3, 101))
    j.submit({ ...limit(3, 2, 'buy', 1, 101), postOnly: true }) // would cross: rejected
    j.cancel(99) // unknown: rejected, but nothing for Postgres
    expect(j.pendingOrderEvents().map((e) => [e.seq, e.fillsBefore, e.event])).toEqual([
      [3, 1, { type: 'amended', id: 1, qty: 5 }],
      [4, 1, { type: 'canceled', id: 1, qty: 5, reason: 'user' }],
      [6, 1, { type: 'rejected', id: 3, reason: 'post_only' }],
    ])
    const again = j.cancel(1)
    expect(again).toEqual({ ...canceled, replayed: true, engineMs: undefined } as Ack)
    expect(store.exec('SELECT COUNT(*) AS n FROM book_commands')[0].n).toBe(7)
    j.acknowledgeOrderEvents(j.pendingOrderEvents()[1].id)
    expect(j.pendingOrderEvents().map((e) => e.event.type)).toEqual(['rejected'])
    expect(j.state().outbox).toBe(2) // the fill and the rejection
  })


  test('logs every command with its events and numbers fills in the outbox', () => {
    const store = sqliteStore()
    const j = journal(store)
    j.submit(limit(1, 1, 'sell', 10, 100))
    j.submit(limit(2, 1, 'sell', 10, 101))
    const ack = j.submit(limit(3, 2, 'buy', 15, 101))
    expect(ack.seq).toBe(3)
    expect(ack.fills.map((f) => [f.fillSeq, f.maker, f.price, f.qty])).toEqual([
      [1, 1, 100, 10],
      [2, 2, 101, 5],
    ])
    expect(j.pendingFills().map((f) => f.fillSeq)).toEqual([1, 2])
    expect(store.exec('SELECT COUNT(*) AS n FROM book_commands')[0].n).toBe(3)
    j.acknowledgeFills(1)
    expect(j.pendingFills().map((f) => f.fillSeq)).toEqual([2])
    expect(j.depth()).toEqual({ seq: 3, bids: [], asks: [[101, 5, 1]] })
  })

  test('a second submit of the same order id returns the first outcome, changing nothing', () => {
    const j = journal(sqliteStore())
    j.submit(limit(1, 1, 'sell', 10, 100))
    const first = j.submit(limit(2, 2, 'buy', 4, 100))
    const hash = j.hash()
    const again = j.submit(limit(2, 2, 'buy', 4, 100))
    expect(again).toEqual({ ...first, replayed: true })
    expect(j.hash()).toBe(hash)
    expect(j.pendingFills()).toHaveLength(1)
  })

  test('an order submitted late: its first outcome if the book has it, else market_closed for good', () => {
    const store = sqliteStore()
    const j = journal(store)
    j.submit(limit(1, 1, 'sell', 10, 100))
    const seen = j.submit(limit(2, 2, 'buy', 4, 100))
    expect(j.refuseUnseen(limit(2, 2, 'buy', 4, 100))).toEqual({ ...seen, replayed: true })
    const hash = j.hash()
    const refused = j.refuseUnseen(limit(3, 2, 'buy', 4, 100))
    expect(refused.events).toEqual([{ type: 'rejected', id: 3, reason: 'market_closed' }])
    expect(j.hash()).toBe(hash) // the book untouched
    // submitted again, now or after a restart, it gets that rejection: it never trades
    expect(j.submit(limit(3, 2, 'buy', 4, 100))).toEqual({ ...refused, replayed: true })
    const reopened = journal(store)
    expect(reopened.submit(limit(3, 2, 'buy', 4, 100))).toEqual({ ...refused, replayed: true })
    expect(reopened.hash()).toBe(hash)
  })

  test('reopening restores the same book from snapshot + log, with the same future', () => {
    const store = sqliteStore()
    const j = journal(store, 64)
    drive(j, 1, 1000)
    const reopened = journal(store, 64)
    expect(reopened.hash()).toBe(j.hash())
    expect(reopened.depth()).toEqual(j.depth())
    // Both continue identically, including fill numbering.
    const next = limit(5000, 9, 'buy', 500, 105)
    const outcome = (ack: Ack) => ({ seq: ack.seq, events: ack.events, fills: ack.fills.map(({ ts, ...f }) => f) })
    expect(outcome(reopened.submit(next))).toEqual(outcome(j.submit(next)))
    expect(store.exec('SELECT DISTINCT seq FROM book_snapshots')).toEqual([{ seq: 960 }])
  })

  test('a reopen reports what it restored and replayed', () => {
    const store = sqliteStore()
    drive(journal(store, 100), 1, 250)
    const report = new BookJournal(store, bookModule(), { snapshotEvery: 100 }).open()
    // a repeated cancel is answered from the log, not logged again: fewer commands than calls
    const logged = Number(store.exec('SELECT COUNT(*) AS n FROM book_commands')[0].n)
    expect(logged).toBeGreaterThan(200)
    expect(report).toMatchObject({ seq: logged, snapshotSeq: 200, replayed: logged - 200 })
  })

  test('a large book is checkpointed in parts under the row size limit', () => {
    const store = sqliteStore()
    const j = journal(store, 40_000)
    for (let id = 1; id <= 40_000; id++) j.submit(limit(id, id, 'buy', 1, 1 + (id % 5000)))
    const parts = store.exec('SELECT parts, length(data) AS size FROM book_snapshots')
    expect(parts.length).toBeGreaterThan(1)
    for (const p of parts) expect(p.size as number).toBeLessThanOrEqual(1 << 20)
    expect(journal(store, 40_000).hash()).toBe(j.hash())
  })

  test('a tampered log or snapshot stops the book instead of serving a wrong one', () => {
    const store = sqliteStore()
    drive(journal(store, 50), 1, 120)
    store.exec(`UPDATE book_commands SET events = '[]' WHERE seq = 110`)
    expect(() => journal(store, 50)).toThrow(JournalCorrupt)

    const other = sqliteStore()
    drive(journal(other, 50), 1, 120)
    other.exec(`UPDATE book_snapshots SET hash = '0000000000000000'`)
    expect(() => journal(other, 50)).toThrow(JournalCorrupt)

    const gap = sqliteStore()
    drive(journal(gap, 50), 1, 120)
    gap.exec('DELETE FROM book_commands WHERE seq = 105')
    expect(() => journal(gap, 50)).toThrow('gap')
  })

  test('a command the wrapper refuses changes nothing, logged or in memory', () => {
    const store = sqliteStore()
    const j = journal(store)
    j.submit(limit(1, 1, 'sell', 10, 100))
    expect(() => j.submit({ ...limit(2, 2, 'buy', 10, 100), user: 0 })).toThrow(RangeError)
    expect(j.depth()).toEqual({ seq: 1, bids: [], asks: [[100, 10, 1]] })
  })

  test('a failed write leaves the book as storage has it', () => {
    const store = sqliteStore()
    const j = journal(store)
    j.submit(limit(1, 1, 'sell', 10, 100))
    const before = j.hash()
    const failing: JournalStore = { ...store, transaction: () => { throw new Error('disk full') } }
    const broken = new BookJournal(failing, bookModule())
    broken.open()
    expect(() => broken.submit(limit(2, 2, 'buy', 10, 100))).toThrow('disk full')
    // Nothing was logged, and the next call reopens from storage: the fill never happened.
    expect(broken.depth()).toEqual({ seq: 1, bids: [], asks: [[100, 10, 1]] })
    expect(broken.hash()).toBe(before)
  })
})

describe('venue fills in the journal', () => {
  const execution = (execId: string, qty: number) =>
    ({ order: 7, side: 'buy' as const, price: 10_050, qty, venue: 'NSIM', execId })

  test('numbered in the symbol’s fill sequence, once per venue and ExecID, and replayed on open', () => {
    const store = sqliteStore()
    const j = journal(store)
    j.submit(limit(1, 1, 'sell', 10, 100))
    j.submit(limit(2, 2, 'buy', 4, 100)) // fill #1
    const hash = j.hash()
    const first = j.venueFill(execution('E1', 30))
    expect(first).toMatchObject({ seq: 3, fillsBefore: 1, events: [], replayed: false })
    expect(first.fills).toEqual([
      { fillSeq: 2, seq: 3, taker: 7, maker: 0, side: 'buy', price: 10_050, qty: 30, ts: first.ts, venue: 'NSIM', execId: 'E1' },
    ])
    expect(j.hash()).toBe(hash) // the book is untouched
    // the same execution again (a resend): the first outcome, nothing new
    expect(j.venueFill(execution('E1', 30))).toEqual({ ...first, replayed: true })
    j.submit(limit(3, 3, 'buy', 2, 100)) // fill #3
    expect(j.pendingFills().map((f) => [f.fillSeq, f.maker, f.venue ?? null])).toEqual([
      [1, 1, null],
      [2, 0, 'NSIM'],
      [3, 1, null],
    ])

    // a restart replays the log: the same numbers go on
    const again = journal(store)
    expect(again.state()).toMatchObject({ seq: 4, fillSeq: 3, hash: j.hash() })
    expect(again.venueFill(execution('E2', 5)).fills[0]).toMatchObject({ fillSeq: 4, seq: 5 })
    expect(again.venueFill(execution('E1', 30)).replayed).toBe(true)
  })

  test('an outbox from before venues gets their columns', () => {
    const store = sqliteStore()
    store.exec(`CREATE TABLE book_outbox (
      fill_seq INTEGER PRIMARY KEY, seq INTEGER NOT NULL, taker INTEGER NOT NULL,
      maker INTEGER NOT NULL, side TEXT NOT NULL, price INTEGER NOT NULL, qty INTEGER NOT NULL,
      ts INTEGER NOT NULL)`)
    const j = journal(store)
    j.venueFill(execution('E9', 1))
    expect(j.pendingFills()[0]).toMatchObject({ venue: 'NSIM', execId: 'E9' })
  })
})
