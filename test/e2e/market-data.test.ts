// Market data over WebSockets under wrangler dev: the Worker authenticates the upgrade, the
// symbol's Durable Object serves it (hibernation API). Two subscribers of different tiers watch
// AAPL while orders trade: what each receives and how often, depth sequence numbers without a gap,
// the snapshot plus the deltas equal to GET /v1/book, a resume with since=<seq>, and readers that
// never answer read checks, or never read at all (TCP window full) even while pinging, closed
// before they can pile up memory while a reader keeping up gets everything.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readCheckAnswer } from '../../src/client/index.ts'
import { depthChecksum } from '../../src/marketdata/protocol.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth, Json } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import { neverReader } from '../helpers/never-reader.ts'

/** what a reader may fall behind in this run: small, so the slow reader trips it quickly */
const MAX_UNACKED = 15_000

let dev: DevServer
let api: ReturnType<typeof apiClient>
let alice: Auth // retail
let bob: Auth // made pro below
let token: { alice: string; bob: string }

interface Received {
  at: number
  msg: Json
}

/**
 * A subscriber that records everything with its arrival time; pings every 200 ms and answers
 * read checks (as src/terminal/socket.ts does) unless told not to.
 */
class Client {
  readonly received: Received[] = []
  closed: { code: number; reason: string } | undefined
  private pinger: ReturnType<typeof setInterval> | undefined

  private constructor(readonly ws: WebSocket, ack: boolean) {
    ws.addEventListener('message', (e) => {
      const answer = ack && readCheckAnswer(String(e.data))
      if (answer) ws.send(answer)
      this.received.push({ at: performance.now(), msg: JSON.parse(String(e.data)) })
    })
    ws.addEventListener('close', (e) => {
      this.closed = { code: e.code, reason: e.reason }
      clearInterval(this.pinger)
    })
  }

  static async open(path: string, bearer: string, { ping = true, ack = true } = {}) {
    const url = `${dev.base.replace('http', 'ws')}${path}`
    const ws = new WebSocket(url, ['bourse.v1', `bearer.${bearer}`])
    const client = new Client(ws, ack)
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve)
      ws.addEventListener('error', reject)
    })
    expect(ws.protocol).toBe('bourse.v1')
    if (ping) client.pinger = setInterval(() => client.send({ op: 'ping' }), 200)
    return client
  }

  send(msg: Json) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg))
  }

  of(type: string) {
    return this.received.filter((r) => r.msg.type === type)
  }

  async next(type: string, after = 0): Promise<Json> {
    const until = Date.now() + 5_000
    for (;;) {
      const found = this.received.slice(after).find((r) => r.msg.type === type)
      if (found) return found.msg
      if (Date.now() > until) throw new Error(`no ${type} message`)
      await Bun.sleep(10)
    }
  }

  close() {
    clearInterval(this.pinger)
    this.ws.close(1000)
  }
}

/**
 * The depth a client builds: the snapshot, then each update in order. An update may overlap what
 * the client has (its tier's window began before the client subscribed); a gap is an error.
 */
function depthOf(messages: Json[]) {
  const snapshot = messages.find((m) => m.type === 'depth_snapshot')!
  const bids = new Map<string, number>(snapshot.bids)
  const asks = new Map<string, number>(snapshot.asks)
  let seq = snapshot.seq
  for (const m of messages.filter((m) => m.type === 'depth_update' && m.seq > snapshot.seq)) {
    expect(m.first_seq).toBeLessThanOrEqual(seq + 1)
    seq = m.seq
    for (const [levels, changes] of [[bids, m.bids], [asks, m.asks]] as const) {
      for (const [price, qty] of changes) {
        if (qty === 0) levels.delete(price)
        else levels.set(price, qty)
      }
    }
    const cents = (levels: Map<string, number>, dir: number) =>
      [...levels]
        .map(([p, q]): [number, number] => [Math.round(Number(p) * 100), q])
        .sort((a, b) => dir * (a[0] - b[0]))
    expect(m.checksum).toBe(depthChecksum(cents(bids, -1), cents(asks, 1)))
  }
  const sorted = (levels: Map<string, number>, dir: number) =>
    [...levels].sort((a, b) => dir * (Number(a[0]) - Number(b[0])))
  return { seq, bids: sorted(bids, -1), asks: sorted(asks, 1) }
}

