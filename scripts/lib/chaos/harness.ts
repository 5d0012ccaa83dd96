// The chaos harness (issue 9): a seeded stream of orders from several users (a market maker
// among them) on several symbols, through the HTTP API of a wrangler dev with persisted state,
// with faults injected at seeded points (plan.ts, faults.ts); then, once the drains have settled
// and the server is down, the checks (checks.ts) and the summary line.
// Bun only (the checks read the objects' SQLite files with bun:sqlite): npm run chaos runs it so.
import { sql } from 'drizzle-orm'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEMO_USERS } from '../../../src/db/seed.ts'
import { formatCents } from '../../../src/lib/money.ts'
import { apiClient } from '../../../test/helpers/api.ts'
import { UNLIMITED } from '../../../test/helpers/rate-limit.ts'
import type { Db } from '../../../src/db/client.ts'
import { connect } from '../db.ts'
import { startDevServer } from '../dev-server.ts'
import type { DevServer } from '../dev-server.ts'
import { buildWithHooks } from './build.ts'
import type { ChaosBuild } from './build.ts'
import { balances, readBookLogs, runChecks } from './checks.ts'
import type { CheckResult, Observed } from './checks.ts'
import { chaosClient } from './client.ts'
import type { Auth, Json, Reply } from './client.ts'
import { FAULT_KINDS, planRun, SYMBOLS, TRADERS } from './plan.ts'
import type { Fault, FaultKind, Item, Plan } from './plan.ts'
import { startOwnRedis } from './redis.ts'
import type { OwnRedis } from './redis.ts'

export interface ChaosOptions {
  seed: number
  /** faults of each kind */
  faults: number
  /** requests in flight at once */
  workers?: number
  log?: (line: string) => void
}

export interface ChaosReport {
  seed: number
  faults: Record<FaultKind, number>
  /** why a kind has no faults in this configuration */
  notes: string[]
  acked: number
  canceled: number
  amended: number
  /** expected answers other than success, by code: refusals, too-late cancels or amends */
  refused: Record<string, number>
  client: ReturnType<typeof chaosClient>['stats']
  /** ms from a restarted server listening to each symbol's book answering (its log replayed) */
  replayMs: number[]
  /** ms from kill -9 to the restarted server listening */
  restartMs: number[]
  /** ms each fault took to inject, by kind (a kill: until every book answered again) */
  faultMs: Record<string, number[]>
  checks: CheckResult[]
  lost: number
  duplicatedFills: number
  violations: number
  durationMs: number
  summary: string
}

const SETTLE_MS = 90_000

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now()
  const log = opts.log ?? (() => {})
  const notes: string[] = []
  const redis = await startOwnRedis()
  if (!redis) {
    notes.push(
      process.env.REDIS_URL
        ? 'no redis-server to stop here (REDIS_URL is shared): no Redis faults'
        : 'no Redis at all (no redis-server, no REDIS_URL): no Redis faults',
    )
  }
  const plan = planRun(opts.seed, opts.faults, { redis: !!redis })
  let build: ChaosBuild | undefined
  let dev: DevServer | undefined
  try {
    build = await buildWithHooks()
    dev = await startDevServer({
      externalDb: true,
      restartWranglerOnly: true,
      env: { ...UNLIMITED, ...(redis && { REDIS_URL: redis.url }) },
      // tokens that outlast a long run
      wranglerArgs: [...build.wranglerArgs, '--var', 'ACCESS_TOKEN_TTL_SECONDS:86400'],
    })
    log(
      `seed ${plan.seed}: ${plan.items.length} requests, faults of each kind: ${opts.faults} ` +
        `(database: ${dev.database.kind}, redis: ${redis ? redis.url : 'none'})`,
    )
    return await run(dev, redis, plan, opts, log, notes, started)
  } catch (err) {
    // what the Worker and the objects logged (the state directory goes with stop())
    const file = join(tmpdir(), `bourse-chaos-${plan.seed}.log`)
    if (dev) writeFileSync(file, dev.output())
    throw new Error(`${(err as Error).message} (the dev server's output: ${file})`, { cause: err })
  } finally {
    await dev?.stop()
    await redis?.stop()
    build?.remove()
  }
}

