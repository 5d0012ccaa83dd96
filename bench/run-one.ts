// One implementation's passes, in a process of its own forked by engine.ts: neither side's JIT
// feedback, heap or garbage can then slow the other's timed loops. Every pass gets a fresh book.
// Warm-up is the same for both sides: by default one untimed replay of the whole stream (in each
// engine mode) before the timed passes, so throughput and latency are both steady-state figures,
// as for a long-lived Durable Object; `cold` skips it, so the throughput pass includes JIT tier-up
// (the reference's method) and only the latency pass, which follows it, runs on warm code.
//
// usage (from engine.ts only): run-one.ts <engine|peer> <commands> <seed> <warm|cold>

import type { BatchFigures, EventCounts } from './bourse.ts'
import {
  collectGarbage,
  sinkValue,
  timeLatency,
  timeThroughput,
  type Latency,
  type PassResult,
  type Throughput,
} from './measure.ts'
import { generate, type Stream } from './stream.ts'

export type Implementation = 'engine' | 'peer'

export interface RunResult {
  throughput: PassResult<Throughput>
  latency: PassResult<Latency>
  /** Engine only: the whole stream replayed inside WASM. */
  batch?: PassResult<BatchFigures>
  /** Engine only: what its events say happened, from an untimed replay. */
  counts?: EventCounts
  sink: number
}

async function runPeer(stream: Stream, warm: boolean): Promise<RunResult> {
  const { createPeer } = await import('./peer.ts')
  if (warm) timeThroughput(createPeer(stream), stream.n)
  const throughput = timeThroughput(createPeer(stream), stream.n)
  const latency = timeLatency(createPeer(stream), stream)
  return { throughput, latency, sink: sinkValue() }
}

async function runEngine(stream: Stream, warm: boolean): Promise<RunResult> {
  const engine = await import('./bourse.ts')
  if (warm) timeThroughput(engine.createWrapper(stream), stream.n)
  const throughput = timeThroughput(engine.createWrapper(stream), stream.n)
  const latency = timeLatency(engine.createWrapper(stream), stream)
  const records = engine.encodeStream(stream)
  if (warm) engine.timeBatch(stream, records)
  collectGarbage()
  const batch = engine.timeBatch(stream, records)
  return { throughput, latency, batch, counts: engine.countEvents(stream), sink: sinkValue() }
}

async function main(): Promise<void> {
  const [which, commands, seed, warmth] = process.argv.slice(2)
  if (!process.send) throw new Error('run-one.ts is forked by bench/engine.ts, not run directly')
  const stream = generate(Number(commands), Number(seed))
  const warm = warmth === 'warm'
  const result = which === 'peer' ? await runPeer(stream, warm) : await runEngine(stream, warm)
  // Disconnecting once the result is written lets the process end without cutting it short.
  process.send(result, () => process.disconnect())
}

await main()