const book = async (depth = 50) => {
  const { body } = await api.call('GET', `/v1/book/AAPL?depth=${depth}`, alice)
  const levels = (side: [string, number, number][]) => side.map(([p, q]): [string, number] => [p, q])
  return { bids: levels(body.bids), asks: levels(body.asks) }
}

const order = (auth: Auth, side: string, qty: number, price: string) =>
  api.call('POST', '/v1/orders', auth, {
    symbol: 'AAPL', side, type: 'limit', qty, price, time_in_force: 'gtc',
  })

/** about `seconds` of trading: resting orders at several prices, and crossing ones */
async function trade(seconds: number) {
  const until = Date.now() + seconds * 1000
  for (let i = 0; Date.now() < until; i++) {
    const cents = 14_990 + (i % 7)
    const price = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
    const placed = await (i % 2 === 0 ? order(bob, 'sell', 1, price) : order(alice, 'buy', 1, price))
    expect(placed.status).toBe(201)
    await Bun.sleep(40)
  }
}

beforeAll(async () => {
  dev = await startDevServer({ wranglerArgs: ['--var', `MD_MAX_UNACKED_BYTES:${MAX_UNACKED}`] })
  api = apiClient(dev.base)
  const traders = await api.demoTraders()
  ;({ alice, bob } = traders)
  const bobId = (await api.call('GET', '/v1/account', bob)).body.id
  const pro = await api.call('PATCH', `/v1/admin/users/${bobId}`, traders.admin, { tier: 'pro' })
  expect(pro.status).toBe(200)
  // enough to sell for every trade() of the file (about 6 a second)
  const shares = await api.call('POST', `/v1/admin/accounts/${bobId}/transfers`, traders.admin, {
    symbol: 'AAPL', qty: 1_000, cost_basis: '150000.00',
  })
  expect(shares.status).toBe(201)
  const bearer = (auth: Auth) => auth.authorization.slice('Bearer '.length)
  token = { alice: bearer(alice), bob: bearer(bob) }
}, 90_000)

afterAll(async () => {
  await dev?.stop()
}, 30_000)