async function run(
  dev: DevServer,
  redis: OwnRedis | undefined,
  plan: Plan,
  opts: ChaosOptions,
  log: (line: string) => void,
  notes: string[],
  started: number,
): Promise<ChaosReport> {
  const api = apiClient(dev.base)
  const client = chaosClient(dev.base)
  const admin = await api.login(DEMO_USERS[2].email)
  const traders = await setUpTraders(api, admin)
  const before = await withDb(dev, balances)

  const seen: Observed = {
    symbols: Object.keys(SYMBOLS),
    acks: new Map(),
    cancels: new Map(),
    amends: new Map(),
    checkpoints: Object.fromEntries(Object.keys(SYMBOLS).map((s) => [s, []])),
    live: {},
    liveDepth: {},
    before,
    auditChains: [],
  }
  const counts = { amended: 0, refused: {} as Record<string, number> }
  const unexpected: string[] = []
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
  const replayMs: number[] = []
  const restartMs: number[] = []
  const faultMs: Record<string, number[]> = {}

  const bookState = async (symbol: string) => {
    const { status, body } = await client.send('GET', `/v1/admin/books/${symbol}`, admin)
    if (status !== 200) throw new Error(`GET /v1/admin/books/${symbol}: ${status}`)
    return { seq: body.seq, fillSeq: body.fill_seq, hash: body.hash, outbox: body.outbox }
  }

  /** one item of the stream, as its trader's client sends it */
  async function perform(item: Item) {
    const trader = traders[item.trader]
    const expect = (res: Reply, what: string, ok: number[], codes: string[] = []) => {
      if (ok.includes(res.status)) return true
      const code = res.body.code
      if (codes.includes(code)) counts.refused[code] = (counts.refused[code] ?? 0) + 1
      else unexpected.push(`${what}: ${res.status} ${JSON.stringify(res.body)}`)
      return false
    }
    if (item.kind === 'order') {
      if (item.abandonAfterMs !== undefined) injected.retry++
      const res = await client.send('POST', '/v1/orders', trader.auth, {
        body: item.body,
        key: item.key,
        abandonAfterMs: item.abandonAfterMs,
      })
      const refusals = ['insufficient_buying_power', 'insufficient_shares']
      if (expect(res, `order ${item.key}`, [201], refusals)) {
        seen.acks.set(res.body.id, { ...res.body, user: trader.id })
      }
      return
    }
    const open = [...seen.acks.values()].filter(
      (a) =>
        a.user === trader.id && ['open', 'partial'].includes(a.status) && !seen.cancels.has(a.id),
    )
    if (open.length === 0) return
    const target = open[Math.floor(item.choice * open.length)]
    if (item.kind === 'cancel') {
      const res = await client.send('DELETE', `/v1/orders/${target.id}`, trader.auth)
      if (expect(res, `cancel ${target.id}`, [200], ['not_cancelable'])) {
        seen.cancels.set(target.id, res.body.canceled_qty)
      }
    } else {
      const qty = Math.max(1, Math.floor(target.open_qty * item.keep))
      seen.amends.set(target.id, seen.amends.get(target.id) ?? 0)
      const path = `/v1/orders/${target.id}`
      const res = await client.send('PATCH', path, trader.auth, { body: { qty } })
      if (expect(res, `amend ${target.id}`, [200], ['not_amendable', 'invalid_amend'])) {
        seen.amends.set(target.id, seen.amends.get(target.id)! + res.body.reduced_by)
        counts.amended++
      }
    }
  }

  /** a fault between requests; a restart measures how long each book takes to come back */
  async function inject(fault: Fault) {
    injected[fault.kind]++
    const t0 = Date.now()
    if (fault.kind === 'kill') {
      const t = Date.now()
      await dev.restart()
      const listening = Date.now()
      restartMs.push(listening - t)
      await Promise.all(
        seen.symbols.map(async (symbol) => {
          const state = await bookState(symbol)
          replayMs.push(Date.now() - listening)
          seen.checkpoints[symbol].push(state)
        }),
      )
    } else if (fault.kind === 'evict') {
      const url = `${dev.base}/__chaos/evict?symbol=${fault.symbol}`
      const res = await fetch(url, { method: 'POST' })
      const text = await res.text()
      if (!text.includes('chaos: evicted')) {
        throw new Error(`eviction failed: ${res.status} ${text}`)
      }
    } else if (fault.kind === 'postgres') {
      await dev.cutDatabase(fault.downMs)
    } else {
      await redis!.crash(fault.downMs)
    }
    ;(faultMs[fault.kind] ??= []).push(Date.now() - t0)
  }

  // the stream: WORKERS clients take the next item; the fault runner injects each fault once
  // its point has passed, and the clients wait for it rather than run ahead of it
  const workers = opts.workers ?? 6
  let next = 0
  let answered = 0
  let pendingFault = 0
  const worker = async () => {
    while (next < plan.items.length) {
      const behind = () =>
        pendingFault < plan.faults.length && answered >= plan.faults[pendingFault].at + workers
      while (behind()) await sleep(10)
      await perform(plan.items[next++])
      answered++
    }
  }
  const faultRunner = async () => {
    for (const fault of plan.faults) {
      while (answered < fault.at) await sleep(5)
      await inject(fault)
      pendingFault++
      if (pendingFault % 25 === 0) {
        log(`${pendingFault}/${plan.faults.length} faults, ${answered} requests answered`)
      }
    }
  }
  await Promise.all([faultRunner(), ...Array.from({ length: workers }, worker)])
  log(`stream done: ${answered} requests, ${seen.acks.size} orders acked; settling`)

  await settle(client, traders, seen, bookState, dev)
  for (const symbol of seen.symbols) {
    seen.liveDepth[symbol] = (await client.send('GET', `/v1/book/${symbol}?depth=1000`, {})).body
    if (seen.liveDepth[symbol].seq !== seen.live[symbol].seq) {
      unexpected.push(`${symbol} moved after settling: seq ${seen.liveDepth[symbol].seq}`)
    }
  }
  for (const t of traders) {
    const audit = await client.send('GET', '/v1/account/audit?limit=1&verify=true', t.auth)
    seen.auditChains.push(audit.body.chain)
  }

  // the objects' files are read with the server down; Postgres stays up
  await dev.kill('SIGTERM')
  const checks = await withDb(dev, async (db) => {
    const logs = await readBookLogs(db, dev.stateDir)
    return runChecks(db, seen, logs)
  })
  checks.unshift({ name: 'every request got an expected answer', violations: unexpected })
  const count = (name: string) => checks.find((c) => c.name === name)!.violations.length
  const lost = checks.flatMap((c) => c.violations).filter((v) => v.startsWith('lost:')).length
  const duplicatedFills = count('fills exactly once')
  const violations = checks.reduce((n, c) => n + c.violations.length, 0) - lost - duplicatedFills
  const total = Object.values(injected).reduce((a, b) => a + b, 0)
  return {
    seed: plan.seed,
    faults: injected,
    notes,
    acked: seen.acks.size,
    canceled: seen.cancels.size,
    amended: counts.amended,
    refused: counts.refused,
    client: client.stats,
    replayMs,
    restartMs,
    faultMs,
    checks,
    lost,
    duplicatedFills,
    violations,
    durationMs: Date.now() - started,
    summary:
      `faults injected: ${total}, acked orders: ${seen.acks.size}, lost: ${lost}, ` +
      `duplicated fills: ${duplicatedFills}, invariant violations: ${violations}`,
  }
}

