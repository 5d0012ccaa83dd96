// `npm run bench:soak`: sustained order flow at a fixed rate for minutes, with the memory of every
// process sampled, to show that the system holds steady: no growth trend in any process's memory,
// no errors, and the ack latency at the end what it was at the start. Starts its own dev server
// (scripts/lib/dev-server.ts: temporary state, free loopback ports, PGlite or a fresh database on
// DATABASE_URL's server), registers traders with 2FA on three symbols and funds them, then offers
// crossing 1-share limit orders (sell, buy, sell, … round robin over the symbols: about every
// other order fills) open loop at --rate, and next to them, in the same windows, GET /healthz at
// --floor-rate (10/s: a probe that adds little load): the floor of this machine and wrangler dev. Every --sample seconds it reads the
// resident memory (VmRSS) of each process of the dev server (dev.ts with its ws proxy and Redis
// bridge, wrangler, workerd, esbuild) and of itself from /proc. Loopback only, bounded: a fixed
// number of requests, a 10 s timeout each, at most 64 orders (24 with PGlite) in flight. A
// DevTools stand-in stays connected to wrangler's inspector port (scripts/lib/devtools.ts: without
// one, wrangler's proxy keeps every log line of the Worker); --no-devtools leaves it out. Beside
// it all, a peer: the most trivial Worker (bench/soak-peer/worker.js) under its own wrangler dev,
// sent as many requests, whose processes' memory is the platform's own (--no-peer leaves it out).
//
//   npm run bench:soak -- [--minutes 3] [--quick] [--rate 100] [--floor-rate 10] [--users 30]
//                         [--symbols AAPL,MSFT,NVDA] [--no-devtools] [--no-peer]
//                         [--window 30] [--sample 5] [--write | --no-write] [--json]
//
// --quick: 20 s in 10 s windows, not written to BENCHMARKS.md unless --write. A full run
// rewrites the "Soak" block of BENCHMARKS.md.

import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { startDevServer } from '../scripts/lib/dev-server.ts'
import { attachDevTools } from '../scripts/lib/devtools.ts'
import type { DevServer } from '../scripts/lib/dev-server.ts'
import type { DevToolsStandIn } from '../scripts/lib/devtools.ts'
import { startPeer } from './soak-peer.ts'
import type { Peer } from './soak-peer.ts'
import { formatCents } from '../src/lib/money.ts'
import { optionsOrExit, positiveOption } from './cli.ts'
import { commitLabel, machine } from './machine.ts'
import { adminToken, makeTraders, outboxSize, referencePriceCents } from './api-setup.ts'
import type { Trader } from './api-setup.ts'
import { ms } from './api-report.ts'
import { newAgent, runStep, summarize } from './load.ts'
import type { Request, StepSamples, Summary } from './load.ts'

const USAGE =
  'usage: npm run bench:soak -- [--minutes 3] [--quick] [--rate 100] [--floor-rate 10] [--users 30] ' +
  '[--symbols AAPL,MSFT,NVDA] [--no-devtools] [--no-peer] [--window 30] [--sample 5] [--write | --no-write] [--json]'

/** "Holds steady": a process's memory, fitted after the warm-up, grows less than this. */
const STEADY_MB_PER_MIN = 2
/** the first part of the run, left out of the fit: caches fill, code is compiled */
const WARMUP_SHARE = 1 / 3
const ORDER_CAP = { postgres: 64, pglite: 24 }
const FLOOR_CAP = 256
const TIMEOUT_MS = 10_000

