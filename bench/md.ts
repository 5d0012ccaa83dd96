// `npm run bench:md`: market-data fan-out. N subscribers (pro tier: up to 10 messages a second per
// channel) watch one symbol over GET /v1/market-data/:symbol while traders' orders cross on it;
// reports the messages delivered per second and the lag from the engine's event time (`ts`) to
// the subscriber's receipt, p50/p95/p99. The peer, in the same run: a plain Node `ws` server on
// this machine broadcasting messages of the same size, at the same rate, to as many subscribers
// (the floor of the fan-out itself). Figures and method: BENCHMARKS.md ("Market-data fan-out").
//
//   npm run bench:md -- [--subscribers 300,1000] [--rate 50] [--duration 10] [--quick] [--no-write]
//
// One step per subscriber count. --quick: 200 subscribers, 4 s, not written to BENCHMARKS.md.
// The subscribers live in this process: it reports its own CPU, since on a small machine the
// load generator can be what saturates first.
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import WebSocket, { WebSocketServer } from 'ws'
import { startDevServer } from '../scripts/lib/dev-server.ts'
import { readCheckAnswer } from '../src/client/index.ts'
import { formatCents } from '../src/lib/money.ts'
import { adminToken, call, makeTraders, referencePriceCents } from './api-setup.ts'
import type { Trader } from './api-setup.ts'
import { quantile } from './load.ts'

const SYMBOL = 'AAPL'
/** connections one user may hold to a symbol (src/marketdata/hub.ts) */
const PER_USER = 10

interface Options {
  /** one step per count */
  subscribers: number[]
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
    subscribers: (values.subscribers ?? (quick ? '200' : '300,1000')).split(',').map(Number),
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
        const text = data.toString()
        const answer = readCheckAnswer(text)
        if (answer) return ws.send(answer)
        if (!state.counting) return
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
  return {
    tally,
    start: () => (state.counting = true),
    stop: () => {
      state.counting = false
    },
    close: () => sockets.forEach((ws) => ws.terminate()),
  }
}

function summary(t: Tally, seconds: number, cpu: NodeJS.CpuUsage) {
  const lags = Float64Array.from(t.lags).sort()
  return {
    /** this process (the subscribers' side), % of one core */
    client_cpu: Math.round((cpu.user + cpu.system) / 1e4 / seconds),
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
  let shed = 0
  const inFlight = new Set<Promise<void>>()
  for (let i = 0; Date.now() - started < ms; i++) {
    const due = started + (i * 1000) / rate
    if (due > Date.now()) await sleep(due - Date.now())
    if (inFlight.size >= 64) {
      shed++ // the server is behind
      continue
    }
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
  return { sent, errors, shed }
}

/** The peer: a Node `ws` server broadcasting `size`-byte messages at `perSecond` to each client. */
async function peer(count: number, perSecond: number, size: number, ms: number) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise((r) => server.once('listening', r))
  const port = (server.address() as AddressInfo).port
  const clients = await connectAll(count, () => `ws://127.0.0.1:${port}`, undefined)
  clients.start()
  const cpu = process.cpuUsage()
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
  return summary(clients.tally, (Date.now() - started - 500) / 1000, process.cpuUsage(cpu))
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
    for (let k = 0; k < Math.ceil(Math.max(...opts.subscribers) / PER_USER); k++) {
      const email = `md-${runId}-${k}@bench.bourse.dev`
      const password = 'bench-md-password'
      const user = await call(base, 'POST', '/v1/auth/register', undefined, { email, password })
      await call(base, 'PATCH', `/v1/admin/users/${user.body.id}`, admin, { tier: 'pro' })
      const login = await call(base, 'POST', '/v1/auth/login', undefined, { email, password })
      watchers.push(login.body.access_token)
    }
    const steps: Step[] = []
    for (const count of opts.subscribers) {
      steps.push(await step(base, count, watchers, traders, price, opts))
    }
    console.log(JSON.stringify(steps))
    const report = markdown(steps, opts.rate, dev.database.kind)
    console.error(report)
    if (opts.write) writeBlock('BENCHMARKS.md', report)
  } catch (err) {
    console.error(dev.output().slice(-3000))
    throw err
  } finally {
    await dev.stop()
  }
}

