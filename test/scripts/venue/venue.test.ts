// The simulated venue over real TCP on loopback: an initiator (initiator.ts) logs on, trades at
// the venue's quotes to the cent, cancels and replaces; the fault controls lose messages both
// ways and cut the connection, and every order still ends exactly once with no fill twice; the
// feed's lines are what src/execution/nbbo.ts reads and its quote follows the trades.
import { afterEach, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import {
  toFix,
  type ExecutionReport,
  type NewOrderSingle,
  type OrderCancelReject,
  type OrderCancelReplaceRequest,
  type Side,
  type TimeInForce,
} from '../../../src/execution/fix/index.ts'
import { parseFeedLine, type FeedEvent, type VenueQuote } from '../../../src/execution/nbbo.ts'
import { averagePrice } from '../../../scripts/lib/venue/exchange.ts'
import { startVenue, type Venue, type VenueOptions } from '../../../scripts/lib/venue/index.ts'
import { Initiator } from './initiator.ts'

const T0 = Date.UTC(2026, 0, 5, 14, 30)
const TERMINAL = new Set(['filled', 'canceled', 'rejected'])

const opened: { stop(): unknown }[] = []
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.stop()
})

/** A venue that never quotes again on its own unless the test says so, and a client logged on. */
async function setUp(options: VenueOptions = {}): Promise<{ venue: Venue; client: Initiator }> {
  const venue = await startVenue({ requoteMs: 60_000, ...options })
  opened.push(venue)
  const client = new Initiator(venue.fixPort)
  opened.push({ stop: () => client.close() })
  await client.logon()
  return { venue, client }
}

function order(
  clOrdId: string,
  side: Side,
  orderQty: number,
  price: number | null,
  timeInForce: TimeInForce = 'day',
  symbol = 'AAPL',
): NewOrderSingle {
  const terms = { type: 'new-order-single', clOrdId, symbol, side, orderQty, timeInForce, transactTime: T0 } as const
  return price === null ? { ...terms, ordType: 'market' } : { ...terms, ordType: 'limit', price }
}

function replacement(origClOrdId: string, terms: NewOrderSingle): OrderCancelReplaceRequest {
  return { ...terms, type: 'order-cancel-replace-request', origClOrdId }
}

const reports = (client: Initiator) =>
  client.received.filter((m): m is ExecutionReport => m.type === 'execution-report')
const cancelRejects = (client: Initiator) =>
  client.received.filter((m): m is OrderCancelReject => m.type === 'order-cancel-reject')
const reportsFor = (client: Initiator, clOrdId: string) =>
  reports(client).filter((r) => r.clOrdId === clOrdId || r.origClOrdId === clOrdId)

/** Waits for the order's first report with this OrdStatus. */
function until(client: Initiator, clOrdId: string, ordStatus: ExecutionReport['ordStatus']) {
  return client.waitFor(() => reportsFor(client, clOrdId).find((r) => r.ordStatus === ordStatus), `${clOrdId} ${ordStatus}`)
}

/**
 * Everything the venue had to say before this point has arrived: a cancel of an order that does
 * not exist is answered after all of it, in sequence.
 */
let barriers = 0
async function barrier(client: Initiator): Promise<void> {
  const clOrdId = `barrier-${++barriers}`
  client.send({ type: 'order-cancel-request', origClOrdId: 'nothing', clOrdId, symbol: 'AAPL', side: 'buy', orderQty: 1, transactTime: T0 })
  await client.waitFor(() => cancelRejects(client).find((r) => r.clOrdId === clOrdId), clOrdId)
}

const trade = (lastQty: number, lastPx: number, cumQty: number, leavesQty: number) =>
  expect.objectContaining({ execType: 'trade', lastQty, lastPx, cumQty, leavesQty })

