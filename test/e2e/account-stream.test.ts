// The private account stream under wrangler dev: each user's order updates and account changes,
// in order, numbered per account, from the symbol's object (accepted) and the drain (fills,
// cancels, balances), resumable with since=<seq>; a reader that does not prove it reads (read
// checks) closed with 4008 before it piles up memory.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readCheckAnswer } from '../../src/client/index.ts'
import { apiClient } from '../helpers/api.ts'
import type { Auth, Json } from '../helpers/api.ts'
import { startDevServer } from '../helpers/dev-server.ts'
import type { DevServer } from '../helpers/dev-server.ts'
import { neverReader } from '../helpers/never-reader.ts'

let dev: DevServer
let api: ReturnType<typeof apiClient>
let alice: Auth
let bob: Auth

const bearer = (auth: Auth) => auth.authorization.slice('Bearer '.length)

/** what a reader may fall behind in this run: small, so a few orders trip it */
const MAX_UNACKED = 4_000

/** A stream connection that keeps every message, and answers read checks unless told not to. */
async function openStream(auth: Auth, since?: number, { ack = true } = {}) {
  const query = `token=${bearer(auth)}${since === undefined ? '' : `&since=${since}`}`
  const ws = new WebSocket(`${dev.base.replace('http', 'ws')}/v1/stream?${query}`)
  const received: Json[] = []
  let closed: number | undefined
  ws.addEventListener('close', (e) => (closed = e.code))
  ws.addEventListener('message', (e) => {
    const answer = ack && readCheckAnswer(String(e.data))
    if (answer) ws.send(answer)
    received.push(JSON.parse(String(e.data)))
  })
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve)
    ws.addEventListener('error', reject)
  })
  /** waits until a message matches */
  const until = async (match: (m: Json) => boolean) => {
    const deadline = Date.now() + 10_000
    for (;;) {
      const found = received.find(match)
      if (found) return found
      if (Date.now() > deadline) throw new Error(`not received; got ${JSON.stringify(received)}`)
      await Bun.sleep(20)
    }
  }
  return { ws, received, until, closed: () => closed }
}

const order = (auth: Auth, side: string, qty: number) =>
  api.call('POST', '/v1/orders', auth, {
    symbol: 'AAPL', side, type: 'limit', qty, price: '150.00', time_in_force: 'gtc',
  })

beforeAll(async () => {
  dev = await startDevServer({ wranglerArgs: ['--var', `STREAM_MAX_UNACKED_BYTES:${MAX_UNACKED}`] })
  api = apiClient(dev.base)
  ;({ alice, bob } = await api.demoTraders())
}, 90_000)

afterAll(async () => {
  await dev?.stop()
}, 30_000)

