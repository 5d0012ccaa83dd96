// The journal's side of routing (issue 7): an order's internal leg capped at the NBBO, what it
// leaves routed as a child order, the venue's reports logged once each, and all of it replayed.
import { describe, expect, test } from 'bun:test'
import { BookJournal } from '../../src/engine/journal.ts'
import type { NewOrder } from '../../src/engine/types.ts'
import type { ExecutionReport } from '../../src/execution/fix/messages.ts'
import type { RoutePlan } from '../../src/execution/routing.ts'
import { bookModule } from '../../src/engine/wasm-file.ts'
import { sqliteStore } from '../helpers/sqlite-store.ts'

const order = (id: number, user: number, side: 'buy' | 'sell', qty: number, price: number, tif: NewOrder['tif'] = 'DAY'): NewOrder => ({
  id, user, side, type: 'limit', qty, price, tif,
})
const nbbo = { bid: { price: 14_990, size: 100, venue: 'NSIM' }, ask: { price: 15_010, size: 500, venue: 'NSIM' }, ts: 1 }
const plan = (price: number, tif: NewOrder['tif'] = 'DAY'): RoutePlan => ({ venue: 'NSIM', internalCap: 15_010, price, tif, nbbo })

function report(fields: Partial<ExecutionReport> & Pick<ExecutionReport, 'execId' | 'execType' | 'ordStatus' | 'leavesQty' | 'cumQty'>): ExecutionReport {
  return { type: 'execution-report', orderId: 'V1', clOrdId: '3', symbol: 'AAPL', side: 'buy', avgPx: '0', ...fields }
}

function opened(store = sqliteStore()) {
  let clock = 1_700_000_000_000
  const j = new BookJournal(store, bookModule(), { now: () => clock++ })
  j.open()
  return { j, store }
}

