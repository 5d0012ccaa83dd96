// What `npm run bench:api` prints and records: a table for people, one JSON object for machines,
// and its database's block in BENCHMARKS.md, with the issue's targets checked against the run.

import { readFileSync, writeFileSync } from 'node:fs'
import type { Summary } from './load.ts'

export interface StepResult {
  kind: 'floor' | 'orders'
  /** the rate asked for, requests per second */
  rate: number
  scheduled: number
  ok: number
  errorCount: number
  errors: Record<string, number>
  /** 2xx answers per second, from the first due time to the last answer */
  achievedRate: number
  /** from each request's due time (open loop), 2xx only */
  latency: Summary
  /** from the request's actual send */
  service: Summary
  /** how late the generator sent (its own lag; included in latency) */
  sendLag: Summary
  serverTiming: Record<string, Summary>
  outcomes: Record<string, number>
  maxInFlight: number
  /** 1-minute load average just before the step */
  loadBefore?: number
}

export interface Run {
  startedAt: string
  commit: string
  machine: string
  database: string
  databaseKind?: 'pglite' | 'postgres'
  options: {
    durationMs: number
    warmupMs: number
    users: number
    /** in-flight caps: orders, floor */
    cap: number
    floorCap: number
    warmupRates: { floor: number; orders: number }
    symbol: string
    price: string
    quick: boolean
  }
  /** 1-minute load average when the run started and when it ended */
  load: { start: number; end: number }
  warmupErrors: number
  steps: StepResult[]
  /**
   * after each order step: fills in the outbox (null: the admin API did not say), then how long
   * until the outbox was empty and the server answered again (at most 60 s)
   */
  drains: {
    rate: number
    backlog: number | null
    left: number | null
    answered: boolean
    waitedMs: number
  }[]
}

/** the Server-Timing metrics of the order route, in the order the path runs them */
export const STAGES = ['risk', 'book', 'engine', 'record', 'total'] as const

export const TARGETS = {
  /** the order path adds at most this to the floor's p50 */
  addedP50Ms: 2,
  /** server-side (Server-Timing total) p99 */
  serverP99Ms: 5,
  /** sustained on one symbol with 0 errors */
  sustainedRate: 300,
  /** "sustained": at least this share of the asked rate answered 2xx */
  sustainedShare: 0.95,
}

export function ms(v: number): string {
  if (!Number.isFinite(v)) return '-'
  if (Math.abs(v) < 10) return v.toFixed(2)
  if (Math.abs(v) < 100) return v.toFixed(1)
  return v.toFixed(0)
}

/** Server-Timing durations are whole milliseconds (workerd's clock): no decimals to suggest more */
const stage = (v: number) => (Number.isInteger(v) ? String(v) : ms(v))
const stages = (t: Summary | undefined) =>
  t ? `${stage(t.p50)} / ${stage(t.p95)} / ${stage(t.p99)}` : '-'

const rate = (v: number) => v.toFixed(1)
const int = (v: number) => Math.round(v).toLocaleString('en-US')

interface Pair {
  rate: number
  floor?: StepResult
  orders?: StepResult
}

function pairs(run: Run): Pair[] {
  const byRate = new Map<number, Pair>()
  for (const s of run.steps) {
    const p = byRate.get(s.rate) ?? { rate: s.rate }
    p[s.kind] = s
    byRate.set(s.rate, p)
  }
  return [...byRate.values()]
}

export interface TargetCheck {
  target: string
  measured: string
  verdict: string
  /** true: met at every rate measured; false: missed at one at least; null: not measured */
  met: boolean | null
}

function verdict(results: { rate: number; ok: boolean }[]): Pick<TargetCheck, 'verdict' | 'met'> {
  if (results.length === 0) return { verdict: 'not measured', met: null }
  const good = results.filter((r) => r.ok).map((r) => `${r.rate}/s`)
  const bad = results.filter((r) => !r.ok).map((r) => `${r.rate}/s`)
  if (bad.length === 0) return { verdict: 'met', met: true }
  if (good.length === 0) return { verdict: 'not met', met: false }
  return { verdict: `met at ${good.join(', ')}; not at ${bad.join(', ')}`, met: false }
}