type Step = {
  subscribers: number
  seconds: number
  orders: { sent: number; errors: number; shed: number }
  bourse: ReturnType<typeof summary>
  peer: ReturnType<typeof summary>
}

/** `count` subscribers while orders trade, then the peer with as many. */
async function step(
  base: string,
  count: number,
  watchers: string[],
  traders: Trader[],
  price: string,
  opts: Options,
): Promise<Step> {
  const log = (s: string) => console.error(`[bench:md] ${s}`)
  log(`connecting ${count} subscribers`)
  const wsBase = base.replace('http', 'ws')
  const subscribe = JSON.stringify({ op: 'subscribe', channels: ['quotes', 'trades', 'depth'] })
  const clients = await connectAll(
    count,
    (i) => `${wsBase}/v1/market-data/${SYMBOL}?token=${watchers[Math.floor(i / PER_USER)]}`,
    subscribe,
  )
  await sleep(1000)
  log(`trading ${opts.rate} orders/s for ${opts.durationMs / 1000} s`)
  clients.start()
  const started = Date.now()
  const cpu = process.cpuUsage()
  const orders = await trade(base, traders, price, opts.rate, opts.durationMs)
  await sleep(1200) // the last throttled window
  clients.stop()
  const seconds = (Date.now() - started - 1200) / 1000
  const bourse = summary(clients.tally, seconds, process.cpuUsage(cpu))
  clients.close()
  const perClient = bourse.delivered_per_s / count
  const size = bourse.bytes_per_message
  log(`peer: node ws, ${perClient.toFixed(1)} msg/s of ${size} B to ${count} subscribers`)
  const peerSummary = await peer(count, Math.max(1, perClient), size, opts.durationMs)
  return { subscribers: count, seconds, orders, bourse, peer: peerSummary }
}

function markdown(steps: Step[], rate: number, database: string): string {
  const row = (name: string, s: ReturnType<typeof summary>) =>
    `| ${[
      name,
      s.delivered_per_s.toLocaleString('en-US'),
      s.bytes_per_message,
      ...[s.lag_ms.p50, s.lag_ms.p95, s.lag_ms.p99].map((v) => v.toFixed(0)),
      s.closed,
      `${s.client_cpu}%`,
    ].join(' | ')} |`
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '–')
  const when = new Date().toISOString().slice(0, 16)
  const lines = [
    `Pro subscribers (quotes, trades, depth) on ${SYMBOL} while orders are offered at ${rate}/s; ` +
      `${database}; ${cpus().length} vCPU; ${when} UTC.`,
    '',
    '| fan-out | delivered msg/s | bytes/msg | lag p50 ms | lag p95 ms | lag p99 ms | closed ' +
      "| subscribers' CPU |",
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const s of steps) {
    lines.push(
      row(`Bourse, ${s.subscribers} subscribers`, s.bourse),
      row(`peer, ${s.subscribers} subscribers`, s.peer),
    )
  }
  lines.push('')
  for (const s of steps) {
    lines.push(
      `- ${s.subscribers} subscribers: orders ${s.orders.sent} sent in ${s.seconds.toFixed(1)} s ` +
        `(${s.orders.errors} errors, ${s.orders.shed} not sent: 64 in flight); Bourse / peer: ` +
        `delivered ${ratio(s.bourse.delivered_per_s, s.peer.delivered_per_s)}, lag p50 ` +
        `${ratio(s.bourse.lag_ms.p50, s.peer.lag_ms.p50)}, ` +
        `p99 ${ratio(s.bourse.lag_ms.p99, s.peer.lag_ms.p99)}.`,
    )
  }
  lines.push(
    '',
    "Lag: the engine's event time (a conflated message's newest) to receipt. Bourse's includes the " +
      "pro throttle's conflation (up to 100 ms) and wrangler dev's proxy in front of the Worker; " +
      'the peer (a plain Node `ws` server in the bench process) sends the same size at the same ' +
      'rate at once. The subscribers run in the bench process: its CPU (% of one core) shows when ' +
      'the load generator, not the server, is what saturates.',
  )
  return lines.join('\n')
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