interface Options {
  minutes: number
  quick: boolean
  rate: number
  /** GET /healthz per second beside the orders: the floor */
  floorRate: number
  users: number
  symbols: string[]
  /** a DevTools stand-in on wrangler's inspector port (see the top of the file) */
  devtools: boolean
  /** the trivial peer Worker under its own wrangler dev, at the same request rate */
  peer: boolean
  windowMs: number
  sampleMs: number
  write: boolean
  json: boolean
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: 'string', default: '3' },
      quick: { type: 'boolean', default: false },
      rate: { type: 'string', default: '100' },
      'floor-rate': { type: 'string', default: '10' },
      users: { type: 'string', default: '30' },
      symbols: { type: 'string', default: 'AAPL,MSFT,NVDA' },
      'no-devtools': { type: 'boolean', default: false },
      'no-peer': { type: 'boolean', default: false },
      window: { type: 'string' },
      sample: { type: 'string', default: '5' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  })
  const positive = (text: string, max: number) => positiveOption(text, max, USAGE)
  const quick = values.quick!
  const symbols = values.symbols!.split(',').filter(Boolean)
  if (symbols.length === 0) throw new Error(USAGE)
  return {
    quick,
    minutes: quick ? 1 / 3 : positive(values.minutes!, 60),
    rate: positive(values.rate!, 1000),
    floorRate: positive(values['floor-rate']!, 1000),
    // each symbol needs a seller and a buyer at least
    users: Math.max(2 * symbols.length, Math.round(positive(values.users!, 300))),
    symbols,
    devtools: !values['no-devtools'],
    peer: !values['no-peer'],
    windowMs: 1000 * positive(values.window ?? (quick ? '10' : '30'), 600),
    sampleMs: 1000 * positive(values.sample!, 60),
    write: values['no-write'] ? false : (values.write ?? !quick),
    json: values.json!,
  }
}

const log = (msg: string) => console.error(`[bench:soak] ${msg}`)
/** this process: it keeps every answer's latency, so its memory grows with the run */
const CLIENT = 'bench:soak (client, keeps the samples)'

// ---- memory ----------------------------------------------------------------------------------

interface MemorySeries {
  name: string
  /** [seconds since the start, RSS in MB] */
  samples: [number, number][]
}

/** The dev server's processes: the ones whose environment names its state directory. */
function devProcesses(stateDir: string): { pid: number; name: string }[] {
  const mark = `BOURSE_STATE_DIR=${stateDir}\0`
  const found: { pid: number; name: string }[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(mark)) continue
      found.push({ pid: Number(entry), name: processName(readFileSync(`/proc/${entry}/cmdline`, 'utf8')) })
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found
}

function processName(cmdline: string): string {
  const args = cmdline.split('\0')
  const has = (part: string) => args.some((a) => a.includes(part))
  // wrangler dev runs two: its proxy worker on the public port, and the Worker with its objects
  if (has('workerd')) return has('--inspector-addr') ? 'workerd (Worker, objects)' : 'workerd (wrangler proxy)'
  if (has('esbuild')) return 'esbuild'
  // wrangler's bin script starts its CLI in a second node process
  if (has('wrangler-dist')) return 'wrangler'
  if (has('wrangler')) return 'wrangler launcher'
  // tsx's launcher, and the node process it runs dev.ts in (with the ws proxy and Redis bridge)
  if (has('scripts/dev.ts')) return has('.bin/tsx') || has('tsx/dist/cli') ? 'tsx launcher' : 'dev.ts (ws proxy, bridge)'
  return args.slice(0, 2).join(' ')
}

function rssMb(pid: number | 'self'): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Number(kb) / 1024
  } catch {
    return undefined
  }
}

/** the peer's processes, named as such (it has no objects) */
const peerName = (name: string) => `peer: ${name.replace('Worker, objects', 'Worker').replace(HEAP, 'JS heap in use')}`

/** the Worker isolate's JS heap in use, read over the inspector by the DevTools stand-in */
const HEAP = 'Worker isolate: JS heap in use (not RSS)'

/**
 * Samples every `everyMs` until stopped; one series per process (name and pid), and one of the
 * Worker isolate's JS heap when a DevTools stand-in can read it.
 */
function memorySampler(stateDir: string, everyMs: number, devtools?: DevToolsStandIn) {
  const series = new Map<string, MemorySeries>()
  const t0 = performance.now()
  const add = (key: string, at: number, mb: number) => {
    if (!series.has(key)) series.set(key, { name: key, samples: [] })
    series.get(key)!.samples.push([at, mb])
  }
  const sample = () => {
    const at = (performance.now() - t0) / 1000
    void devtools?.heapUsedMb().then((mb) => mb !== undefined && add(HEAP, at, mb))
    const procs: { pid: number | 'self'; name: string }[] = [
      ...devProcesses(stateDir),
      { pid: 'self', name: CLIENT },
    ]
    for (const { pid, name } of procs) {
      const mb = rssMb(pid)
      if (mb === undefined) continue
      add(pid === 'self' ? name : `${name} [${pid}]`, at, mb)
    }
  }
  sample()
  const timer = setInterval(sample, everyMs)
  return {
    stop(): MemorySeries[] {
      clearInterval(timer)
      sample()
      return [...series.values()]
    },
  }
}

