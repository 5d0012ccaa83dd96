// Venues under wrangler dev, over TCP from Durable Objects (cloudflare:sockets): the MarketFeed
// object reads a venue's feed and hands each listed symbol's quotes to its object, and GET
// /v1/nbbo shows the best bid and offer across venues (an unlisted symbol creates no object; a
// dropped feed is reconnected); the VenueSession object logs on to the simulated venue's FIX
// acceptor and logs on again after the venue cuts the connection.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { startVenue } from '../../scripts/lib/venue/index.ts'
import type { Venue } from '../../scripts/lib/venue/index.ts'
import { formatCents, parseCents } from '../../src/lib/money.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth, Json } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'

/** A feed server: what it is told to send goes to every client connected now. */
function feedServer() {
  const clients = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    clients.add(socket)
    socket.on('close', () => clients.delete(socket))
    socket.on('error', () => clients.delete(socket))
  })
  return {
    listen: () => new Promise<number>((ok) => server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port))),
    send: (lines: string[]) => clients.forEach((c) => c.write(`${lines.join('\n')}\n`)),
    dropAll: () => clients.forEach((c) => c.destroy()),
    connected: () => clients.size,
    close: () => new Promise<void>((ok) => { clients.forEach((c) => c.destroy()); server.close(() => ok()) }),
  }
}

const feeds = [feedServer(), feedServer()]
let venue: Venue
let dev: DevServer
let api: ReturnType<typeof apiClient>
let admin: Auth
let alice: Auth
let bob: Auth

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await read()
    if (done(v) || Date.now() > deadline) return v
    await Bun.sleep(50)
  }
}

beforeAll(async () => {
  const [a, b] = await Promise.all(feeds.map((f) => f.listen()))
  venue = await startVenue()
  dev = await startDevServer({
    env: {
      VENUE_FEEDS: `NSIM=127.0.0.1:${a},ARCA=127.0.0.1:${b}`,
      VENUES: `NSIM=127.0.0.1:${venue.fixPort}`,
    },
  })
  api = apiClient(dev.base)
  ;({ admin, alice, bob } = await api.demoTraders())
}, 90_000)

afterAll(async () => {
  await dev?.stop()
  await Promise.all(feeds.map((f) => f.close()))
  await venue?.stop()
}, 30_000)

describe('venue feeds', () => {
  test('quotes from two venues make the NBBO; a dropped feed is followed again', async () => {
    const followed = await api.call('POST', '/v1/admin/feeds', admin)
    expect(followed.status).toBe(200)
    expect(followed.body.feeds.map((f: Json) => f.venue).sort()).toEqual(['ARCA', 'NSIM'])
    await until(async () => feeds.every((f) => f.connected() === 1), (ok) => ok)

    const now = Date.now()
    feeds[0].send([`Q|NSIM|AAPL|149.98|300|150.02|200|${now}`, `Q|NSIM|NOPE|1.00|1|2.00|1|${now}`])
    feeds[1].send([`Q|ARCA|AAPL|149.99|100|150.03|500|${now}`, 'garbage'])
    const nbbo = await until(
      async () => (await api.call('GET', '/v1/nbbo/AAPL', {})).body,
      (b) => b.bid?.venue === 'ARCA' && b.ask?.venue === 'NSIM',
    )
    expect(nbbo).toEqual({
      symbol: 'AAPL',
      bid: { price: '149.99', size: 100, venue: 'ARCA' },
      ask: { price: '150.02', size: 200, venue: 'NSIM' },
      crossed: false,
      ts: new Date(now).toISOString(),
    })
    expect((await api.call('GET', '/v1/nbbo/NOPE', {})).status).toBe(404)
    const status = await api.call('POST', '/v1/admin/feeds', admin)
    const nsim = status.body.feeds.find((f: Json) => f.venue === 'NSIM')
    expect(nsim).toMatchObject({ connected: true, events: 1, unlisted: 1 })
    expect(status.body.feeds.find((f: Json) => f.venue === 'ARCA')).toMatchObject({ events: 1, bad: 0 })

    // the venue drops the connection: following again (the alarm does it every 5 s) reconnects
    feeds[0].dropAll()
    await until(
      async () => (await api.call('POST', '/v1/admin/feeds', admin)).body.feeds.find((f: Json) => f.venue === 'NSIM'),
      (f) => f.connected && feeds[0].connected() === 1,
    )
    feeds[0].send([`Q|NSIM|AAPL|149.995|1|150.00|50|${Date.now()}`, `Q|NSIM|AAPL|149.97|300|150.00|50|${Date.now()}`])
    const after = await until(
      async () => (await api.call('GET', '/v1/nbbo/AAPL', {})).body,
      (b) => b.ask?.price === '150.00',
    )
    expect(after.ask).toEqual({ price: '150.00', size: 50, venue: 'NSIM' })
    expect(after.bid).toEqual({ price: '149.99', size: 100, venue: 'ARCA' })
    expect((await api.call('GET', '/v1/nbbo/AAPL', admin)).status).toBe(200)
    expect((await api.call('POST', '/v1/admin/feeds', {})).status).toBe(401)
  }, 60_000)

  test('the FIX session logs on, and again after the venue cuts it', async () => {
    const opened = (await api.call('POST', '/v1/admin/venues', admin)).body.venues[0]
    expect(opened).toMatchObject({ venue: 'NSIM', address: `127.0.0.1:${venue.fixPort}` })
    const status = async () => (await api.call('GET', '/v1/admin/venues', admin)).body.venues[0]
    expect((await until(status, (v) => v.state === 'active')).state).toBe('active')
    venue.disconnect()
    expect((await until(status, (v) => v.state !== 'active', 5_000)).connected).toBe(false)
    // the object's alarm (every 5 s) reconnects and logs on again
    const back = await until(status, (v) => v.state === 'active', 15_000)
    expect(back.state).toBe('active')
    expect(back.events.filter((e: Json) => e.type === 'logged-on')).toHaveLength(2)
    expect((await api.call('GET', '/v1/admin/venues', {})).status).toBe(401)
  }, 30_000)
})

