// Our FIX initiator against the simulated venue over real TCP: logon, orders filled at the venue's
// quotes, lost messages recovered by the session, and a restart on the same storage that keeps
// the sequence numbers — every execution in the inbox exactly once.
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import { Readable, Writable } from 'node:stream'
import { startVenue } from '../../scripts/lib/venue/index.ts'
import type { Venue } from '../../scripts/lib/venue/index.ts'
import { orderFlow, toFix } from '../../src/execution/fix/messages.ts'
import type { ExecutionReport, NewOrderSingle } from '../../src/execution/fix/messages.ts'
import { FixSession } from '../../src/execution/fix/session.ts'
import { MemorySessionStore } from '../../src/execution/fix/store.ts'
import { VenueLink } from '../../src/execution/venue-link.ts'
import type { Connection } from '../../src/execution/venue-link.ts'
import { sqliteStore } from '../helpers/sqlite-store.ts'

let venue: Venue
beforeAll(async () => {
  venue = await startVenue({ tickMs: 50, requoteMs: 20, initiators: ['BOURSE', 'BURST'] })
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

  test('a burst of concurrent sends reaches the venue in sequence: no gap, no resend', async () => {
    // a session of its own: the venue keeps BOURSE's numbers from the test before
    const link = new VenueLink(sqliteStore(), { senderCompId: 'BURST', targetCompId: 'NSIM', heartBtInt: 1 })
    const running = link.run(tcp(venue.fixPort))
    await until(() => link.state === 'active')
    const burst = Array.from({ length: 30 }, () => buy(1, venue.quote('AAPL').ask! + 5))
    // each sent twice with sendOnce (a caller's retry): once at the venue
    await Promise.all([...burst, ...burst].map((o) => link.sendOnce(o)))
    await until(() => burst.every((o) => done(link, o.clOrdId) !== undefined))
    expect(link.events.filter((e) => e.type === 'resend-served' || e.type === 'gap-detected')).toEqual([])
    expect(reports(link).filter((r) => r.execType === 'new')).toHaveLength(30)
    expect(link.symbolOf(burst[0].clOrdId)).toBe('AAPL')
    expect(link.symbolOf('never-sent')).toBeUndefined()
    venue.disconnect()
    await running
  }, 20_000)

  test('an execution we cannot read is kept in the inbox with its error, never rejected', async () => {
    // a venue of our own over in-memory streams, writing a price with sub-penny decimals
    const toUs = new TransformStream<Uint8Array, Uint8Array>()
    const toVenue = new TransformStream<Uint8Array, Uint8Array>()
    const venueWriter = toUs.writable.getWriter()
    const acceptor = new FixSession(
      { role: 'acceptor', senderCompId: 'NSIM', targetCompId: 'BOURSE', heartBtInt: 30, application: orderFlow, clock: Date.now },
      new MemorySessionStore(),
    )
    const write = async (out: { send: Uint8Array[] }) => {
      for (const bytes of out.send) await venueWriter.write(bytes)
    }
    await write(acceptor.connect())
    const pumping = (async () => {
      const reader = toVenue.readable.getReader()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        await write(acceptor.receive(value))
      }
    })()
    const link = new VenueLink(sqliteStore(), { senderCompId: 'BOURSE', targetCompId: 'NSIM', heartBtInt: 30 })
    const running = link.run({ readable: toUs.readable, writable: toVenue.writable, close: async () => {} })
    await until(() => link.state === 'active' && acceptor.state === 'active')

    const report: ExecutionReport = {
      type: 'execution-report', orderId: 'V1', clOrdId: 'C1', execId: 'X1', execType: 'trade', ordStatus: 'filled',
      symbol: 'PENNY', side: 'buy', orderQty: 100, lastQty: 100, lastPx: 12, leavesQty: 0, cumQty: 100, avgPx: '0.1234',
    }
    const fields = toFix(report).map(([tag, value]) => [tag, tag === 31 ? '0.1234' : value] as const)
    await write(acceptor.send(fields))
    await until(() => link.inbox().length === 1)
    expect(link.inbox()[0]).toMatchObject({ message: null, error: expect.stringMatching(/tag 31/) })
    expect(link.events.some((e) => e.type === 'rejected')).toBe(false)

    // the venue hangs up: our side ends its run (the venue's pump is left to the collector)
    await venueWriter.close()
    await running
    void pumping
  }, 20_000)
})