/** least-squares slope of y over x */
function slope(points: [number, number][]): number {
  const n = points.length
  if (n < 2) return NaN
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? NaN : num / den
}

interface MemoryResult {
  name: string
  firstMb: number
  lastMb: number
  maxMb: number
  /** MB per minute, fitted over the samples after the warm-up */
  slopeMbPerMin: number
  steady: boolean
}

function memoryResult(s: MemorySeries, warmupSeconds: number): MemoryResult {
  const mbs = s.samples.map(([, mb]) => mb)
  const late = s.samples.filter(([t]) => t >= warmupSeconds)
  const perMin = slope(late.map(([t, mb]) => [t / 60, mb]))
  // a process that appeared during the run: wrangler restarted the Worker (a file changed)
  const from = s.samples[0][0]
  return {
    name: from > 1 ? `${s.name} (from ${Math.round(from)} s)` : s.name,
    firstMb: mbs[0],
    lastMb: mbs[mbs.length - 1],
    maxMb: Math.max(...mbs),
    slopeMbPerMin: perMin,
    steady: Number.isFinite(perMin) && perMin < STEADY_MB_PER_MIN,
  }
}

// ---- load ------------------------------------------------------------------------------------

interface Window {
  index: number
  orders: Stats
  floor: Stats
  load1: number
}

interface Stats {
  scheduled: number
  ok: number
  errorCount: number
  errors: Record<string, number>
  latency: Summary
  /** every 2xx answer's latency, for the whole run's percentiles */
  latencyMs: Float64Array
  outcomes: Record<string, number>
}

const stats = (s: StepSamples): Stats => ({
  scheduled: s.scheduled,
  ok: s.ok,
  errorCount: s.errorCount,
  errors: s.errors,
  latency: summarize(s.latencyMs),
  latencyMs: s.latencyMs,
  outcomes: s.outcomes,
})

function orderStatus(body: string): string {
  try {
    return String((JSON.parse(body) as { status?: string }).status)
  } catch {
    return 'unreadable'
  }
}

/** traders of each symbol, half selling and half buying, funded for the run */
async function setUp(base: string, options: Options) {
  const windows = Math.ceil((options.minutes * 60_000) / options.windowMs)
  const orders = options.rate * (windows * options.windowMs) / 1000
  const perSymbol = Math.max(2, Math.floor(options.users / options.symbols.length))
  const runId = randomBytes(4).toString('hex')
  const books: { symbol: string; sell: string; buy: string; sellers: Trader[]; buyers: Trader[] }[] = []
  for (const symbol of options.symbols) {
    const priceCents = await referencePriceCents(base, symbol)
    const ordersEach = Math.ceil(orders / options.symbols.length / perSymbol) + 10
    log(`${symbol}: ${perSymbol} traders with 2FA at ${formatCents(priceCents)}, funded for ${ordersEach} orders each`)
    const traders = await makeTraders(base, { count: perSymbol, symbol, priceCents, ordersEach, runId: `${runId}-${symbol}` })
    const body = (side: string) =>
      JSON.stringify({ symbol, side, type: 'limit', qty: 1, price: formatCents(priceCents), time_in_force: 'gtc' })
    books.push({
      symbol,
      sell: body('sell'),
      buy: body('buy'),
      sellers: traders.filter((t) => t.side === 'sell'),
      buyers: traders.filter((t) => t.side === 'buy'),
    })
  }
  return { windows, books }
}

interface PeerRun {
  peer: Peer
  devtools?: DevToolsStandIn
}