describe('orders at the venue quotes', () => {
  test('the book is the seed\'s: 5 levels a side, 100–500 shares, one cent apart, a 1–2 cent spread', async () => {
    const [a, b] = [await startVenue({ seed: 1 }), await startVenue({ seed: 1 })]
    opened.push(a, b)
    expect(a.depth('AAPL')).toEqual(b.depth('AAPL'))
    const { bids, asks } = a.depth('AAPL')
    expect(a.quote('AAPL')).toMatchObject({ venue: 'NSIM', bid: 14999, bidSize: 100, ask: 15001, askSize: 300 })
    for (const side of [bids, asks]) {
      expect(side).toHaveLength(5)
      for (const [i, level] of side.entries()) {
        expect(level.size % 100 === 0 && level.size >= 100 && level.size <= 500).toBe(true)
        if (i > 0) expect(Math.abs(level.price - side[i - 1].price)).toBe(1)
      }
    }
    expect(asks[0].price - bids[0].price).toBeOneOf([1, 2])
  })

  test('a market buy sweeps the asks best first, each fill at the resting price', async () => {
    const { venue, client } = await setUp({ seed: 7 })
    const asks = venue.depth('AAPL').asks
    const qty = asks[0].size + 50
    client.send(order('m1', 'buy', qty, null))
    const last = await until(client, 'm1', 'filled')
    expect(reportsFor(client, 'm1')).toEqual([
      expect.objectContaining({ execType: 'new', ordStatus: 'new', orderQty: qty, leavesQty: qty, cumQty: 0, avgPx: '0' }),
      trade(asks[0].size, asks[0].price, asks[0].size, 50),
      trade(50, asks[1].price, qty, 0),
    ])
    expect(last.avgPx).toBe(averagePrice(asks[0].size * asks[0].price + 50 * asks[1].price, qty))
    expect(new Set(reportsFor(client, 'm1').map((r) => r.orderId)).size).toBe(1)
    expect(venue.depth('AAPL').asks[0]).toEqual({ price: asks[1].price, size: asks[1].size - 50 })
  })

  test('a limit sell fills down to its price and rests the rest; an IOC remainder is canceled', async () => {
    const { venue, client } = await setUp({ seed: 7 })
    const { bids, asks } = venue.depth('AAPL')
    const qty = bids[0].size + bids[1].size + 100
    client.send(order('s1', 'sell', qty, bids[1].price, 'gtc'))
    await until(client, 's1', 'partially-filled')
    await barrier(client)
    expect(reportsFor(client, 's1').slice(1)).toEqual([
      trade(bids[0].size, bids[0].price, bids[0].size, qty - bids[0].size),
      trade(bids[1].size, bids[1].price, qty - 100, 100),
    ])
    expect(venue.quote('AAPL')).toMatchObject({ bid: bids[2].price, ask: bids[1].price, askSize: 100 })

    // Buys at the lowest ask, now the client's 100 shares: those first, then nothing cheaper.
    client.send(order('b1', 'buy', 150, bids[1].price, 'ioc'))
    const canceled = await until(client, 'b1', 'canceled')
    expect(reportsFor(client, 'b1').map((r) => r.execType)).toEqual(['new', 'trade', 'canceled'])
    expect(canceled).toMatchObject({ cumQty: 100, leavesQty: 0, text: 'IOC remainder canceled' })
    expect(reportsFor(client, 's1').at(-1)).toMatchObject({ ordStatus: 'filled', lastQty: 100, lastPx: bids[1].price, cumQty: qty })
    expect(venue.quote('AAPL').ask).toBe(asks[0].price)

    client.send(order('f1', 'buy', 1_000_000, asks[4].price, 'fok'))
    expect(await until(client, 'f1', 'canceled')).toMatchObject({ cumQty: 0, text: 'fill or kill: not enough at the price' })
  })

  test('cancel and replace of a resting order; refused when unknown or done', async () => {
    const { venue, client } = await setUp({ seed: 7 })
    const { bids, asks } = venue.depth('AAPL')
    client.send(order('o1', 'buy', 200, bids[0].price - 10))
    await until(client, 'o1', 'new')
    expect(venue.depth('AAPL').bids.at(-1)).toEqual({ price: bids[0].price - 10, size: 200 })

    client.send(replacement('o1', order('o2', 'buy', 300, bids[0].price - 5)))
    expect(await until(client, 'o2', 'new')).toMatchObject({ execType: 'replaced', origClOrdId: 'o1', orderQty: 300, leavesQty: 300 })
    expect(venue.depth('AAPL').bids.map((l) => l.price)).not.toContain(bids[0].price - 10)

    // Replaced into the asks: it trades at once, at the resting price.
    client.send(replacement('o2', order('o3', 'buy', asks[0].size + 100, asks[0].price)))
    await until(client, 'o3', 'partially-filled')
    expect(reportsFor(client, 'o3').at(-1)).toMatchObject({ lastQty: asks[0].size, lastPx: asks[0].price, leavesQty: 100 })

    const cancel = { type: 'order-cancel-request', symbol: 'AAPL', side: 'buy', orderQty: 100, transactTime: T0 } as const
    client.send({ ...cancel, clOrdId: 'o4', origClOrdId: 'o3' })
    expect(await until(client, 'o4', 'canceled')).toMatchObject({ origClOrdId: 'o3', cumQty: asks[0].size, leavesQty: 0 })
    expect(venue.quote('AAPL').bid).toBe(bids[0].price)

    client.send({ ...cancel, clOrdId: 'o5', origClOrdId: 'o4' })
    client.send({ ...cancel, clOrdId: 'o6', origClOrdId: 'never' })
    client.send(replacement('o4', order('o7', 'buy', 300, bids[0].price - 5)))
    await barrier(client)
    expect(cancelRejects(client).slice(0, 3)).toEqual([
      expect.objectContaining({ clOrdId: 'o5', reason: 'too-late-to-cancel', ordStatus: 'canceled', responseTo: 'cancel' }),
      expect.objectContaining({ clOrdId: 'o6', reason: 'unknown-order', orderId: 'NONE', responseTo: 'cancel' }),
      expect.objectContaining({ clOrdId: 'o7', reason: 'too-late-to-cancel', responseTo: 'replace' }),
    ])
  })

  test('rejected: unknown symbol, bad terms, a reused ClOrdID, and the fault control', async () => {
    const { client, venue } = await setUp({ maxOrderQty: 10_000 })
    client.send(order('r1', 'buy', 100, 15000, 'day', 'ZZZZ'))
    client.send(order('r2', 'buy', 10_001, 15000))
    client.send(order('r3', 'buy', 100, 0))
    client.send(order('r4', 'buy', 100, null, 'gtc'))
    client.send(order('r5', 'buy', 100, 14000))
    client.send(order('r5', 'buy', 100, 14000))
    await barrier(client)
    venue.rejectOrders(1)
    client.send(order('r6', 'buy', 100, 14000))
    client.send(order('r7', 'buy', 100, 14000))
    await barrier(client)
    const rejected = reports(client).filter((r) => r.execType === 'rejected')
    expect(rejected.map((r) => [r.clOrdId, r.text])).toEqual([
      ['r1', 'unknown symbol ZZZZ'],
      ['r2', 'OrderQty above 10000'],
      ['r3', 'a limit price must be above 0'],
      ['r4', 'a market order cannot be GTC'],
      ['r5', 'duplicate ClOrdID r5'],
      ['r6', 'rejected by the venue (fault control)'],
    ])
    expect(rejected.every((r) => r.ordStatus === 'rejected' && r.leavesQty === 0)).toBe(true)
    expect(reportsFor(client, 'r7').map((r) => r.execType)).toEqual(['new'])
  })

  test('an order resent with PossDupFlag that the venue has seen is not executed again', async () => {
    const { client, venue } = await setUp({ seed: 7 })
    const ask = venue.quote('AAPL').ask as number
    client.send(order('p1', 'buy', 100, null))
    await until(client, 'p1', 'filled')
    client.sendFields([...toFix(order('p1', 'buy', 100, null)), [43, 'Y'], [122, '20260105-14:30:00.000']])
    await barrier(client)
    expect(reportsFor(client, 'p1').map((r) => r.execType)).toEqual(['new', 'trade'])
    expect(reportsFor(client, 'p1')[1].lastPx).toBe(ask)
  })

  test('paused, orders are acknowledged and wait; on resume they trade in arrival order', async () => {
    const { client, venue } = await setUp({ seed: 7 })
    const asks = venue.depth('AAPL').asks
    venue.pause()
    client.send(order('w1', 'buy', asks[0].size, null))
    client.send(order('w2', 'buy', 100, null, 'ioc'))
    client.send(order('w3', 'buy', 100, asks[0].price - 50))
    client.send({ type: 'order-cancel-request', origClOrdId: 'w3', clOrdId: 'w4', symbol: 'AAPL', side: 'buy', orderQty: 100, transactTime: T0 })
    await until(client, 'w4', 'canceled')
    expect(reports(client).filter((r) => r.execType === 'trade')).toEqual([])
    expect(venue.depth('AAPL').asks).toEqual(asks)
    venue.resume()
    await until(client, 'w2', 'filled')
    expect(reportsFor(client, 'w1').at(-1)).toMatchObject({ ordStatus: 'filled', lastPx: asks[0].price })
    expect(reportsFor(client, 'w2').at(-1)).toMatchObject({ lastQty: 100, lastPx: asks[1].price })
  })
})

