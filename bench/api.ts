// `npm run bench:api`: the order path under load through the HTTP API, next to the platform's
// own floor. Starts its own dev server (scripts/lib/dev-server.ts: a temporary state directory,
// free ports, PGlite, or a fresh database on DATABASE_URL's server), registers traders with 2FA
// and funds them through the admin API, then alternates, at each rate, an open-loop step of
// GET /healthz (the floor: the most trivial route, under the same wrangler dev) and a step of
// POST /v1/orders on one symbol (1-share limit orders at the reference price, sellers and buyers
// alternating, so about every other order fills). Each step reports the achieved rate, the
// latency percentiles, the errors, and for orders the Server-Timing stages. Figures and method:
// BENCHMARKS.md ("The order path under load").
//
//   npm run bench:api -- [--quick] [--json] [--rates 10,100,300,1000] [--duration S] [--users N]
//                        [--cap N] [--symbol AAPL] [--write | --no-write] [--server-log FILE]
//
// --quick: 3 s steps and a short warm-up (not written to BENCHMARKS.md unless --write);
// --json: one JSON object as the last line of stdout; --no-write: leave BENCHMARKS.md alone;
// --server-log: keep the dev server's output (wrangler's log, the Worker's errors) in FILE.
// A full run refreshes its database's block (PGlite or Postgres) in BENCHMARKS.md.

import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { connect } from '../scripts/lib/db.ts'
import { startDevServer } from '../scripts/lib/dev-server.ts'
import type { DevServer } from '../scripts/lib/dev-server.ts'
import { formatCents } from '../src/lib/money.ts'
import { optionsOrExit, positiveOption } from './cli.ts'
import { commitLabel, machine, packageVersion } from './machine.ts'
import { adminToken, call, makeTraders, outboxSize, referencePriceCents } from './api-setup.ts'
import type { Trader } from './api-setup.ts'
import { markdownBlock, table, toJson, updateBenchmarks } from './api-report.ts'
import type { Run, StepResult } from './api-report.ts'
import { newAgent, runStep, summarize } from './load.ts'
import type { Request, StepSamples, StepSpec } from './load.ts'

const USAGE =
  'usage: npm run bench:api -- [--quick] [--json] [--rates 10,100,300,1000] [--duration S] ' +
  '[--users N] [--cap N] [--symbol SYM] [--write | --no-write] [--server-log FILE]'

interface Options {
  quick: boolean
  json: boolean
  rates: number[]
  durationMs: number
  warmupMs: number
  users: number
  /** the most orders in flight (--cap); default by database, see ORDER_CAP */
  cap: number | undefined
  symbol: string
  write: boolean
  /** a file for the dev server's output (wrangler's log: the Worker's errors) */
  serverLog?: string
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      // 100, 300 and 1,000/s are the issue's; 10/s shows the path unloaded, without queueing
      rates: { type: 'string', default: '10,100,300,1000' },
      duration: { type: 'string' },
      users: { type: 'string', default: '100' },
      cap: { type: 'string' },
      symbol: { type: 'string', default: 'AAPL' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean', default: false },
      'server-log': { type: 'string' },
    },
  })
  const positive = (text: string, max: number) => positiveOption(text, max, USAGE)
  const quick = values.quick!
  const rates = values.rates!.split(',').map((r) => positive(r, 5000))
  const durationMs = 1000 * positive(values.duration ?? (quick ? '3' : '10'), 600)
  const users = Math.max(2, Math.round(positive(values.users!, 200)))
  return {
    quick,
    json: values.json!,
    rates,
    durationMs,
    warmupMs: quick ? 1000 : 3000,
    users,
    cap: values.cap === undefined ? undefined : Math.round(positive(values.cap, 10_000)),
    symbol: values.symbol!,
    write: values['no-write'] ? false : (values.write ?? !quick),
    serverLog: values['server-log'],
  }
}

/**
 * In-flight caps. Every order in flight holds a Postgres connection (the app opens a Pool per
 * request): the shared server allows 100, and 64 leaves room for the drain and whatever else
 * uses it; PGlite's socket server allows 32 and drops the connections beyond (HTTP 500s, and the
 * one session it has wedges until requests time out), so 24 there. GET /healthz holds nothing.
 */
const ORDER_CAP = { postgres: 64, pglite: 24 }
const FLOOR_CAP = 256
/** orders/s of the warm-up (low enough for PGlite to keep up) and floor requests/s */
const WARMUP_ORDER_RATE = 20
const WARMUP_FLOOR_RATE = 100

const log = (msg: string) => console.error(`[bench:api] ${msg}`)

interface Settled {
  left: number | undefined
  answered: boolean
  waitedMs: number
}

interface Settler {
  /** fills in the outbox; undefined when the admin API does not say (or did not answer) */
  outbox(): Promise<number | undefined>
  settle(limitMs: number): Promise<Settled>
}

const QUIET_MS = 5_000
const SETTLE_LIMIT_MS = 60_000