async function soak(options: Options, dev: DevServer, devtools: DevToolsStandIn | undefined, peer: PeerRun | undefined) {
  const base = dev.base
  const { windows, books } = await setUp(base, options)
  const admin = await adminToken(base)
  const cap = ORDER_CAP[dev.database.kind]
  // request i: symbol i mod n; on that symbol sell, buy, sell…, each trader always on one side
  const orderRequest = (i: number): Request => {
    const book = books[i % books.length]
    const k = Math.floor(i / books.length)
    const sell = k % 2 === 0
    const list = sell ? book.sellers : book.buyers
    const trader = list[(k >> 1) % list.length]
    return { method: 'POST', path: '/v1/orders', headers: trader.headers, body: sell ? book.sell : book.buy }
  }
  const agent = newAgent(FLOOR_CAP + cap)
  const perWindow = Math.round((options.rate * options.windowMs) / 1000)
  const memory = memorySampler(dev.stateDir, options.sampleMs, devtools)
  const peerMemory = peer && memorySampler(peer.peer.stateDir, options.sampleMs, peer.devtools)
  let peerErrors = 0
  const results: Window[] = []
  log(`${windows} windows of ${options.windowMs / 1000} s: orders at ${options.rate}/s, GET /healthz at ${options.floorRate}/s`)
  for (let w = 0; w < windows; w++) {
    const load1 = loadavg()[0]
    const offset = w * perWindow
    const [orders, floor, peerStep] = await Promise.all([
      runStep(base, agent, {
        rate: options.rate,
        durationMs: options.windowMs,
        cap,
        timeoutMs: TIMEOUT_MS,
        request: (i) => orderRequest(offset + i),
        outcome: orderStatus,
      }),
      runStep(base, agent, {
        rate: options.floorRate,
        durationMs: options.windowMs,
        cap: FLOOR_CAP,
        timeoutMs: TIMEOUT_MS,
        request: () => ({ method: 'GET', path: '/healthz' }),
      }),
      // the peer gets as many requests as the dev server, each a POST like an order
      peer &&
        runStep(peer.peer.base, agent, {
          rate: options.rate + options.floorRate,
          durationMs: options.windowMs,
          cap: FLOOR_CAP,
          timeoutMs: TIMEOUT_MS,
          request: (i) => ({ ...orderRequest(offset + i), path: '/' }),
        }),
    ])
    peerErrors += peerStep?.errorCount ?? 0
    const window = { index: w, orders: stats(orders), floor: stats(floor), load1 }
    results.push(window)
    log(
      `window ${w + 1}/${windows}: orders p50 ${ms(window.orders.latency.p50)} p99 ${ms(window.orders.latency.p99)} ` +
        `(${window.orders.errorCount} errors), floor p50 ${ms(window.floor.latency.p50)} p99 ${ms(window.floor.latency.p99)}`,
    )
  }
  const series = memory.stop()
  const peerSeries = (peerMemory?.stop() ?? [])
    .filter((m) => m.name !== CLIENT) // the client is in the run's own rows
    .map((m) => ({ ...m, name: peerName(m.name) }))
  agent.destroy()
  // the drain keeps up: every symbol's outbox empties once the flow stops
  const started = Date.now()
  let outbox = 0
  do {
    outbox = 0
    for (const { symbol } of books) outbox += await outboxSize(base, admin, symbol)
    if (outbox > 0) await sleep(250)
  } while (outbox > 0 && Date.now() - started < 30_000)
  const warmupSeconds = options.minutes * 60 * WARMUP_SHARE
  return {
    windows: results,
    memory: series.map((s) => memoryResult(s, warmupSeconds)),
    peer: peer && { memory: peerSeries.map((s) => memoryResult(s, warmupSeconds)), errors: peerErrors },
    afterGc: devtools && (await afterFullGc(dev.stateDir, devtools)),
    outboxAfter: { left: outbox, waitedMs: Date.now() - started },
    perSymbol: books[0].sellers.length + books[0].buyers.length,
  }
}

/**
 * What one full collection of the Worker isolate gives back once the flow has stopped: the JS heap
 * in use and the Worker's workerd RSS before and after. RSS that a collection returns was garbage
 * V8 had not yet needed to collect, not memory the app retains.
 */
async function afterFullGc(stateDir: string, devtools: DevToolsStandIn) {
  const worker = devProcesses(stateDir).find((p) => p.name === 'workerd (Worker, objects)')
  const measure = async () => ({ heapMb: await devtools.heapUsedMb(), rssMb: worker && rssMb(worker.pid) })
  const before = await measure()
  await devtools.collectGarbage()
  await sleep(3_000)
  return { before, after: await measure() }
}

// ---- report ----------------------------------------------------------------------------------

type Soak = Awaited<ReturnType<typeof soak>>

/** the whole run: every window's answers together */
function overall(windows: Window[], kind: 'orders' | 'floor') {
  const all = windows.map((w) => w[kind])
  const scheduled = all.reduce((n, s) => n + s.scheduled, 0)
  const errors = all.reduce((n, s) => n + s.errorCount, 0)
  const latency = summarize(Float64Array.from(all.flatMap((s) => [...s.latencyMs])))
  return {
    scheduled,
    errors,
    errorRate: errors / scheduled,
    p50: latency.p50,
    p99: latency.p99,
    firstP99: all[0].latency.p99,
    lastP99: all[all.length - 1].latency.p99,
  }
}