export function checkTargets(run: Run): TargetCheck[] {
  const both = pairs(run).filter((p) => p.floor && p.orders) as Required<Pair>[]
  const added = both.map((p) => ({
    rate: p.rate,
    diff: p.orders.latency.p50 - p.floor.latency.p50,
    ratio: p.orders.latency.p50 / p.floor.latency.p50,
    // a step that shed requests measured only what it answered: no comparison there
    shed: p.orders.errorCount > 0 || p.floor.errorCount > 0,
  }))
  const addedCheck = verdict(
    added.map((a) => ({ rate: a.rate, ok: !a.shed && a.diff <= TARGETS.addedP50Ms })),
  )
  const orderSteps = run.steps.filter((s) => s.kind === 'orders')
  const server = orderSteps.map((s) => ({ rate: s.rate, p99: s.serverTiming.total?.p99 ?? NaN }))
  const serverCheck = verdict(
    server.map((s) => ({ rate: s.rate, ok: s.p99 <= TARGETS.serverP99Ms })),
  )
  const sustained = orderSteps.find((s) => s.rate === TARGETS.sustainedRate)
  const sustainedOk =
    sustained !== undefined &&
    sustained.errorCount === 0 &&
    sustained.achievedRate >= TARGETS.sustainedShare * sustained.rate
  return [
    {
      target: `the order path adds ≤ ${TARGETS.addedP50Ms} ms to the floor's p50`,
      measured: added
        .map((a) =>
          Number.isFinite(a.diff)
            ? `${a.diff >= 0 ? '+' : ''}${ms(a.diff)} ms (${a.ratio.toFixed(1)}x) at ${a.rate}/s` +
              (a.shed ? ' (with errors)' : '')
            : `no order answered at ${a.rate}/s`,
        )
        .join(', '),
      ...addedCheck,
    },
    {
      target: `server-side p99 (Server-Timing total) ≤ ${TARGETS.serverP99Ms} ms`,
      measured: server
        .map((s) =>
          Number.isFinite(s.p99)
            ? `${stage(s.p99)} ms at ${s.rate}/s`
            : `no order answered at ${s.rate}/s`,
        )
        .join(', '),
      ...serverCheck,
    },
    {
      target: `${TARGETS.sustainedRate} orders/s sustained on one symbol, 0 errors`,
      measured: sustained
        ? `${rate(sustained.achievedRate)}/s answered, ${int(sustained.errorCount)} errors ` +
          `(${int(sustained.scheduled)} sent)`
        : 'no 300/s step in this run',
      verdict: sustained ? (sustainedOk ? 'met' : 'not met') : 'not measured',
      met: sustained ? sustainedOk : null,
    },
  ]
}

function errorText(s: StepResult): string {
  return Object.entries(s.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${int(n)} × ${kind}`)
    .join(', ')
}

function outcomeText(s: StepResult): string {
  if (s.ok === 0) return 'no 2xx answer'
  return Object.entries(s.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${int(n)}`)
    .join(', ')
}

/** one line when every step's outbox was reported and emptied, else one per step */
function drainNotes(run: Run): string[] {
  const plain = run.drains.every((d) => d.backlog !== null && d.left === 0 && d.answered)
  if (!plain) return run.drains.map((d) => `${capital(drainText(d))}.`)
  if (run.drains.every((d) => d.backlog === 0)) {
    return ['The outbox was empty right after every order step: the drain kept up.']
  }
  const backlog = run.drains.map((d) => `${int(d.backlog!)} at ${d.rate}/s`).join(', ')
  const waits = run.drains.map((d) => rate(d.waitedMs / 1000))
  return [
    `Fills waiting in the outbox right after each order step: ${backlog}; the drain had emptied ` +
      `it ${waits.join(', ')} s later.`,
  ]
}