/**
 * Between steps: waits until the server answers again (after an overloaded step it may still be
 * working through requests the client gave up on) and, if the admin API reports the symbol's
 * outbox, until the drain has emptied it; at most `limitMs`, then carries on. Without the
 * outbox figure it waits `QUIET_MS` and for an authenticated read to answer.
 */
function settler(
  base: string,
  admin: string,
  symbol: string,
  reader: Trader,
  useOutbox: boolean,
): Settler {
  const outbox = () =>
    useOutbox ? outboxSize(base, admin, symbol).catch(() => undefined) : Promise.resolve(undefined)
  const answers = () =>
    call(base, 'GET', '/v1/account', reader.token).then(
      (r) => r.status === 200,
      () => false,
    )
  return {
    outbox,
    async settle(limitMs) {
      const started = Date.now()
      if (!useOutbox) await sleep(QUIET_MS)
      for (;;) {
        const left = await outbox()
        const answered = await answers()
        const waitedMs = Date.now() - started
        const done = answered && (!useOutbox || left === 0)
        if (done || waitedMs >= limitMs) return { left, answered, waitedMs }
        await sleep(250)
      }
    },
  }
}

function orderStatus(body: string): string {
  try {
    const o = JSON.parse(body) as { status?: string; reason?: string | null }
    return o.reason ? `${o.status} (${o.reason})` : String(o.status)
  } catch {
    return 'unreadable'
  }
}

function stepResult(kind: 'floor' | 'orders', rate: number, s: StepSamples): StepResult {
  const serverTiming: StepResult['serverTiming'] = {}
  for (const [name, values] of Object.entries(s.serverTiming)) {
    serverTiming[name] = summarize(values)
  }
  return {
    kind,
    rate,
    scheduled: s.scheduled,
    ok: s.ok,
    errorCount: s.errorCount,
    errors: s.errors,
    achievedRate: s.ok / (s.elapsedMs / 1000),
    latency: summarize(s.latencyMs),
    service: summarize(s.serviceMs),
    sendLag: summarize(s.sendLagMs),
    serverTiming,
    outcomes: s.outcomes,
    maxInFlight: s.maxInFlight,
  }
}

async function main(options: Options, dev: DevServer): Promise<Run> {
  const base = dev.base
  const cap = options.cap ?? ORDER_CAP[dev.database.kind]
  const admin = await adminToken(base)
  const priceCents = await referencePriceCents(base, options.symbol)
  const ordersPlanned =
    options.rates.reduce((sum, rate) => sum + (rate * options.durationMs) / 1000, 0) +
    (WARMUP_ORDER_RATE * options.warmupMs) / 1000
  const ordersEach = Math.ceil(ordersPlanned / options.users) + 10
  log(`registering ${options.users} traders with 2FA, funded for ${ordersEach} orders each`)
  const traders = await makeTraders(base, {
    count: options.users,
    symbol: options.symbol,
    priceCents,
    ordersEach,
    runId: randomBytes(4).toString('hex'),
  })
  const sellers = traders.filter((t) => t.side === 'sell')
  const buyers = traders.filter((t) => t.side === 'buy')
  const price = formatCents(priceCents)
  const bodies = {
    sell: JSON.stringify(order(options.symbol, 'sell', price)),
    buy: JSON.stringify(order(options.symbol, 'buy', price)),
  }
  // sell, buy, sell, buy…: each trader always on one side, so no order meets its own trader's
  const orderRequest = (i: number): Request => {
    const side = i % 2 === 0 ? 'sell' : 'buy'
    const list: Trader[] = side === 'sell' ? sellers : buyers
    const trader = list[(i >> 1) % list.length]
    return { method: 'POST', path: '/v1/orders', headers: trader.headers, body: bodies[side] }
  }
  const floorRequest = (): Request => ({ method: 'GET', path: '/healthz' })

  // GET /v1/admin/books/:symbol reports the outbox; if it fails on a quiet server, do without
  const useOutbox = await outboxSize(base, admin, options.symbol).then(
    () => true,
    () => false,
  )
  if (!useOutbox) log(`GET /v1/admin/books/${options.symbol} fails: settling by pauses instead`)
  const between = settler(base, admin, options.symbol, traders[0], useOutbox)

  const agent = newAgent(FLOOR_CAP + cap)
  const spec = (rate: number, durationMs: number, kind: 'floor' | 'orders'): StepSpec => ({
    rate,
    durationMs,
    cap: kind === 'floor' ? FLOOR_CAP : cap,
    timeoutMs: 10_000,
    request: kind === 'floor' ? floorRequest : orderRequest,
    ...(kind === 'orders' && { outcome: orderStatus }),
  })
  let orderIndex = 0
  const orderSpec = (rate: number, durationMs: number): StepSpec => {
    const offset = orderIndex
    orderIndex += Math.round((rate * durationMs) / 1000)
    return { ...spec(rate, durationMs, 'orders'), request: (i) => orderRequest(offset + i) }
  }

  log(
    `warm-up: ${options.warmupMs / 1000} s of GET /healthz at ${WARMUP_FLOOR_RATE}/s, ` +
      `of orders at ${WARMUP_ORDER_RATE}/s`,
  )
  const warm = [
    await runStep(base, agent, spec(WARMUP_FLOOR_RATE, options.warmupMs, 'floor')),
    await runStep(base, agent, orderSpec(WARMUP_ORDER_RATE, options.warmupMs)),
  ]
  const warmupErrors = warm.reduce((n, s) => n + s.errorCount, 0)
  if (warmupErrors > 0) log(`warm-up errors: ${JSON.stringify(warm.map((s) => s.errors))}`)

  const steps: StepResult[] = []
  const drains: Run['drains'] = []
  for (const rate of options.rates) {
    for (const kind of ['floor', 'orders'] as const) {
      const settled = await between.settle(SETTLE_LIMIT_MS)
      if (!settled.answered || (useOutbox && settled.left !== 0)) {
        log(`not settled after 60 s (outbox: ${settled.left}, answering: ${settled.answered})`)
      }
      await sleep(1000)
      const load1 = loadavg()[0]
      const s =
        kind === 'floor'
          ? await runStep(base, agent, spec(rate, options.durationMs, 'floor'))
          : await runStep(base, agent, orderSpec(rate, options.durationMs))
      const result = { ...stepResult(kind, rate, s), loadBefore: load1 }
      steps.push(result)
      const e = result.errorCount ? `, ${result.errorCount} errors` : ''
      log(
        `${kind} ${rate}/s: ${result.achievedRate.toFixed(1)}/s, ` +
          `p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms${e}`,
      )
      if (kind === 'orders') {
        const backlog = await between.outbox()
        const after = await between.settle(SETTLE_LIMIT_MS)
        drains.push({
          rate,
          backlog: backlog ?? null,
          left: after.left ?? null,
          answered: after.answered,
          waitedMs: after.waitedMs,
        })
      }
    }
  }
  agent.destroy()
  return {
    startedAt: '',
    commit: '',
    machine: '',
    database: '',
    options: {
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      users: options.users,
      cap,
      floorCap: FLOOR_CAP,
      warmupRates: { floor: WARMUP_FLOOR_RATE, orders: WARMUP_ORDER_RATE },
      symbol: options.symbol,
      price,
      quick: options.quick,
    },
    load: { start: 0, end: 0 },
    warmupErrors,
    steps,
    drains,
  }
}