describe('recovery', () => {
  test('messages lost both ways and connections cut: every order ends once, no fill twice', async () => {
    const log: string[] = []
    const { client, venue } = await setUp({ seed: 3, requoteMs: 20, log: (line) => log.push(line) })
    const sent: string[] = []
    const send = (clOrdId: string, side: Side) => {
      sent.push(clOrdId)
      client.send(order(clOrdId, side, 100, side === 'buy' ? 15_100 : 14_900, 'ioc'))
    }
    const allEnded = () =>
      client.waitFor(() => sent.every((id) => reportsFor(client, id).some((r) => TERMINAL.has(r.ordStatus))) || undefined, 'every order ended')

    venue.dropOutbound(2) // f1's New and fill: f2's reports show the gap
    send('f1', 'buy')
    send('f2', 'sell')
    await allEnded()
    venue.dropInbound(1) // f3: f4 shows the gap
    send('f3', 'buy')
    send('f4', 'sell')
    await allEnded()

    venue.disconnectAfter(3) // f5 in, its New, its fill: cut, f6 lost in flight
    send('f5', 'buy')
    send('f6', 'sell')
    await client.waitFor(() => !client.connected || undefined, 'the cut')
    send('f7', 'buy') // while away: numbered and kept, sent when the venue asks for the gap
    await client.logon()
    await allEnded()

    venue.disconnect()
    await client.waitFor(() => !client.connected || undefined, 'the disconnect')
    await client.logon()
    send('f8', 'sell')
    await allEnded()
    await barrier(client)

    const execIds = reports(client).map((r) => r.execId)
    expect(new Set(execIds).size).toBe(execIds.length)
    for (const id of sent) {
      const own = reportsFor(client, id)
      expect(own.filter((r) => TERMINAL.has(r.ordStatus))).toHaveLength(1)
      expect(own.filter((r) => r.execType === 'new')).toHaveLength(1)
      const filled = own.filter((r) => r.execType === 'trade').reduce((sum, r) => sum + (r.lastQty as number), 0)
      expect(filled).toBe(own.at(-1)?.cumQty as number)
    }
    // The recovery paths did run: gaps seen on both sides (the venue's: f3, then f6 and f7).
    expect(client.events.some((e) => e.type === 'gap-detected')).toBe(true)
    expect(log.filter((line) => line.startsWith('BOURSE: gap-detected')).length).toBeGreaterThanOrEqual(2)
    expect(log.filter((line) => line.includes('(fault control)'))).toHaveLength(5)
  })

  test('a Logon from an unknown CompID, or a second one for a session already on, is closed', async () => {
    const { venue } = await setUp()
    for (const compId of ['INTRUDER', 'BOURSE']) {
      const other = new Initiator(venue.fixPort, compId)
      opened.push({ stop: () => other.close() })
      await expect(other.logon()).rejects.toThrow('closed before logged on')
    }
  })
})