function errorKinds(windows: Window[]): string {
  const kinds: Record<string, number> = {}
  for (const w of windows) {
    for (const [kind, s] of [['orders', w.orders], ['floor', w.floor]] as const) {
      for (const [e, n] of Object.entries(s.errors)) kinds[`${kind}: ${e}`] = (kinds[`${kind}: ${e}`] ?? 0) + n
    }
  }
  const list = Object.entries(kinds).map(([k, n]) => `${n} × ${k}`)
  return list.length ? list.join('; ') : 'none'
}

const mb = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-')
const pct = (v: number) => `${(100 * v).toFixed(2)}%`
const x = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : '-')

function markdown(
  run: Soak,
  options: Options,
  meta: { startedAt: string; commit: string; database: string; inspector: string; machine: string; load: [number, number] },
) {
  const o = overall(run.windows, 'orders')
  const f = overall(run.windows, 'floor')
  const acks: Record<string, number> = {}
  for (const w of run.windows) for (const [k, n] of Object.entries(w.orders.outcomes)) acks[k] = (acks[k] ?? 0) + n
  // the server's processes: the client's own memory holds the run's samples, it grows by design
  const server = run.memory.filter((m) => m.name !== CLIENT)
  const steady = server.every((m) => m.steady)
  const lines = [
    `\`npm run bench:soak\` at commit \`${meta.commit}\`, ${meta.startedAt}: ${mb(options.minutes)} minutes ` +
      `(${run.windows.length} windows of ${options.windowMs / 1000} s) of 1-share crossing limit orders at ` +
      `${options.rate}/s over ${options.symbols.join(', ')} (${run.perSymbol} traders each), with GET /healthz at ` +
      `${options.floorRate}/s beside them; memory sampled every ${options.sampleMs / 1000} s.`,
    '',
    `Database: ${meta.database}. Inspector: ${meta.inspector}. Machine: ${meta.machine}. Load average (1 min) ${meta.load[0].toFixed(2)} at the start, ${meta.load[1].toFixed(2)} at the end.`,
    '',
    '| | requests | errors | error rate | p50 ms | p99 ms | p99 ms, first → last window |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| POST /v1/orders (ack) | ${o.scheduled.toLocaleString('en-US')} | ${o.errors} | ${pct(o.errorRate)} | ${ms(o.p50)} | ${ms(o.p99)} | ${ms(o.firstP99)} → ${ms(o.lastP99)} |`,
    `| floor: GET /healthz | ${f.scheduled.toLocaleString('en-US')} | ${f.errors} | ${pct(f.errorRate)} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.firstP99)} → ${ms(f.lastP99)} |`,
    `| orders / floor | | | | ${x(o.p50, f.p50)} | ${x(o.p99, f.p99)} | |`,
    '',
    `Per window, orders p50 / p99 in ms: ${run.windows.map((w) => `${ms(w.orders.latency.p50)} / ${ms(w.orders.latency.p99)}`).join(', ')}.`,
    `Acks: ${Object.entries(acks).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`).join(', ')}. Errors: ${errorKinds(run.windows)}. ` +
      `The outbox ${run.outboxAfter.left === 0 ? `was empty ${(run.outboxAfter.waitedMs / 1000).toFixed(1)} s after the flow stopped` : `still held ${run.outboxAfter.left} fills 30 s after the flow stopped`}.`,
    '',
    `Memory (MB): the resident memory (RSS) of every process, and the Worker isolate's JS heap in use when a DevTools stand-in reads it; slope = least-squares fit over the samples after the first ${Math.round(WARMUP_SHARE * 100)}% of the run; steady = slope < ${STEADY_MB_PER_MIN} MB/min:`,
    '',
    '| process | first | last | max | slope MB/min | steady |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...[...run.memory, ...(run.peer?.memory ?? [])].map(
      (m) => `| ${m.name} | ${mb(m.firstMb)} | ${mb(m.lastMb)} | ${mb(m.maxMb)} | ${m.slopeMbPerMin.toFixed(2)} | ${m.steady ? 'yes' : '**no**'} |`,
    ),
    '',
    ...(run.peer
      ? [
          `The peer rows: the most trivial Worker (bench/soak-peer/worker.js: reads the JSON body, logs a line, answers) under its own wrangler dev, ` +
            `sent ${options.rate + options.floorRate} requests a second beside the run (${run.peer.errors} errors): what the platform's processes do under that load with no code of ours. They are not part of the verdict.`,
          '',
        ]
      : []),
    ...(run.afterGc
      ? [
          `After the flow stopped, one full garbage collection of the Worker isolate (inspector): JS heap in use ` +
            `${mb(run.afterGc.before.heapMb ?? NaN)} → ${mb(run.afterGc.after.heapMb ?? NaN)} MB, the Worker's workerd RSS ` +
            `${mb(run.afterGc.before.rssMb ?? NaN)} → ${mb(run.afterGc.after.rssMb ?? NaN)} MB.`,
          '',
        ]
      : []),
    `Verdict: memory ${steady ? 'holds steady in every server process' : '**grows** in ' + server.filter((m) => !m.steady).map((m) => m.name).join(', ')}; ` +
      `error rate ${pct(o.errorRate)} (orders), ${pct(f.errorRate)} (floor); ack p99 ${ms(o.p99)} (${x(o.p99, f.p99)} the floor's).`,
  ]
  return lines.join('\n')
}

