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
  ;({ admin } = await api.demoTraders())
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