describe('routing in the journal', () => {
  test('the internal leg fills within the NBBO only; the rest is routed, then filled and ended by the venue', () => {
    const { j, store } = opened()
    j.submit(order(1, 1, 'sell', 30, 15_000))
    j.submit(order(2, 1, 'sell', 50, 15_020)) // worse than the NBBO's 150.10: not for the internal leg
    const ack = j.submit(order(3, 2, 'buy', 100, 15_050), plan(15_050))
    expect(ack.fills.map((f) => [f.maker, f.qty, f.price])).toEqual([[1, 30, 15_000]])
    expect(ack.events.at(-1)).toEqual({
      type: 'routed', id: 3, qty: 70, venue: 'NSIM', clOrdId: '3', price: 15_050, tif: 'DAY', nbbo,
    })
    expect(j.depth().asks).toEqual([[15_020, 50, 1]]) // order 3 rests nowhere here
    expect(j.unsentChildren()).toMatchObject([{ clOrdId: '3', order: 3, qty: 70, price: 15_050, tif: 'DAY', sent: false }])
    j.markSent('3', 'order')
    expect(j.unsentChildren()).toEqual([])
    // the routed event goes to Postgres (best execution), not a cancel of the remainder
    expect(j.pendingOrderEvents().map((e) => e.event.type)).toEqual(['routed'])

    const trade = report({ execId: 'E1', execType: 'trade', ordStatus: 'partially-filled', lastQty: 40, lastPx: 15_005, leavesQty: 30, cumQty: 40 })
    expect(j.venueReport('NSIM', trade).acks[0].fills).toMatchObject([{ taker: 3, maker: 0, qty: 40, price: 15_005, venue: 'NSIM', execId: 'E1' }])
    expect(j.venueReport('NSIM', trade).acks[0].replayed).toBe(true) // the same ExecID again: no second fill
    expect(j.venueReport('ARCA', trade)).toEqual({ acks: [], broken: 'no such child order at this venue' })
    expect(j.requestCancel(3, 'user')).toMatchObject({ cancel: 'user', cancelSent: false })
    // the venue refuses the cancel: it may be asked again, under a new ClOrdID
    j.markSent('3', 'cancel')
    expect(j.cancelRejected('3')).toMatchObject({ cancel: 'none', cancelSent: false, cancels: 1 })
    expect(j.requestCancel(3, 'user')).toMatchObject({ cancel: 'user', cancels: 1 })
    const end = report({ execId: 'E2', execType: 'canceled', ordStatus: 'canceled', clOrdId: '3-cancel-2', origClOrdId: '3', leavesQty: 0, cumQty: 40 })
    expect(j.venueReport('NSIM', end).acks.map((a) => a.events)).toEqual([[{ type: 'canceled', id: 3, qty: 30, reason: 'user' }]])
    expect(j.venueReport('NSIM', end)).toEqual({ acks: [] }) // ended once
    expect(j.openChild(3)).toBeUndefined()

    // a fresh journal on the same storage replays it all to the same book, and a submit again
    // returns the first outcome, routed event included
    const state = j.state()
    const again = opened(store).j
    expect(again.state()).toEqual(state)
    expect(again.submit(order(3, 2, 'buy', 100, 15_050), plan(15_050))).toMatchObject({ replayed: true, events: ack.events })
  })

  test('external: an order routed whole never reaches the book; a refused one is rejected; both replay', () => {
    const { j, store } = opened()
    j.submit(order(1, 1, 'sell', 30, 15_000)) // resting before the symbol went external
    const whole = j.submit(order(2, 2, 'buy', 50, 15_050), { venue: 'NSIM', price: 15_050, tif: 'GTC', nbbo })
    expect(whole.fills).toEqual([])
    expect(whole.events).toEqual([{ type: 'routed', id: 2, qty: 50, venue: 'NSIM', clOrdId: '2', price: 15_050, tif: 'GTC', nbbo }])
    expect(j.depth().asks).toEqual([[15_000, 30, 1]])
    const refused = j.submit(order(3, 2, 'buy', 5, 15_050), { refused: 'no_venue' })
    expect(refused.events).toEqual([{ type: 'rejected', id: 3, reason: 'no_venue' }])
    expect(j.pendingOrderEvents().map((e) => e.event.type)).toEqual(['routed', 'rejected'])
    const state = j.state()
    const again = opened(store).j
    expect(again.state()).toEqual(state)
    expect(again.submit(order(2, 2, 'buy', 50, 15_050))).toMatchObject({ replayed: true, events: whole.events })
    expect(again.unsentChildren()).toMatchObject([{ clOrdId: '2', qty: 50, tif: 'GTC' }])
  })

  test('an order the internal leg fills whole, or one that self-trades, routes nothing', () => {
    const { j } = opened()
    j.submit(order(1, 1, 'sell', 30, 15_000))
    const filled = j.submit(order(2, 2, 'buy', 30, 15_050), plan(15_050))
    expect(filled.events.some((e) => e.type === 'routed')).toBe(false)
    j.submit(order(3, 1, 'sell', 10, 15_000))
    const selfTrade = j.submit(order(4, 1, 'buy', 20, 15_050), plan(15_050))
    expect(selfTrade.events.some((e) => e.type === 'routed')).toBe(false)
    expect(j.unsentChildren()).toEqual([])
  })

  test('a venue rejection or expiry releases the rest; a filled child ends without an event', () => {
    const { j } = opened()
    j.submit(order(1, 2, 'buy', 10, 15_050, 'IOC'), plan(15_050, 'IOC'))
    const rejected = report({ clOrdId: '1', execId: 'R1', execType: 'rejected', ordStatus: 'rejected', leavesQty: 0, cumQty: 0 })
    expect(j.venueReport('NSIM', rejected).acks[0].events).toEqual([{ type: 'canceled', id: 1, qty: 10, reason: 'venue_rejected' }])
    j.submit(order(2, 2, 'buy', 10, 15_050), plan(15_050))
    const expired = report({ clOrdId: '2', execId: 'X1', execType: 'expired', ordStatus: 'expired', leavesQty: 0, cumQty: 4 })
    expect(j.venueReport('NSIM', expired).acks[0].events).toEqual([{ type: 'expired', id: 2, qty: 6 }])
    j.submit(order(5, 2, 'buy', 10, 15_050), plan(15_050))
    const whole = report({ clOrdId: '5', execId: 'F1', execType: 'trade', ordStatus: 'filled', lastQty: 10, lastPx: 15_010, leavesQty: 0, cumQty: 10 })
    expect(j.venueReport('NSIM', whole).acks.map((a) => a.fills.length)).toEqual([1])
    expect(j.openChild(5)).toBeUndefined()
    // a last trade that leaves nothing at the venue but did not fill it all: the rest is released
    j.submit(order(6, 2, 'buy', 100, 15_050, 'IOC'), plan(15_050, 'IOC'))
    const last = report({ clOrdId: '6', execId: 'F2', execType: 'trade', ordStatus: 'canceled', lastQty: 30, lastPx: 15_010, leavesQty: 0, cumQty: 30 })
    expect(j.venueReport('NSIM', last).acks.map((a) => [a.fills.length, a.events])).toEqual([
      [1, []],
      [0, [{ type: 'canceled', id: 6, qty: 70, reason: 'ioc' }]],
    ])
  })

  test('reports that do not fit their child are kept as breaks and change nothing', () => {
    const { j } = opened()
    j.submit(order(3, 2, 'buy', 10, 15_050), plan(15_050))
    const base = { clOrdId: '3', execType: 'trade', ordStatus: 'partially-filled', lastQty: 5, lastPx: 15_000, leavesQty: 5, cumQty: 5 } as const
    expect(j.venueReport('NSIM', report({ ...base, execId: 'A', orderId: 'V1' })).acks).toHaveLength(1)
    const broken = (fields: Partial<ExecutionReport>) => j.venueReport('NSIM', report({ ...base, execId: 'B', orderId: 'V1', ...fields })).broken
    expect(broken({ lastPx: 15_051 })).toBe('price 15051 past the limit 15050')
    expect(broken({ lastQty: 6, cumQty: 11, leavesQty: 0 })).toBe('11 filled of 10')
    expect(broken({ side: 'sell' })).toBe('side sell for a buy order')
    expect(broken({ orderId: 'V9' })).toBe('venue OrderID V9, not V1')
    expect(broken({ execType: 'rejected', ordStatus: 'rejected', leavesQty: 0 })).toBe('rejected after the venue accepted it')
    expect(j.venueBreaks()).toBe(5)
    expect(j.openChild(3)).toMatchObject({ qty: 10 })
    expect(j.pendingFills().map((f) => f.qty)).toEqual([5])
  })

  test('the same ExecID on two orders is two fills (unique per order at a venue)', () => {
    const { j } = opened()
    j.submit(order(3, 2, 'buy', 10, 15_050), plan(15_050))
    j.submit(order(4, 2, 'buy', 10, 15_050), plan(15_050))
    const fill = { execId: 'SAME', execType: 'trade', ordStatus: 'filled', lastQty: 10, lastPx: 15_000, leavesQty: 0, cumQty: 10 } as const
    expect(j.venueReport('NSIM', report({ ...fill, clOrdId: '3' })).acks[0].replayed).toBe(false)
    expect(j.venueReport('NSIM', report({ ...fill, clOrdId: '4' })).acks[0].replayed).toBe(false)
    expect(j.pendingFills().map((f) => [f.taker, f.execId])).toEqual([[3, 'SAME'], [4, 'SAME']])
  })
})