const account = async (auth: Auth) => (await api.call('GET', '/v1/account', auth)).body
const order = (auth: Auth, id: number) => async () => (await api.call('GET', `/v1/orders/${id}`, auth)).body

/** Our feed of NSIM shows the simulated venue's own top of book. */
async function quoteVenue() {
  const q = venue.quote('MSFT')
  // sent again while waiting: a feed connection being re-made would miss a single line
  const line = () => `Q|NSIM|MSFT|${formatCents(q.bid!)}|${q.bidSize}|${formatCents(q.ask!)}|${q.askSize}|${Date.now()}`
  const nbbo = async () => {
    feeds[0].send([line()])
    return (await api.call('GET', '/v1/nbbo/MSFT', {})).body
  }
  expect((await until(nbbo, (b) => b.ask?.price === formatCents(q.ask!))).ask.price).toBe(formatCents(q.ask!))
  return q
}

describe('routing to the venue (both: internal first, within the NBBO)', () => {
  const cents = (text: string) => parseCents(text)
  const position = async (auth: Auth) => (await api.call('GET', '/v1/positions/MSFT', auth)).body
  const ended = (o: Json) => ['filled', 'canceled', 'expired'].includes(o.status)

  beforeAll(async () => {
    expect((await api.call('PUT', '/v1/admin/symbols/MSFT/routing', admin, { mode: 'both' })).body).toEqual({ symbol: 'MSFT', mode: 'both' })
    expect((await api.call('PUT', '/v1/admin/symbols/MSFT/routing', admin, { mode: 'sideways' })).status).toBe(400)
    expect((await api.call('PUT', '/v1/admin/symbols/MSFT/routing', alice, { mode: 'both' })).status).toBe(404) // admin routes are hidden
    await api.call('POST', '/v1/admin/feeds', admin)
    await api.call('POST', '/v1/admin/venues', admin)
    const status = async () => (await api.call('GET', '/v1/admin/venues', admin)).body.venues[0]
    await until(status, (v) => v.state === 'active', 15_000)
  }, 30_000)

  test('market-data subscribers of the nbbo channel get the venues\' best prices, a source apart from ours', async () => {
    const bearer = bob.authorization.slice('Bearer '.length)
    const ws = new WebSocket(`${dev.base.replace('http', 'ws')}/v1/market-data/MSFT`, ['bourse.v1', `bearer.${bearer}`])
    const received: Json[] = []
    ws.addEventListener('message', (e) => received.push(JSON.parse(String(e.data))))
    await new Promise((ok, fail) => { ws.addEventListener('open', ok); ws.addEventListener('error', fail) })
    try {
      ws.send(JSON.stringify({ op: 'subscribe', channels: ['nbbo'] }))
      const q = await quoteVenue()
      const seen = await until(async () => received.filter((m) => m.type === 'nbbo').at(-1), (m) => m?.ask?.price === formatCents(q.ask!))
      expect(seen).toMatchObject({ symbol: 'MSFT', source: 'venues', ask: { price: formatCents(q.ask!), size: q.askSize, venue: 'NSIM' }, crossed: false })
      expect(received.some((m) => m.type === 'quote' || m.type === 'depth_update')).toBe(false)
    } finally {
      ws.close()
    }
  }, 20_000)

  test('partially filled internally, the rest filled at the venue: positions and cash exact', async () => {
    const q = await quoteVenue()
    const [aliceBefore, bobBefore] = [await account(alice), await account(bob)]
    const [alicePos, bobPos] = [await position(alice), await position(bob)]
    // alice rests 20 at the NBBO's offer (a sell there does not reach the bid: it stays here);
    // bob takes 60 at up to 10 cents over it: 20 from alice, first, then 40 at the venue
    const inside = q.ask!
    const sell = await api.call('POST', '/v1/orders', alice, { symbol: 'MSFT', side: 'sell', type: 'limit', qty: 20, price: formatCents(inside), time_in_force: 'day' })
    expect(sell.status).toBe(201)
    const buy = await api.call('POST', '/v1/orders', bob, { symbol: 'MSFT', side: 'buy', type: 'limit', qty: 60, price: formatCents(q.ask! + 10), time_in_force: 'ioc' })
    expect(buy.status).toBe(201)
    expect(buy.body).toMatchObject({ status: 'partial', filled_qty: 20, routed: { venue: 'NSIM', qty: 40 } })

    const done = await until(order(bob, buy.body.id), ended, 20_000)
    expect(done).toMatchObject({ status: 'filled', filled_qty: 60 })
    const venueFills = done.fills.filter((f: Json) => f.venue === 'NSIM')
    expect(venueFills.reduce((n: number, f: Json) => n + f.qty, 0)).toBe(40)
    for (const f of venueFills) expect(cents(f.price)).toBeLessThanOrEqual(q.ask! + 10)
    const notional = done.fills.reduce((n: number, f: Json) => n + f.qty * cents(f.price), 0)
    expect(notional).toBe(20 * inside + venueFills.reduce((n: number, f: Json) => n + f.qty * cents(f.price), 0))

    await until(() => account(bob), (a) => a.reserved_cash === bobBefore.reserved_cash)
    const [aliceAfter, bobAfter] = [await account(alice), await account(bob)]
    expect(cents(bobAfter.cash)).toBe(cents(bobBefore.cash) - notional)
    expect(cents(aliceAfter.cash)).toBe(cents(aliceBefore.cash) + 20 * inside)
    expect((await position(bob)).qty).toBe((bobPos.qty ?? 0) + 60)
    expect((await position(alice)).qty).toBe(alicePos.qty - 20)

    // the best-execution record: the NBBO when it was routed, and where the 40 went
    // (trade dates: a fill on a holiday or after the close belongs to the next trading day)
    const [from, to] = [0, 7].map((days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10))
    const report = await fetch(`${dev.base}/v1/admin/reports/trades?from=${from}&to=${to}&format=jsonl`, { headers: admin })
    const rows = (await report.text()).trim().split('\n').map((l) => JSON.parse(l))
    const routed = rows.filter((r) => r.buy_order_id === buy.body.id && r.venue === 'NSIM')
    expect(routed.length).toBe(venueFills.length)
    expect(routed[0]).toMatchObject({ nbbo_ask: formatCents(q.ask!), routed_qty: 40 })
    expect(cents(routed[0].price_improvement)).toBe(q.ask! - cents(routed[0].price))
  }, 40_000)

  test('a market order\'s collar is anchored at the venues\' offer; what our book lacks fills at the venue', async () => {
    const q = await quoteVenue()
    const buy = await api.call('POST', '/v1/orders', bob, { symbol: 'MSFT', side: 'buy', type: 'market', qty: 5, time_in_force: 'ioc' })
    expect(buy.status).toBe(201)
    expect(cents(buy.body.collar_price)).toBe(Math.floor((q.ask! * 10_500) / 10_000)) // ask + 5%, the tick 0.01
    expect(buy.body.routed).toEqual({ venue: 'NSIM', qty: 5 })
    const done = await until(order(bob, buy.body.id), ended, 20_000)
    expect(done).toMatchObject({ status: 'filled', filled_qty: 5, reserved_cash: '0.00' })
    expect(done.fills.every((f: Json) => f.venue === 'NSIM' && cents(f.price) <= cents(buy.body.collar_price))).toBe(true)
  }, 30_000)

  test('a DAY order resting at the venue is canceled there: 202, then canceled and released', async () => {
    const q = await quoteVenue()
    const before = await account(bob)
    venue.pause() // the venue acknowledges orders and does not trade them
    try {
      const buy = await api.call('POST', '/v1/orders', bob, { symbol: 'MSFT', side: 'buy', type: 'limit', qty: 30, price: formatCents(q.ask!), time_in_force: 'day' })
      expect(buy.body).toMatchObject({ status: 'open', filled_qty: 0 })
      const amend = await api.call('PATCH', `/v1/orders/${buy.body.id}`, bob, { qty: 10 })
      expect(amend).toMatchObject({ status: 409, body: { code: 'order_at_venue' } })
      const cancel = await api.call('DELETE', `/v1/orders/${buy.body.id}`, bob)
      expect(cancel.status).toBe(202)
      expect(cancel.body).toMatchObject({ id: buy.body.id, cancel_pending: true })
      const done = await until(order(bob, buy.body.id), ended, 20_000)
      expect(done).toMatchObject({ status: 'canceled', filled_qty: 0 })
      expect((await until(() => account(bob), (a) => a.reserved_cash === before.reserved_cash)).cash).toBe(before.cash)
    } finally {
      venue.resume()
    }
  }, 40_000)
})

