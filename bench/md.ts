// `npm run bench:md`: market-data fan-out. N subscribers (pro tier: up to 10 messages a second per
// channel) watch one symbol over GET /v1/market-data/:symbol while traders' orders cross on it;
// reports the messages delivered per second and the lag from the engine's event time (`ts`) to
// the subscriber's receipt, p50/p95/p99. The peer, in the same run: a plain Node `ws` server on
// this machine broadcasting messages of the same size, at the same rate, to as many subscribers
// (the floor of the fan-out itself). Figures and method: BENCHMARKS.md ("Market-data fan-out").
//
//   npm run bench:md -- [--subscribers 1000] [--rate 50] [--duration 10] [--quick] [--no-write]
//
// --quick: 200 subscribers, 4 s, not written to BENCHMARKS.md.
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import WebSocket, { WebSocketServer } from 'ws'
import { startDevServer } from '../scripts/lib/dev-server.ts'
import { formatCents } from '../src/lib/money.ts'
import { adminToken, call, makeTraders, referencePriceCents } from './api-setup.ts'
import { quantile } from './load.ts'

const SYMBOL = 'AAPL'
/** connections one user may hold to a symbol (src/marketdata/hub.ts) */
const PER_USER = 10

interface Options {
  subscribers: number
  rate: number
  durationMs: number
  write: boolean
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string' },
      rate: { type: 'string', default: '50' },
      duration: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  })
  const quick = values.quick!
  return {
    subscribers: Number(values.subscribers ?? (quick ? 200 : 1000)),
    rate: Number(values.rate),
    durationMs: 1000 * Number(values.duration ?? (quick ? 4 : 10)),
    write: !quick && !values['no-write'],
  }
}

/** What a set of subscribers received during the measured window. */
interface Tally {
  messages: number
  bytes: number
  lags: number[]
  closed: number
}

function newTally(): Tally {
  return { messages: 0, bytes: 0, lags: [], closed: 0 }
}

/** The newest engine time a message carries (a conflated `trades` message: its last trade). */
function eventTime(msg: { ts?: number; trades?: { ts: number }[] }): number | undefined {
  return msg.ts ?? msg.trades?.at(-1)?.ts
}

/** Opens `count` sockets to `url(i)`, sends `hello` on each, counts into `tally` once `counting`. */
async function connectAll(count: number, url: (i: number) => string, hello: string | undefined) {
  const tally = newTally()
  const state = { counting: false }
  const sockets: WebSocket[] = []
  // a few at a time: each upgrade may look up its user in Postgres (PGlite takes 32 connections)
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, k) => {
      const ws = new WebSocket(url(i + k))
      ws.on('message', (data: Buffer) => {
        if (!state.counting) return
        const text = data.toString()
        const msg = JSON.parse(text)
        if (msg.type === 'pong' || msg.type === 'subscribed') return
        tally.messages++
        tally.bytes += text.length
        const ts = eventTime(msg)
        if (ts !== undefined) tally.lags.push(Date.now() - ts)
      })
      ws.on('close', () => state.counting && tally.closed++)
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => {
          if (hello) ws.send(hello)
          resolve(ws)
        })
        ws.once('error', reject)
      })
    })
    sockets.push(...(await Promise.all(batch)))
  }
  // every message acknowledges what came before it (hub.ts): ping like a client should
  const ping = () => sockets.forEach((ws) => ws.readyState === 1 && ws.send('{"op":"ping"}'))
  const pinger = setInterval(ping, 5_000)
  return {
    tally,
    start: () => (state.counting = true),
    stop: () => {
      state.counting = false
      clearInterval(pinger)
    },
    close: () => sockets.forEach((ws) => ws.terminate()),
  }
}

function summary(t: Tally, seconds: number) {
  const lags = Float64Array.from(t.lags).sort()
  return {
    delivered_per_s: Math.round(t.messages / seconds),
    bytes_per_message: t.messages ? Math.round(t.bytes / t.messages) : 0,
    lag_ms: { p50: quantile(lags, 0.5), p95: quantile(lags, 0.95), p99: quantile(lags, 0.99) },
    closed: t.closed,
  }
}

/** Orders at `rate`/s for `ms`: traders alternately sell and buy one share at `price`. */
async function trade(
  base: string,
  traders: { headers: Record<string, string>; side: string }[],
  price: string,
  rate: number,
  ms: number,
) {
  const started = Date.now()
  let errors = 0
  let sent = 0
  const inFlight = new Set<Promise<void>>()
  for (let i = 0; Date.now() - started < ms; i++) {
    const due = started + (i * 1000) / rate
    if (due > Date.now()) await sleep(due - Date.now())
    if (inFlight.size >= 64) continue // shed: the server is behind
    const t = traders[i % traders.length]
    const order = { symbol: SYMBOL, side: t.side, type: 'limit', qty: 1, price, time_in_force: 'gtc' }
    const p = fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: t.headers,
      body: JSON.stringify(order),
    })
      .then((r) => void (r.status === 201 || errors++))
      .catch(() => void errors++)
      .finally(() => inFlight.delete(p))
    inFlight.add(p)
    sent++
  }
  await Promise.all(inFlight)
  return { sent, errors }
}

/** The peer: a Node `ws` server broadcasting `size`-byte messages at `perSecond` to each client. */
async function peer(count: number, perSecond: number, size: number, ms: number) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise((r) => server.once('listening', r))
  const port = (server.address() as AddressInfo).port
  const clients = await connectAll(count, () => `ws://127.0.0.1:${port}`, undefined)
  clients.start()
  const pad = 'x'.repeat(Math.max(0, size - 40))
  const started = Date.now()
  const timer = setInterval(() => {
    const text = JSON.stringify({ type: 'quote', ts: Date.now(), pad })
    for (const ws of server.clients) ws.send(text)
  }, 1000 / perSecond)
  await sleep(ms)
  clearInterval(timer)
  await sleep(500)
  clients.stop()
  clients.close()
  await new Promise((r) => server.close(r))
  return summary(clients.tally, (Date.now() - started - 500) / 1000)
}

