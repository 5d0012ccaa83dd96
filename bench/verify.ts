// Correctness checks around the benchmark: a replay only counts if its book ends as the shadow
// book predicts, and the generator only counts if it still produces the reference's stream.

import type { Depth } from './measure.ts'
import type { RunResult } from './run-one.ts'
import { KIND_NAMES, mix, type BookLevels, type Stream } from './stream.ts'

interface ReferenceFigures {
  mix: number[]
  trades: number
  tradedQty: number
  resting: number
  depthDigest: number
}

/** From `node bench.mjs gen x <n> <seed>` of the reference (the project may not import it). */
const REFERENCE: Record<string, ReferenceFigures> = {
  '1000000/42': {
    mix: [600195, 250021, 99985, 49799],
    trades: 495600,
    tradedQty: 19904387,
    resting: 1999,
    depthDigest: -1935572101,
  },
  '50000/42': {
    mix: [30162, 12409, 4984, 2445],
    trades: 22650,
    tradedQty: 866026,
    resting: 2400,
    depthDigest: 761331957,
  },
}

/** The reference's digest: price and qty of every level, bids then asks, best first. */
export function depthDigest(depth: Depth): number {
  let h = 0
  for (const side of [depth.bids, depth.asks]) {
    for (const [price, qty] of side) h = (Math.imul(h, 31) + price * 1000 + qty) | 0
  }
  return h
}

/** Problems with the generated stream, when the reference published figures for its size. */
export function checkGenerator(stream: Stream): string[] {
  const want = REFERENCE[`${stream.n}/${stream.seed}`]
  if (!want) return []
  const { trades, tradedQty, resting } = stream.expect
  const counts = mix(stream)
  const got = { mix: counts, trades, tradedQty, resting, depthDigest: depthDigest(stream.expect) }
  const keys = Object.keys(want) as (keyof ReferenceFigures)[]
  const text = (f: ReferenceFigures, key: keyof ReferenceFigures) => JSON.stringify(f[key])
  return keys
    .filter((key) => text(got, key) !== text(want, key))
    .map((key) => `generator: ${key} is ${text(got, key)}, the reference's ${text(want, key)}`)
}

/**
 * Where `got` first differs from the shadow book, or null. Order counts are compared only when
 * the implementation reports them (nodejs-order-book's depth has price and qty only).
 */
export function compareDepth(got: Depth, want: BookLevels): string | null {
  for (const side of ['bids', 'asks'] as const) {
    const a = got[side]
    const b = want[side]
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const width = a[i]?.length === 3 ? 3 : 2
      const same = a[i] && b[i] && a[i].slice(0, width).every((v, k) => v === b[i][k])
      if (!same) return `${side}[${i}] is ${show(a[i])}, shadow book has ${show(b[i])}`
    }
  }
  return null
}

function show(level: number[] | undefined): string {
  return level ? `[${level.join(', ')}]` : 'nothing'
}

/** The share of each kind of command, for the report's header. */
export function describeMix(stream: Stream): string {
  const counts = mix(stream)
  return KIND_NAMES.map((name, k) => `${((100 * counts[k]) / stream.n).toFixed(1)}% ${name}`).join(
    ', ',
  )
}

/** Every pass of one implementation against the shadow book, and the engine's own accounts. */
export function checkRun(stream: Stream, name: string, run: RunResult): string[] {
  const passes = { throughput: run.throughput, latency: run.latency, batch: run.batch }
  const problems: string[] = []
  for (const [pass, result] of Object.entries(passes)) {
    const diff = result && compareDepth(result.depth, stream.expect)
    if (diff) problems.push(`${name}, ${pass} pass: ${diff}`)
  }
  return problems.concat(checkCounts(stream, name, run))
}

function checkCounts(stream: Stream, name: string, run: RunResult): string[] {
  const { counts, batch } = run
  if (!counts) return []
  const { trades, tradedQty } = stream.expect
  const problems: string[] = []
  if (counts.trades !== trades) problems.push(`${name}: ${counts.trades} fills, shadow ${trades}`)
  if (counts.tradedQty !== tradedQty) {
    problems.push(`${name}: ${counts.tradedQty} shares filled, shadow ${tradedQty}`)
  }
  if (batch && batch.figures.events !== counts.events) {
    problems.push(`${name}: ${batch.figures.events} events in batch, ${counts.events} one by one`)
  }
  return problems
}