describe('routing externally (no internal matching)', () => {

  test('orders go whole to the venue: one rests there until canceled, one fills there; a stop is refused', async () => {
    expect((await api.call('PUT', '/v1/admin/symbols/MSFT/routing', admin, { mode: 'external' })).status).toBe(200)
    const q = await quoteVenue()
    const before = await account(bob)

    // a bid under the market rests at the venue, not in our book
    const resting = await api.call('POST', '/v1/orders', bob, { symbol: 'MSFT', side: 'buy', type: 'limit', qty: 10, price: formatCents(q.bid! - 5), time_in_force: 'gtc' })
    expect(resting.body).toMatchObject({ status: 'open', routed: { venue: 'NSIM', qty: 10 } })
    await until(async () => venue.depth('MSFT').bids.some((l) => l.price === q.bid! - 5), (ok) => ok)
    expect((await api.call('GET', '/v1/book/MSFT', {})).body.bids).toEqual([])
    expect((await api.call('DELETE', `/v1/orders/${resting.body.id}`, bob)).status).toBe(202)
    expect(await until(order(bob, resting.body.id), (o) => o.status === 'canceled')).toMatchObject({ status: 'canceled', filled_qty: 0 })

    // a marketable sell fills at the venue's bid
    const sell = await api.call('POST', '/v1/orders', alice, { symbol: 'MSFT', side: 'sell', type: 'limit', qty: 5, price: formatCents(q.bid!), time_in_force: 'ioc' })
    expect(sell.body).toMatchObject({ status: 'open', filled_qty: 0, routed: { venue: 'NSIM', qty: 5 } })
    const sold = await until(order(alice, sell.body.id), (o) => o.status === 'filled')
    expect(sold.fills.map((f: Json) => [f.venue, f.price])).toEqual([['NSIM', formatCents(q.bid!)]])

    const stop = await api.call('POST', '/v1/orders', bob, { symbol: 'MSFT', side: 'buy', type: 'stop', qty: 1, stop_price: formatCents(q.ask! + 100), time_in_force: 'day' })
    expect(stop.body).toMatchObject({ status: 'rejected', reason: 'not_routable' })
    expect(await until(() => account(bob), (a) => a.reserved_cash === before.reserved_cash)).toMatchObject({ cash: before.cash })
  }, 40_000)

  test('messages lost both ways and a dropped connection: every order reaches the venue once, every fill arrives once', async () => {
    const q = await quoteVenue()
    const place = (auth: Auth, side: 'buy' | 'sell', qty: number, price: number) =>
      api.call('POST', '/v1/orders', auth, { symbol: 'MSFT', side, type: 'limit', qty, price: formatCents(price), time_in_force: 'ioc' })
    const filledOnce = async (auth: Auth, id: number, qty: number) => {
      const o = await until(order(auth, id), (x) => x.status === 'filled', 20_000)
      expect(o).toMatchObject({ status: 'filled', filled_qty: qty })
      expect(o.fills.reduce((n: number, f: Json) => n + f.qty, 0)).toBe(qty)
    }

    // our first order is lost on the way: the second one shows the venue the gap, and the
    // session resends the first (PossDup); each trades once
    venue.dropInbound(1)
    const lost = await place(bob, 'buy', 3, q.ask! + 20)
    const next = await place(bob, 'buy', 2, q.ask! + 20)
    await filledOnce(bob, lost.body.id, 3)
    await filledOnce(bob, next.body.id, 2)

    // the venue's report is lost on the way back, then the connection drops: after the logon
    // again, the gap is asked for and the fill arrives once
    venue.dropOutbound(1)
    const sold = await place(alice, 'sell', 4, q.bid! - 20)
    venue.disconnect()
    await filledOnce(alice, sold.body.id, 4)

    // a venue's rejection releases what the order held
    const before = await account(bob)
    venue.rejectOrders(1)
    const rejected = await place(bob, 'buy', 1, q.ask! + 20)
    const ended = await until(order(bob, rejected.body.id), (x) => x.status === 'canceled', 20_000)
    expect(ended).toMatchObject({ status: 'canceled', reason: 'venue_rejected', filled_qty: 0, reserved_cash: '0.00' })
    expect((await until(() => account(bob), (a) => a.reserved_cash === before.reserved_cash)).cash).toBe(before.cash)
  }, 60_000)
})
