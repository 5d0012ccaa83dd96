// What the benchmark prints: a table for people, and the one-line JSON contract for machines.

import { cpus } from 'node:os'
import type { Percentiles } from './measure.ts'
import { PEER_NAME } from './peer.ts'
import type { RunResult } from './run-one.ts'
import { KIND_NAMES, type Stream } from './stream.ts'
import { describeMix } from './verify.ts'

export interface Outcome {
  stream: Stream
  engine: RunResult | null
  peer: RunResult | null
  /** Per implementation: did every one of its passes end with the shadow book? */
  bookOk: { engine: boolean; peer: boolean }
  /** Whether each side replayed the stream once, untimed, before its timed passes. */
  warm: boolean
}

const int = (x: number) => Math.round(x).toLocaleString('en-US')

const UNITS: [scale: number, unit: string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
]

function duration(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)} ns`
  const [scale, unit] = UNITS.find(([scale]) => ns >= scale)!
  const value = ns / scale
  // Three significant digits without an exponent (toPrecision would write 1.09e+3 ms).
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${unit}`
}

const ratio = (a: number, b: number) => Math.round((100 * a) / b) / 100

function row(cells: string[]): string {
  const [name, ...rest] = cells
  return name.padEnd(24) + rest.map((cell) => cell.padStart(12)).join('')
}

function latencyCells(p: Percentiles | undefined): string[] {
  return p ? [p.p50, p.p99, p.p999, p.max].map(duration) : ['-', '-', '-', '-']
}

function summaryRows(o: Outcome): string[] {
  const status = (ok: boolean) => (ok ? 'ok' : 'DIFFERS')
  const rows = [row(['', 'ops/s', 'p50', 'p99', 'p99.9', 'max', 'book'])]
  const { engine, peer, bookOk } = o
  const figures = (r: RunResult) => [
    int(r.throughput.figures.opsPerSec),
    ...latencyCells(r.latency.figures.all),
  ]
  if (engine) {
    const batchOps = engine.batch ? int(engine.batch.figures.opsPerSec) : '-'
    const batch = [batchOps, ...latencyCells(undefined)]
    rows.push(row(['engine, TS wrapper', ...figures(engine), status(bookOk.engine)]))
    rows.push(row(['engine, batch in WASM', ...batch, status(bookOk.engine)]))
  }
  if (peer) rows.push(row([PEER_NAME, ...figures(peer), status(bookOk.peer)]))
  return rows
}

const p50p99 = (p: Percentiles) => (p.count ? `${duration(p.p50)} / ${duration(p.p99)}` : '-')

function kindRows(o: Outcome): string[] {
  const wide = (name: string, cells: readonly string[]) =>
    name.padEnd(24) + cells.map((cell) => cell.padStart(20)).join('')
  const rows = [wide('p50 / p99 by kind', KIND_NAMES)]
  for (const [name, r] of [['engine, TS wrapper', o.engine], [PEER_NAME, o.peer]] as const) {
    const byKind = r?.latency.figures.byKind
    if (byKind) rows.push(wide(name, byKind.map(p50p99)))
  }
  return rows
}

function ratioLine(o: Outcome): string[] {
  if (!o.engine || !o.peer) return []
  const peerOps = o.peer.throughput.figures.opsPerSec
  const wrapper = ratio(o.engine.throughput.figures.opsPerSec, peerOps)
  const batchOps = o.engine.batch?.figures.opsPerSec
  const batch = batchOps ? `, ${ratio(batchOps, peerOps)}x in batch` : ''
  return [`engine / ${PEER_NAME} ops/s: ${wrapper}x through the wrapper${batch}`]
}

function warmth(warm: boolean): string {
  if (warm) return 'after one untimed warm-up replay on each side'
  return 'no warm-up for either side (--cold)'
}

function header(o: Outcome): string[] {
  const { stream } = o
  const { trades, resting } = stream.expect
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  return [
    `Order book benchmark: ${int(stream.n)} commands, seed ${stream.seed}`,
    `  ${describeMix(stream)}; ${int(trades)} trades; ${int(resting)} orders resting at the end`,
    `  node ${process.version} (V8 ${process.versions.v8}), ${cpu}, ${cpus().length} CPUs`,
    `  each implementation in its own process, a fresh book per pass, ${warmth(o.warm)}`,
  ]
}

function timerLine(o: Outcome): string[] {
  const t = (o.engine ?? o.peer)?.latency.figures.timerOverhead
  if (!t) return []
  const figures = `p50 ${duration(t.p50)}, p99 ${duration(t.p99)}`
  return [`timer overhead (an empty hrtime.bigint pair, included in the latencies): ${figures}`]
}

export function table(o: Outcome): string {
  const blank = ['']
  return [
    ...header(o),
    ...blank,
    ...summaryRows(o),
    ...blank,
    ...ratioLine(o),
    ...timerLine(o),
    ...blank,
    ...kindRows(o),
  ].join('\n')
}

/** The contract from the engine issue, key for key. */
export function json(o: Outcome): string {
  const engine = o.engine
  const peer = o.peer
  const engineOps = engine?.throughput.figures.opsPerSec ?? null
  const peerOps = peer?.throughput.figures.opsPerSec ?? null
  return JSON.stringify({
    commands: o.stream.n,
    engine: {
      ops_per_sec: engineOps,
      batch_ops_per_sec: engine?.batch?.figures.opsPerSec ?? null,
      p50_ns: engine?.latency.figures.all.p50 ?? null,
      p99_ns: engine?.latency.figures.all.p99 ?? null,
      p999_ns: engine?.latency.figures.all.p999 ?? null,
    },
    peer: {
      name: PEER_NAME,
      ops_per_sec: peerOps,
      p50_ns: peer?.latency.figures.all.p50 ?? null,
      p99_ns: peer?.latency.figures.all.p99 ?? null,
    },
    ratio: engineOps && peerOps ? ratio(engineOps, peerOps) : null,
  })
}