const BEGIN = '<!-- bench:soak: written by npm run bench:soak -->'
const END = '<!-- /bench:soak -->'

function writeBlock(file: string, block: string) {
  const text = readFileSync(file, 'utf8')
  const from = text.indexOf(BEGIN)
  const to = text.indexOf(END)
  if (from < 0 || to < from) throw new Error(`BENCHMARKS.md has no ${BEGIN} … ${END} block`)
  writeFileSync(file, `${text.slice(0, from)}${BEGIN}\n${block}\n${text.slice(to)}`)
}

async function run() {
  const options = optionsOrExit(parseOptions, USAGE)
  const startedAt = new Date().toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ')
  // BOURSE_COMMIT: a run from an exported tree (git archive), which wrangler dev cannot see
  // change while others edit the working tree
  const commit = process.env.BOURSE_COMMIT ?? commitLabel()
  const load0 = loadavg()[0]
  log(`starting the dev server (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'PGlite'})`)
  // the traders log in once: their access tokens must outlast the run (900 s by default)
  const tokenTtl = String(Math.min(86_400, Math.ceil(options.minutes * 60) + 600))
  const dev = await startDevServer({
    env: { PBKDF2_ITERATIONS: '1000' },
    wranglerArgs: ['--var', `ACCESS_TOKEN_TTL_SECONDS:${tokenTtl}`],
  })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void dev.stop().finally(() => process.exit(130)))
  }
  let result: Soak
  let devtools: DevToolsStandIn | undefined
  let peer: PeerRun | undefined
  try {
    if (options.devtools) devtools = await attachDevTools(dev.inspectorPort)
    if (options.peer) {
      const started = await startPeer()
      peer = { peer: started, devtools: options.devtools ? await attachDevTools(started.inspectorPort) : undefined }
    }
    result = await soak(options, dev, devtools, peer)
    devtools?.close()
    peer?.devtools?.close()
    await peer?.peer.stop()
  } catch (err) {
    console.error(`bench:soak failed: ${(err as Error).stack}\n--- dev server output (tail) ---\n${dev.output().slice(-4000)}`)
    await peer?.peer.stop()
    await dev.stop()
    process.exit(1)
  }
  await dev.stop()
  const database =
    dev.database.kind === 'postgres'
      ? `PostgreSQL at ${dev.database.server} (DATABASE_URL; a fresh database for the run)`
      : 'PGlite (what `npm run dev` runs without DATABASE_URL)'
  const inspector = devtools
    ? `a DevTools stand-in on wrangler's inspector port (dropped ${devtools.received().toLocaleString('en-US')} messages)`
    : 'no DevTools connected (--no-devtools)'
  const block = markdown(result, options, { startedAt, commit, database, inspector, machine: machine(), load: [load0, loadavg()[0]] })
  console.log(block)
  if (options.write) {
    writeBlock(new URL('../BENCHMARKS.md', import.meta.url).pathname, block)
    log('BENCHMARKS.md: refreshed the Soak block')
  }
  if (options.json) {
    const windows = result.windows.map(({ orders, floor, ...w }) => ({
      ...w,
      orders: { ...orders, latencyMs: undefined },
      floor: { ...floor, latencyMs: undefined },
    }))
    console.log(JSON.stringify({ options, ...result, windows }))
  }
}

await run()
