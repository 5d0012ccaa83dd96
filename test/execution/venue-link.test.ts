// Our FIX initiator against the simulated venue over real TCP: logon, orders filled at the venue's
// quotes, lost messages recovered by the session, and a restart on the same storage that keeps
// the sequence numbers — every execution in the inbox exactly once.
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import { Readable, Writable } from 'node:stream'
import { startVenue } from '../../scripts/lib/venue/index.ts'
import type { Venue } from '../../scripts/lib/venue/index.ts'
import type { ExecutionReport, NewOrderSingle } from '../../src/execution/fix/messages.ts'
import { VenueLink } from '../../src/execution/venue-link.ts'
import type { Connection } from '../../src/execution/venue-link.ts'
import { sqliteStore } from '../helpers/sqlite-store.ts'

let venue: Venue
beforeAll(async () => {
  venue = await startVenue({ tickMs: 50, requoteMs: 20 })
})
afterAll(() => venue.stop())

function tcp(port: number): Connection {
  const socket = net.connect(port, '127.0.0.1')
  return {
    readable: Readable.toWeb(socket) as unknown as ReadableStream<Uint8Array>,
    writable: Writable.toWeb(socket) as unknown as WritableStream<Uint8Array>,
    close: async () => void socket.destroy(),
  }
}

async function until(check: () => boolean, ms = 5_000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await Bun.sleep(10)
  }
}

let orders = 0
const buy = (qty: number, price: number): NewOrderSingle => ({
  type: 'new-order-single',
  clOrdId: `T${++orders}`,
  symbol: 'AAPL',
  side: 'buy',
  orderQty: qty,
  ordType: 'limit',
  price,
  timeInForce: 'ioc',
  transactTime: Date.now(),
})

const reports = (link: VenueLink) =>
  link.inbox(0, 1000).map((e) => e.message).filter((m): m is ExecutionReport => m?.type === 'execution-report')

/** the order's outcome once the venue is done with it: filled shares and their cost */
const done = (link: VenueLink, clOrdId: string) => {
  const mine = reports(link).filter((r) => r.clOrdId === clOrdId)
  const last = mine.at(-1)
  if (!last || !['filled', 'canceled', 'rejected'].includes(last.ordStatus)) return undefined
  const trades = mine.filter((r) => r.lastQty)
  return { qty: trades.reduce((n, r) => n + r.lastQty!, 0), cost: trades.reduce((n, r) => n + r.lastQty! * r.lastPx!, 0), status: last.ordStatus }
}

describe('VenueLink', () => {
  test('orders fill at the venue’s quotes; drops and a restart lose and repeat nothing', async () => {
    const db = new Database(':memory:')
    const config = { senderCompId: 'BOURSE', targetCompId: 'NSIM', heartBtInt: 1 }
    let link = new VenueLink(sqliteStore(db), config)
    let running = link.run(tcp(venue.fixPort))
    await until(() => link.state === 'active')

    const ask = venue.quote('AAPL').ask!
    const first = buy(50, ask + 5)
    await link.send(first)
    await until(() => done(link, first.clOrdId) !== undefined)
    const outcome = done(link, first.clOrdId)!
    expect(outcome.qty).toBe(50)
    expect(outcome.cost).toBeLessThanOrEqual(50 * (ask + 5))
    expect(outcome.cost).toBeGreaterThanOrEqual(50 * ask)

    // the venue's next two messages to us are lost: the session asks for them again
    venue.dropOutbound(2)
    const second = buy(20, venue.quote('AAPL').ask! + 5)
    await link.send(second)
    await until(() => done(link, second.clOrdId) !== undefined)
    expect(link.events.some((e) => e.type === 'gap-detected')).toBe(true)

    // the connection is cut and we restart on the same storage: numbers continue
    venue.disconnect()
    await running
    link = new VenueLink(sqliteStore(db), config)
    running = link.run(tcp(venue.fixPort))
    await until(() => link.state === 'active')
    const third = buy(10, venue.quote('AAPL').ask! + 5)
    await link.send(third)
    await until(() => done(link, third.clOrdId) !== undefined)

    const execIds = reports(link).map((r) => r.execId)
    expect(new Set(execIds).size).toBe(execIds.length)
    expect([first, second, third].map((o) => done(link, o.clOrdId)!.qty)).toEqual([50, 20, 10])
    expect(link.inbox(0, 1000).every((e) => e.error === null)).toBe(true)
    venue.disconnect()
    await running
  }, 20_000)
})