const capital = (text: string) => text[0].toUpperCase() + text.slice(1)

function drainText(d: Run['drains'][number]): string {
  const secs = `${rate(d.waitedMs / 1000)} s`
  const backlog =
    d.backlog === null
      ? `after the ${d.rate}/s step (outbox not reported)`
      : `after the ${d.rate}/s step ${int(d.backlog)} fills waited in the outbox`
  if (!d.answered) return `${backlog}; the server still failed to answer ${secs} later`
  if (d.left === null) return `${backlog}; the server answered again ${secs} later`
  if (d.left > 0) return `${backlog}; ${int(d.left)} were still there ${secs} later`
  return `${backlog}; the drain had emptied it ${secs} later`
}

const stepName = (s: StepResult) => (s.kind === 'floor' ? 'floor: GET /healthz' : 'POST /v1/orders')

function header(run: Run): string[] {
  const o = run.options
  return [
    `Order path under load: POST /v1/orders (${o.symbol}, 1-share limit orders at ${o.price}, ` +
      `${o.users} traders) vs GET /healthz, open loop, ${o.durationMs / 1000} s per step` +
      (o.quick ? ' (--quick)' : ''),
    `  in flight at most ${o.cap} orders, ${o.floorCap} floor requests; warm-up ` +
      `${o.warmupMs / 1000} s of each ` +
      `(floor ${o.warmupRates.floor}/s, orders ${o.warmupRates.orders}/s)`,
    `  database: ${run.database.replaceAll('`', '')}`,
    `  machine: ${run.machine}`,
    `  load average (1 min): ${run.load.start.toFixed(2)} at the start, ` +
      `${run.load.end.toFixed(2)} at the end; commit ${run.commit}; ${run.startedAt}`,
  ]
}

export function table(run: Run): string {
  const row = (cells: string[], widths: number[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]) : c.padStart(widths[i]))).join('')
  const w = [22, 7, 10, 8, 8, 9, 9, 9, 9, 11, 10]
  const lines = [...header(run), '']
  const titles = ['latency (ms, 2xx)', 'rate', 'achieved', 'ok', 'errors', 'p50', 'p95', 'p99']
  lines.push(row([...titles, 'max', 'lag p99', 'in flight'], w))
  for (const s of run.steps) {
    const l = s.latency
    const counts = [String(s.rate), rate(s.achievedRate), int(s.ok), int(s.errorCount)]
    const figures = [ms(l.p50), ms(l.p95), ms(l.p99), ms(l.max), ms(s.sendLag.p99)]
    lines.push(row([stepName(s), ...counts, ...figures, String(s.maxInFlight)], w))
  }
  lines.push('', 'Server-Timing of the order steps (ms), p50 / p95 / p99:')
  const sw = [8, ...STAGES.map(() => 20), 18]
  lines.push(row(['rate', ...STAGES, 'client-total p50'], sw))
  for (const s of run.steps.filter((x) => x.kind === 'orders')) {
    const cells = STAGES.map((name) => stages(s.serverTiming[name]))
    const gap = s.latency.p50 - (s.serverTiming.total?.p50 ?? NaN)
    lines.push(row([String(s.rate), ...cells, ms(gap)], sw))
  }
  lines.push('')
  for (const s of run.steps.filter((x) => x.kind === 'orders')) {
    lines.push(`orders at ${s.rate}/s: ${outcomeText(s)}`)
  }
  lines.push(...drainNotes(run))
  for (const s of run.steps.filter((x) => x.errorCount > 0)) {
    lines.push(`errors, ${stepName(s)} at ${s.rate}/s: ${errorText(s)}`)
  }
  lines.push(
    "lag: how late the generator sent (the machine's CPU contention; included in the latencies)",
  )
  if (run.warmupErrors) lines.push(`warm-up errors: ${run.warmupErrors}`)
  lines.push('', 'Targets:')
  for (const t of checkTargets(run)) lines.push(`  ${t.target}: ${t.measured} → ${t.verdict}`)
  return lines.join('\n')
}