async function main() {
  const opts = options()
  const log = (s: string) => console.error(`[bench:md] ${s}`)
  log(`starting the dev server (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`)
  const dev = await startDevServer({ env: { PBKDF2_ITERATIONS: '1000' } })
  try {
    const base = dev.base
    const runId = randomBytes(3).toString('hex')
    const priceCents = await referencePriceCents(base, SYMBOL)
    const price = formatCents(priceCents)
    const ordersEach = Math.ceil((opts.rate * opts.durationMs) / 1000 / 20) + 5
    log('registering 20 traders and the subscribers')
    const traders = await makeTraders(base, {
      count: 20,
      symbol: SYMBOL,
      priceCents,
      ordersEach,
      runId,
    })
    const admin = await adminToken(base)
    const watchers: string[] = []
    for (let k = 0; k < Math.ceil(opts.subscribers / PER_USER); k++) {
      const email = `md-${runId}-${k}@bench.bourse.dev`
      const password = 'bench-md-password'
      const user = await call(base, 'POST', '/v1/auth/register', undefined, { email, password })
      await call(base, 'PATCH', `/v1/admin/users/${user.body.id}`, admin, { tier: 'pro' })
      const login = await call(base, 'POST', '/v1/auth/login', undefined, { email, password })
      watchers.push(login.body.access_token)
    }
    log(`connecting ${opts.subscribers} subscribers`)
    const wsBase = base.replace('http', 'ws')
    const subscribe = JSON.stringify({ op: 'subscribe', channels: ['quotes', 'trades', 'depth'] })
    const clients = await connectAll(
      opts.subscribers,
      (i) => `${wsBase}/v1/market-data/${SYMBOL}?token=${watchers[Math.floor(i / PER_USER)]}`,
      subscribe,
    )
    await sleep(1000)
    log(`trading ${opts.rate} orders/s for ${opts.durationMs / 1000} s`)
    clients.start()
    const started = Date.now()
    const orders = await trade(base, traders, price, opts.rate, opts.durationMs)
    await sleep(1200) // the last throttled window
    clients.stop()
    const seconds = (Date.now() - started - 1200) / 1000
    const ours = summary(clients.tally, seconds)
    clients.close()
    const perClient = ours.delivered_per_s / opts.subscribers
    const size = ours.bytes_per_message
    log(`peer: node ws, ${perClient.toFixed(1)} msg/s of ${size} B to ${opts.subscribers} subscribers`)
    const floor = await peer(opts.subscribers, Math.max(1, perClient), size, opts.durationMs)
    const result = { subscribers: opts.subscribers, rate: opts.rate, orders, bourse: ours, peer: floor }
    console.log(JSON.stringify(result))
    const report = markdown(result, dev.database.kind, seconds)
    console.error(report)
    if (opts.write) writeBlock('BENCHMARKS.md', report)
  } catch (err) {
    console.error(dev.output().slice(-3000))
    throw err
  } finally {
    await dev.stop()
  }
}

type Result = {
  subscribers: number
  rate: number
  orders: { sent: number; errors: number }
  bourse: ReturnType<typeof summary>
  peer: ReturnType<typeof summary>
}

function markdown(r: Result, database: string, seconds: number): string {
  const row = (name: string, s: ReturnType<typeof summary>) =>
    `| ${[
      name,
      s.delivered_per_s.toLocaleString('en-US'),
      s.bytes_per_message,
      ...[s.lag_ms.p50, s.lag_ms.p95, s.lag_ms.p99].map((v) => v.toFixed(0)),
      s.closed,
    ].join(' | ')} |`
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '–')
  const when = new Date().toISOString().slice(0, 16)
  return [
    `${r.subscribers} pro subscribers (quotes, trades, depth) on ${SYMBOL}, ${r.rate} orders/s ` +
      `for ${seconds.toFixed(1)} s (${r.orders.sent} sent, ${r.orders.errors} errors); ` +
      `${database}; ${cpus().length} vCPU; ${when} UTC`,
    '',
    '| fan-out | delivered msg/s | bytes/msg | lag p50 ms | lag p95 ms | lag p99 ms | closed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('Bourse: symbol object → subscribers', r.bourse),
    row('peer: Node `ws` broadcast, same size and rate', r.peer),
    '',
    `Ratios (Bourse / peer): delivered ${ratio(r.bourse.delivered_per_s, r.peer.delivered_per_s)}, ` +
      `lag p50 ${ratio(r.bourse.lag_ms.p50, r.peer.lag_ms.p50)}, ` +
      `p99 ${ratio(r.bourse.lag_ms.p99, r.peer.lag_ms.p99)}. Lag: the engine's event time (a ` +
      "conflated message's newest) to receipt; Bourse's includes the pro throttle's conflation " +
      '(up to 100 ms), the peer sends at once.',
  ].join('\n')
}

function writeBlock(file: string, block: string) {
  const begin = '<!-- bench:md: written by npm run bench:md -->'
  const end = '<!-- /bench:md -->'
  const text = readFileSync(file, 'utf8')
  const from = text.indexOf(begin)
  const to = text.indexOf(end)
  const fresh = `${begin}\n${block}\n${end}`
  writeFileSync(
    file,
    from >= 0 && to > from
      ? text.slice(0, from) + fresh + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n## Market-data fan-out\n\n${fresh}\n`,
  )
}

await main()