describe('GET /v1/market-data/:symbol', () => {
  test('needs an upgrade, a valid token and a listed symbol', async () => {
    const plain = await fetch(`${dev.base}/v1/market-data/AAPL`)
    expect(plain.status).toBe(426)
    expect(((await plain.json()) as Json).code).toBe('upgrade_required')
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }
    const anonymous = await fetch(`${dev.base}/v1/market-data/AAPL`, { headers: upgrade })
    expect(anonymous.status).toBe(401)
    const forged = await fetch(`${dev.base}/v1/market-data/AAPL?token=abc.def.ghi`, { headers: upgrade })
    expect(forged.status).toBe(401)
    const unknown = await fetch(`${dev.base}/v1/market-data/ZZZZ?token=${token.alice}`, { headers: upgrade })
    expect(unknown.status).toBe(404)
  })

  test('protocol: subscribe replies with the snapshot, errors keep the socket, ping answers pong', async () => {
    const c = await Client.open('/v1/market-data/AAPL', token.alice, { ping: false })
    c.send({ op: 'subscribe', channels: ['quotes', 'depth'] })
    expect(await c.next('subscribed')).toEqual({ type: 'subscribed', channels: ['quotes', 'depth'] })
    const snapshot = await c.next('depth_snapshot')
    expect(snapshot).toMatchObject({ symbol: 'AAPL', seq: expect.any(Number), checksum: expect.any(Number) })
    expect(await c.next('quote')).toMatchObject({ symbol: 'AAPL', ts: expect.any(Number) })
    c.send({ op: 'subscribe', channels: ['news'] })
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message' })
    c.ws.send('{"op":"ping"}')
    expect(await c.next('pong')).toEqual({ type: 'pong' })
    c.send({ op: 'unsubscribe', channels: ['depth'] })
    expect(await c.next('unsubscribed')).toEqual({ type: 'unsubscribed', channels: ['depth'] })
    expect(c.closed).toBeUndefined()
    c.close()
  })

  test('abuse: garbage and binary frames get errors and keep the socket; an oversized frame or a flood closes it', async () => {
    const c = await Client.open('/v1/market-data/AAPL', token.alice, { ping: false })
    for (const garbage of ['{', 'null', '[]', '{"op":"subscribe","channels":"quotes"}', '\u0000', '{"op":"subscribe","channels":["quotes"],"since":-1}']) {
      c.ws.send(garbage)
      expect(await c.next('error')).toMatchObject({ type: 'error', code: 'invalid_message' })
    }
    c.ws.send(new Uint8Array([1, 2, 3]))
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message' })
    c.ws.send(JSON.stringify({ op: 'ping', pad: 'x'.repeat(5_000) }))
    await Bun.sleep(300)
    expect(c.closed?.code).toBe(1009)

    const flood = await Client.open('/v1/market-data/AAPL', token.alice, { ping: false })
    // (pings are answered by the platform without the object: they are not what floods it)
    for (let i = 0; i < 60; i++) flood.send({ op: 'unsubscribe', channels: ['trades'] })
    await Bun.sleep(500)
    expect(flood.closed?.code).toBe(4029)

    // subscribing over and over to the same channels is one subscription, not many
    const again = await Client.open('/v1/market-data/AAPL', token.alice, { ping: false })
    for (let i = 0; i < 5; i++) again.send({ op: 'subscribe', channels: ['quotes'] })
    for (let i = 0; i < 5; i++) expect(await again.next('subscribed')).toEqual({ type: 'subscribed', channels: ['quotes'] })
    expect(again.closed).toBeUndefined()
    again.close()
  })

  test('retail and pro while orders trade: rates by tier, trades, gap-free depth equal to the book', async () => {
    const retail = await Client.open('/v1/market-data/AAPL', token.alice)
    const pro = await Client.open('/v1/market-data/AAPL', token.bob)
    for (const c of [retail, pro]) c.send({ op: 'subscribe', channels: ['quotes', 'trades', 'depth'] })
    await Promise.all([retail.next('depth_snapshot'), pro.next('depth_snapshot')])
    await trade(3.5)
    await Bun.sleep(1_300) // the last conflated window goes out

    // At most one message per channel per interval: counted over the whole stream, since arrival
    // times jitter on a busy machine (two messages sent an interval apart may arrive closer).
    const atMostOnePer = (interval: number, times: number[]) => {
      if (times.length < 2) return
      const span = times.at(-1)! - times[0]
      expect(times.length - 1).toBeLessThanOrEqual(Math.floor(span / interval) + 1)
    }
    for (const [c, interval] of [[retail, 1000], [pro, 100]] as const) {
      // (the first quote is the subscribe reply's, sent at once)
      atMostOnePer(interval, c.of('quote').map((r) => r.at).slice(1))
      atMostOnePer(interval, c.of('depth_update').map((r) => r.at))
      const trades = [...c.of('trade'), ...c.of('trades')].map((r) => r.at)
      trades.sort((a, b) => a - b)
      atMostOnePer(interval, trades)
      const depth = depthOf(c.received.map((r) => r.msg))
      const now = await book()
      expect({ bids: depth.bids, asks: depth.asks }).toEqual(now)
    }
    // the pro subscriber hears more often; both saw every trade (conflated or not)
    expect(pro.of('depth_update').length).toBeGreaterThan(retail.of('depth_update').length)
    const tradeCount = (c: Client) =>
      c.of('trade').length + c.of('trades').reduce((n, r) => n + r.msg.trades.length, 0)
    expect(tradeCount(retail)).toBe(tradeCount(pro))
    expect(tradeCount(retail)).toBeGreaterThan(0)
    const [first] = pro.of('trade').length ? pro.of('trade') : pro.of('trades')
    const t = first.msg.type === 'trade' ? first.msg : first.msg.trades[0]
    expect(t).toMatchObject({ price: expect.stringMatching(/^\d+\.\d\d$/), qty: 1, ts: expect.any(Number) })
    expect(['buy', 'sell']).toContain(t.side)
    retail.close()
    pro.close()
  }, 30_000)

  test('a client reconnecting with since=<seq> gets what it missed as one update', async () => {
    const first = await Client.open('/v1/market-data/AAPL', token.bob)
    first.send({ op: 'subscribe', channels: ['depth'] })
    const snapshot = await first.next('depth_snapshot')
    await Bun.sleep(300)
    const seen = depthOf(first.received.map((r) => r.msg))
    first.close()

    await trade(1)
    const again = await Client.open(`/v1/market-data/AAPL?since=${seen.seq}`, token.bob)
    again.send({ op: 'subscribe', channels: ['depth'] })
    const missed = await again.next('depth_update')
    expect(missed.first_seq).toBe(seen.seq + 1)
    expect(again.of('depth_snapshot')).toHaveLength(0)
    const resumed = depthOf([{ ...snapshot, bids: seen.bids, asks: seen.asks, seq: seen.seq }, missed])
    expect({ bids: resumed.bids, asks: resumed.asks }).toEqual(await book())

    // a seq from far back (or from the future) gets a snapshot instead
    const stale = await Client.open('/v1/market-data/AAPL?since=999999999', token.bob)
    stale.send({ op: 'subscribe', channels: ['depth'] })
    expect((await stale.next('depth_snapshot')).seq).toBe(missed.seq)
    again.close()
    stale.close()
  }, 30_000)

  test('after the object hibernates, subscribers keep their channels and start over from a snapshot', async () => {
    const c = await Client.open('/v1/market-data/AAPL', token.alice, { ping: false })
    c.send({ op: 'subscribe', channels: ['trades', 'depth'] })
    await c.next('depth_snapshot')
    // idle long enough for workerd to evict the object (after 10 s idle, checked every few
    // seconds); the socket stays open (hibernation)
    await Bun.sleep(25_000)
    const pinged = c.received.length
    c.ws.send('{"op":"ping"}') // answered by the platform, without waking the object
    expect(await c.next('pong', pinged)).toEqual({ type: 'pong' })
    const before = c.received.length
    await trade(1.2)
    const snapshot = await c.next('depth_snapshot', before)
    await Bun.sleep(1_200)
    const after = c.received.slice(before).map((r) => r.msg)
    expect(after.some((m) => m.type === 'trade' || m.type === 'trades')).toBe(true)
    const depth = depthOf([snapshot, ...after.filter((m) => m.type === 'depth_update')])
    expect({ bids: depth.bids, asks: depth.asks }).toEqual(await book())
    expect(c.closed).toBeUndefined()
    c.close()
  }, 50_000)

  test('a reader that never answers read checks is closed with 4008 before it piles up memory, pings or not', async () => {
    const silent = await Client.open('/v1/market-data/AAPL', token.bob, { ack: false })
    silent.send({ op: 'subscribe', channels: ['quotes', 'trades', 'depth'] })
    await silent.next('depth_snapshot')
    const until = Date.now() + 20_000
    while (!silent.closed && Date.now() < until) await trade(0.5)
    expect(silent.closed?.code).toBe(4008)
    expect(silent.of('read_check').length).toBeGreaterThan(0)
    const bytes = silent.received.reduce((n, r) => n + JSON.stringify(r.msg).length, 0)
    expect(bytes).toBeLessThanOrEqual(MAX_UNACKED + 2_000)
  }, 30_000)

  /** a client in a Node process that stops reading its socket for `seconds` */
  const neverReading = (seconds: number, options?: { ping: boolean }) =>
    neverReader(dev.base, '/v1/market-data/AAPL', token.bob, seconds, options).result

  test('readers that never read (TCP window full) are closed with 4008 at the budget; a reader keeping up is not held back', async () => {
    const silent = [neverReading(12), neverReading(12), neverReading(12)]
    const reader = await Client.open('/v1/market-data/AAPL', token.bob)
    reader.send({ op: 'subscribe', channels: ['quotes', 'trades', 'depth'] })
    await reader.next('depth_snapshot')
    await trade(10)
    await Bun.sleep(1_300) // the last conflated window goes out
    // the object stopped sending to each at the budget: what waited for them was bounded
    for (const never of await Promise.all(silent)) {
      expect(never.closeCodes).toEqual([4008])
      expect(never.bytes).toBeLessThanOrEqual(MAX_UNACKED + 2_000)
    }
    // meanwhile the reader got every update, in order, and its depth is the book's
    expect(reader.closed).toBeUndefined()
    const depth = depthOf(reader.received.map((r) => r.msg))
    expect({ bids: depth.bids, asks: depth.asks }).toEqual(await book())
    expect(reader.of('depth_update').length).toBeGreaterThan(5)
    reader.close()
  }, 40_000)

  // The platform answers the exact ping without waking the object, so pings prove nothing about
  // reading: only the answer to a read_check (a random token in the stream) does.
  test('a reader that never reads but keeps pinging is closed with 4008 at the budget too', async () => {
    const pinging = neverReading(12, { ping: true })
    await trade(10)
    const never = await pinging
    expect(never.closeCodes).toEqual([4008])
    expect(never.bytes).toBeLessThanOrEqual(MAX_UNACKED + 2_000)
  }, 40_000)
})