describe('market-data feed', () => {
  test('every symbol\'s quote on connect, then trades and top-of-book changes, in nbbo.ts\'s format', async () => {
    const { client, venue } = await setUp({ seed: 7, requoteMs: 50 })
    const asks = venue.depth('AAPL').asks
    const lines: string[] = []
    const socket = connect(venue.feedPort, '127.0.0.1')
    opened.push({ stop: () => socket.destroy() })
    let buffered = ''
    socket.on('data', (chunk) => {
      buffered += chunk.toString()
      const complete = buffered.split('\n')
      buffered = complete.pop() as string
      lines.push(...complete)
    })
    const events = () => lines.map((line) => parseFeedLine(line))
    await client.waitFor(() => lines.length >= 2 || undefined, 'the snapshot')
    expect(events()).toEqual([
      { ...venue.quote('AAPL'), ts: expect.any(Number) },
      { ...venue.quote('MSFT'), ts: expect.any(Number) },
    ])

    const qty = asks[0].size + asks[1].size
    client.send(order('m1', 'buy', qty, null))
    const isQuote = (e: FeedEvent | undefined): e is VenueQuote => e?.type === 'quote'
    const requoted = () => events().slice(2).filter(isQuote).find((q) => q.bid !== null && q.bid >= asks[0].price)
    const last = await client.waitFor(requoted, 'the quote around the last trade')
    const after = events().slice(2)
    expect(after.every((e) => e !== undefined && e.venue === 'NSIM' && e.symbol === 'AAPL')).toBe(true)
    expect(after.slice(0, 3)).toEqual([
      { type: 'trade', venue: 'NSIM', symbol: 'AAPL', price: asks[0].price, qty: asks[0].size, ts: expect.any(Number) },
      { type: 'trade', venue: 'NSIM', symbol: 'AAPL', price: asks[1].price, qty: asks[1].size, ts: expect.any(Number) },
      expect.objectContaining({ type: 'quote', ask: asks[2].price, askSize: asks[2].size }),
    ])
    // Quoted again around the last trade: a bid at or below it, an ask above it.
    expect(last.bid as number).toBeLessThanOrEqual(asks[1].price)
    expect(last.ask as number).toBeGreaterThan(asks[1].price)
    expect(venue.quote('AAPL')).toMatchObject({ bid: last.bid, ask: last.ask })
  })
})

test('AvgPx: exact to 4 decimals, rounded half up, at least 2', () => {
  expect(averagePrice(0, 0)).toBe('0')
  expect(averagePrice(15_001 * 300, 300)).toBe('150.01')
  expect(averagePrice(15_001 * 300 + 15_002 * 50, 350)).toBe('150.0114')
  expect(averagePrice(15_001 + 15_002, 2)).toBe('150.015')
  expect(averagePrice(1 + 2 * 2, 3)).toBe('0.0167')
})