function order(symbol: string, side: 'buy' | 'sell', price: string) {
  return { symbol, side, type: 'limit', qty: 1, price, time_in_force: 'gtc' }
}

function describeDatabase(dev: DevServer, version: string): string {
  if (dev.database.kind === 'pglite') {
    const what = 'what `npm run dev` runs without DATABASE_URL'
    return `${version} embedded (${what}), over pglite-socket`
  }
  return `${version} at ${dev.database.server} (DATABASE_URL; a fresh database for the run)`
}

/** PGlite's package version, or the server's `server_version` */
async function databaseVersion(): Promise<string> {
  const url = process.env.DATABASE_URL
  if (!url) return `PGlite ${packageVersion('@electric-sql/pglite')}`
  const handle = await connect(url)
  try {
    const { rows } = await handle.db.execute<{ server_version: string }>(sql`SHOW server_version`)
    return `PostgreSQL ${rows[0]?.server_version ?? '?'}`
  } finally {
    await handle.close()
  }
}

async function run(): Promise<void> {
  const options = optionsOrExit(parseOptions, USAGE)
  const startedAt = new Date()
  const loadStart = loadavg()[0]
  const commit = commitLabel()
  log(`starting the dev server (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'PGlite'})`)
  const dbVersion = await databaseVersion()
  const dev = await startDevServer({ env: { PBKDF2_ITERATIONS: '1000' } })
  const stop = () => dev.stop()
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void stop().finally(() => process.exit(130)))
  }
  let result: Run
  try {
    result = await main(options, dev)
  } catch (err) {
    const tail = dev.output().slice(-4000)
    await stop()
    if (options.serverLog) writeFileSync(options.serverLog, dev.output())
    console.error(`bench:api failed: ${(err as Error).stack}`)
    console.error(`--- dev server output (tail) ---\n${tail}`)
    process.exit(1)
  }
  await stop()
  if (options.serverLog) writeFileSync(options.serverLog, dev.output())
  result.startedAt = startedAt.toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ')
  result.commit = commit
  result.machine = machine()
  result.database = describeDatabase(dev, dbVersion)
  result.databaseKind = dev.database.kind
  result.load = { start: loadStart, end: loadavg()[0] }
  console.log(table(result))
  if (options.write) {
    const file = new URL('../BENCHMARKS.md', import.meta.url).pathname
    updateBenchmarks(file, dev.database.kind, markdownBlock(result))
    log(`BENCHMARKS.md: refreshed the ${dev.database.kind} block`)
  }
  if (options.json) console.log(toJson(result))
}

await run()