describe('GET /v1/stream', () => {
  test('needs an upgrade and a token', async () => {
    expect((await fetch(`${dev.base}/v1/stream`)).status).toBe(426)
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }
    expect((await fetch(`${dev.base}/v1/stream`, { headers: upgrade })).status).toBe(401)
  })

  test('order updates and account changes, in order, then a resume with since', async () => {
    const bobStream = await openStream(bob)
    const aliceStream = await openStream(alice)
    await Promise.all([bobStream.until((m) => m.type === 'hello'), aliceStream.until((m) => m.type === 'hello')])

    const sell = await order(bob, 'sell', 10)
    expect(sell.status).toBe(201)
    const buy = await order(alice, 'buy', 4)
    expect(buy.body.status).toBe('filled')

    // alice: her buy accepted (filled at once), its fill with the price, then her balances
    const aliceFill = await aliceStream.until((m) => m.type === 'order' && m.event === 'fill')
    expect(aliceFill).toMatchObject({
      order: { id: buy.body.id, status: 'filled', filled_qty: 4, open_qty: 0, avg_fill_price: '150.00' },
      fill: { qty: 4, price: '150.00', liquidity: 'taker' },
    })
    const aliceAccount = await aliceStream.until((m) => m.type === 'account')
    const account = (await api.call('GET', '/v1/account', alice)).body
    expect(aliceAccount).toMatchObject({ cash: account.cash, buying_power: account.buying_power })
    expect(aliceAccount.position).toMatchObject({ symbol: 'AAPL', qty: 104 })

    // bob: accepted (open), partly filled as the maker, his balances; then his cancel
    await bobStream.until((m) => m.type === 'account')
    const canceled = await api.call('DELETE', `/v1/orders/${sell.body.id}`, bob)
    expect(canceled.status).toBe(200)
    await bobStream.until((m) => m.event === 'canceled')
    const events = (received: Json[]) => received.filter((m) => m.type !== 'hello' && m.type !== 'read_check')
    const seen = events(bobStream.received)
    expect(seen.map((m) => m.event ?? m.type)).toEqual([
      'accepted', 'partial_fill', 'account', 'canceled', 'account',
    ])
    expect(seen[0].order).toMatchObject({ id: sell.body.id, status: 'open', open_qty: 10 })
    expect(seen[1]).toMatchObject({
      order: { status: 'partial', filled_qty: 4, open_qty: 6 },
      fill: { qty: 4, liquidity: 'maker' },
    })
    expect(seen[3].order).toMatchObject({ status: 'canceled', filled_qty: 4, open_qty: 0 })
    expect(seen[4].position).toBeUndefined()
    // numbered per account, without a gap, in the order they happened
    const seqs = seen.map((m) => m.seq)
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i))

    // reconnecting after the first: the rest again, then hello with the last seq
    bobStream.ws.close()
    const resumed = await openStream(bob, seqs[0])
    const hello = await resumed.until((m) => m.type === 'hello')
    expect(hello.seq).toBe(seqs.at(-1))
    expect(events(resumed.received).map((m) => m.seq)).toEqual(seqs.slice(1))
    // a seq the stream never gave: start over from REST
    const reset = await openStream(bob, 1_000_000)
    expect(await reset.until((m) => m.type === 'reset')).toEqual({ type: 'reset', seq: seqs.at(-1) })
    for (const s of [aliceStream, resumed, reset]) s.ws.close()
  }, 30_000)

  test('a reader that never answers read checks, or never reads at all, is closed with 4008 at the budget; one that answers gets every event', async () => {
    const never = neverReader(dev.base, '/v1/stream', bearer(alice), 8, { ping: true })
    const silent = await openStream(alice, undefined, { ack: false })
    const reader = await openStream(alice)
    const pinger = setInterval(() => silent.ws.send('{"op":"ping"}'), 200)
    await Promise.all([silent.until((m) => m.type === 'hello'), reader.until((m) => m.type === 'hello'), never.upgraded])
    expect((await order(bob, 'sell', 30)).status).toBe(201)
    // one buy at a time, each filled before the next: a drain of many fills at once could go out
    // in one burst longer than this run's tiny budget, before the reader's answer could come back
    for (let i = 0; i < 15; i++) {
      const { id } = (await order(alice, 'buy', 1)).body
      await reader.until((m) => m.event === 'fill' && m.order.id === id)
    }
    // every event reached the reader in order, without a gap
    const seqs = reader.received.filter((m) => m.seq !== undefined && m.type !== 'hello').map((m) => m.seq)
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i))
    expect(reader.received.filter((m) => m.type === 'read_check').length).toBeGreaterThan(2)
    expect(reader.closed()).toBeUndefined()
    await silent.until(() => silent.closed() !== undefined)
    clearInterval(pinger)
    expect(silent.closed()).toBe(4008)
    const bytes = silent.received.reduce((n, m) => n + JSON.stringify(m).length, 0)
    expect(bytes).toBeLessThanOrEqual(MAX_UNACKED + 1_000)
    const result = await never.result
    expect(result.closeCodes).toEqual([4008])
    expect(result.bytes).toBeLessThanOrEqual(MAX_UNACKED + 1_000)
    reader.ws.close()
  }, 60_000)
})
