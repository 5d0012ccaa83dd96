// Timing loops shared by every implementation. They are the reference bench.mjs loops: one timer
// around the whole replay for throughput, process.hrtime.bigint() around every command for
// latency, so that figures are comparable with the reference README.

import { KIND_NAMES, type Stream } from './stream.ts'

/** Depth as an implementation reports it: [price, qty] or [price, qty, orders], best first. */
export interface Depth {
  bids: number[][]
  asks: number[][]
}

/** One fresh book fed the stream: `run(i)` applies command i and returns whatever the book does. */
export interface Replayer {
  run(i: number): unknown
  depth(): Depth
}

export interface Throughput {
  opsPerSec: number
  totalMs: number
}

export interface Percentiles {
  count: number
  p50: number
  p99: number
  p999: number
  max: number
}

export interface Latency {
  all: Percentiles
  /** Indexed like KIND_NAMES. */
  byKind: Percentiles[]
  /** An empty hrtime pair: included in every figure above, not subtracted (as the reference). */
  timerOverhead: Percentiles
}

/** Results survive the process boundary, so they must be plain data. */
export interface PassResult<T> {
  figures: T
  depth: Depth
}

/**
 * Collects the previous pass's garbage before the clock starts, so that no pass pays for another.
 * A no-op unless node runs with --expose-gc (the forked runs do).
 */
export function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/** Truthy results are counted so the calls cannot be optimized away. */
let sink = 0

export function timeThroughput(book: Replayer, n: number): PassResult<Throughput> {
  collectGarbage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) if (book.run(i)) sink++
  const ns = Number(process.hrtime.bigint() - t0)
  return { figures: throughputOf(n, ns), depth: book.depth() }
}

export function throughputOf(n: number, ns: number): Throughput {
  return { opsPerSec: Math.round(n / (ns / 1e9)), totalMs: Math.round(ns / 1e6) }
}

export function timeLatency(book: Replayer, stream: Stream): PassResult<Latency> {
  const overhead = timerOverhead()
  collectGarbage()
  const ns = new Float64Array(stream.n)
  for (let i = 0; i < stream.n; i++) {
    const t0 = process.hrtime.bigint()
    const result = book.run(i)
    ns[i] = Number(process.hrtime.bigint() - t0)
    if (result) sink++
  }
  const figures = { all: percentiles(ns), byKind: byKind(ns, stream), timerOverhead: overhead }
  return { figures, depth: book.depth() }
}

function timerOverhead(samples = 100_000): Percentiles {
  const ns = new Float64Array(samples)
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint()
    ns[i] = Number(process.hrtime.bigint() - t0)
  }
  return percentiles(ns)
}

function byKind(ns: Float64Array, stream: Stream): Percentiles[] {
  return KIND_NAMES.map((_, kind) => percentiles(ns.filter((_, i) => stream.kind[i] === kind)))
}

/** Nearest-rank percentiles, as the reference computes them. */
export function percentiles(values: Float64Array): Percentiles {
  const sorted = Float64Array.from(values).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1) }
}

/** Read once at exit, so that the sink stays observable to the optimizer. */
export function sinkValue(): number {
  return sink
}