interface Trader {
  auth: Auth
  id: number
}

/**
 * The market maker (a registered account given the role) and three retail traders (the demo's
 * Alice and Bob, and a registered one), each with the second factor, funded before the stream.
 */
async function setUpTraders(api: ReturnType<typeof apiClient>, admin: Auth): Promise<Trader[]> {
  const password = 'chaos-long-password'
  const registered = ['mm', 'carol'].map((name) => `${name}-${Date.now()}@example.com`)
  for (const email of registered) {
    const res = await api.call('POST', '/v1/auth/register', {}, { email, password })
    if (res.status !== 201) throw new Error(`register ${email}: ${JSON.stringify(res.body)}`)
  }
  const logins = [
    [registered[0], password],
    [DEMO_USERS[0].email, undefined],
    [DEMO_USERS[1].email, undefined],
    [registered[1], password],
  ] as const
  const traders: Trader[] = []
  for (const [i, [email, pw]] of logins.slice(0, TRADERS).entries()) {
    const auth = await api.withTwoFactor(email, pw)
    const id = Number((await api.call('GET', '/v1/account', auth)).body.id)
    const mm = i === 0
    if (mm) await must(api.call('PATCH', `/v1/admin/users/${id}`, admin, { role: 'market_maker' }))
    const amount = mm ? '1000000.00' : '500000.00'
    await must(api.call('POST', '/v1/account/deposits', auth, { amount }))
    for (const [symbol, price] of Object.entries(SYMBOLS)) {
      const qty = mm ? 5_000 : 1_000
      const lot = { symbol, qty, cost_basis: formatCents(qty * price) }
      await must(api.call('POST', '/v1/account/transfers', auth, lot))
    }
    traders.push({ auth, id })
  }
  return traders
}

async function must(call: Promise<Reply>) {
  const res = await call
  if (res.status >= 300) throw new Error(`setup: ${res.status} ${JSON.stringify(res.body)}`)
}

/** Postgres from this process, closed after: a Postgres cut would take a connection kept open. */
async function withDb<T>(dev: DevServer, fn: (db: Db) => Promise<T>) {
  const handle = await connect(dev.databaseUrl!)
  try {
    return await fn(handle.db)
  } finally {
    await handle.close()
  }
}

/** until every order has its answer in Postgres and every book's outbox is drained into it */
async function settle(
  client: ReturnType<typeof chaosClient>,
  traders: Trader[],
  seen: Observed,
  bookState: (symbol: string) => Promise<Observed['live'][string]>,
  dev: DevServer,
) {
  const until = Date.now() + SETTLE_MS
  for (;;) {
    let pending = 0
    for (const t of traders) {
      pending += (await client.send('GET', '/v1/orders?status=pending', t.auth)).body.orders.length
    }
    let drained = pending === 0
    const applied = await withDb(dev, (db) =>
      db.execute(sql`SELECT symbol, coalesce(max(seq), 0) AS last FROM fills GROUP BY symbol`),
    )
    const last = new Map(applied.rows.map((r: Json) => [r.symbol, Number(r.last)]))
    for (const symbol of seen.symbols) {
      seen.live[symbol] = await bookState(symbol)
      const { outbox, fillSeq } = seen.live[symbol]
      drained &&= outbox === 0 && (last.get(symbol) ?? 0) === fillSeq
    }
    if (drained) return
    if (Date.now() > until) {
      throw new Error(`not settled: ${pending} pending, ${JSON.stringify(seen.live)}`)
    }
    await sleep(250)
  }
}