export function toJson(run: Run): string {
  return JSON.stringify({ ...run, targets: checkTargets(run) })
}

const TITLES = { pglite: 'PGlite', postgres: 'PostgreSQL (production-like)' }

/** The run as markdown, for its database's block in BENCHMARKS.md. */
export function markdownBlock(run: Run): string {
  const o = run.options
  const kind = run.databaseKind ?? 'pglite'
  const lines = [
    `### ${TITLES[kind]}`,
    '',
    `\`npm run bench:api\`${o.quick ? ' --quick' : ''} at commit \`${run.commit}\`, ` +
      `${run.startedAt}: ` +
      `${o.durationMs / 1000} s per step after ${o.warmupMs / 1000} s of warm-up of each, ` +
      `${o.users} traders, 1-share limit orders on ${o.symbol} at ${o.price}, ` +
      `at most ${o.cap} orders ` +
      `(${o.floorCap} floor requests) in flight.`,
    '',
    `Database: ${run.database}. Machine: ${run.machine}. Load average (1 min) ` +
      `${run.load.start.toFixed(2)} at the start, ${run.load.end.toFixed(2)} at the end.`,
    '',
    '| step | rate | achieved | errors | p50 | p95 | p99 | max | send lag p99 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const s of run.steps) {
    const l = s.latency
    lines.push(
      `| ${stepName(s)} | ${s.rate}/s | ${rate(s.achievedRate)}/s | ${int(s.errorCount)} | ` +
        `${ms(l.p50)} ms | ${ms(l.p95)} ms | ${ms(l.p99)} ms | ${ms(l.max)} ms | ` +
        `${ms(s.sendLag.p99)} ms |`,
    )
  }
  lines.push(
    '',
    'Server-Timing of the order steps, p50 / p95 / p99 in ms (2xx answers):',
    '',
    `| rate | ${STAGES.join(' | ')} | client p50 − total p50 |`,
    `| ---: | ${STAGES.map(() => '---:').join(' | ')} | ---: |`,
  )
  for (const s of run.steps.filter((x) => x.kind === 'orders')) {
    const cells = STAGES.map((name) => stages(s.serverTiming[name]))
    const gap = s.latency.p50 - (s.serverTiming.total?.p50 ?? NaN)
    lines.push(`| ${s.rate}/s | ${cells.join(' | ')} | ${ms(gap)} |`)
  }
  const orderSteps = run.steps.filter((x) => x.kind === 'orders')
  const notes = [
    `Acks (status of the 2xx answers): ` +
      `${orderSteps.map((s) => `${s.rate}/s ${outcomeText(s)}`).join('; ')}.`,
    ...drainNotes(run),
  ]
  const failed = run.steps.filter((x) => x.errorCount > 0)
  if (failed.length) {
    const each = failed.map((s) => `${stepName(s)} at ${s.rate}/s ${errorText(s)}`)
    notes.push(`Errors: ${each.join('; ')}.`)
  }
  lines.push('', ...notes.map((n) => `- ${n}`))
  lines.push('', '| target | measured | |', '| --- | --- | --- |')
  for (const t of checkTargets(run)) lines.push(`| ${t.target} | ${t.measured} | ${t.verdict} |`)
  return lines.join('\n')
}

const begin = (kind: string) => `<!-- bench:api ${kind}: written by npm run bench:api -->`
const end = (kind: string) => `<!-- /bench:api ${kind} -->`

/** Replaces the database's block in BENCHMARKS.md (appends one if the markers are missing). */
export function updateBenchmarks(file: string, kind: 'pglite' | 'postgres', block: string): void {
  const text = readFileSync(file, 'utf8')
  const from = text.indexOf(begin(kind))
  const to = text.indexOf(end(kind))
  const fresh = `${begin(kind)}\n${block}\n${end(kind)}`
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + fresh + text.slice(to + end(kind).length)
      : `${text.trimEnd()}\n\n${fresh}\n`
  writeFileSync(file, next)
}
