// `npm run bench`: replays the seeded command stream through our engine (one call per command
// through the TS wrapper, and in batch inside WASM) and through nodejs-order-book, checks that
// every replay ends with the generator's shadow book (hence all with the same book), and prints
// ops/s and per-command latency for each. Figures and method: BENCHMARKS.md.
//
//   npm run bench -- [--quick] [--json] [--commands N] [--seed S] [--cold]
//
// --quick replays 50,000 commands (CI runs it so the benchmark cannot rot); --json adds the
// issue's JSON object as the last line of stdout; --cold skips the warm-up replay (see
// run-one.ts). Exits 1 if any book or count is wrong.

import { fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { optionsOrExit } from './cli.ts'
import { PEER_NAME } from './peer.ts'
import { json, table } from './report.ts'
import type { Implementation, RunResult } from './run-one.ts'
import { generate } from './stream.ts'
import { checkGenerator, checkRun } from './verify.ts'

interface Options {
  commands: number
  seed: number
  json: boolean
  warm: boolean
}

const USAGE = 'usage: npm run bench -- [--quick] [--json] [--commands N] [--seed S] [--cold]'

function integer(text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  // Ids are stream indexes in Int32Arrays, so the stream stays below 2^31 commands.
  if (!Number.isInteger(value) || value < min || value > 2 ** 31 - 2) throw new Error(USAGE)
  return value
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      cold: { type: 'boolean', default: false },
      commands: { type: 'string' },
      seed: { type: 'string' },
    },
  })
  const commands = integer(values.commands, values.quick ? 50_000 : 1_000_000, 1)
  const seed = integer(values.seed, 42, -(2 ** 31))
  return { commands, seed, json: values.json!, warm: !values.cold }
}

/** Runs one implementation in a fresh process (see run-one.ts for why) and waits for its result. */
function runIsolated(which: Implementation, options: Options): Promise<RunResult> {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'run-one.ts')
  const warmth = options.warm ? 'warm' : 'cold'
  const args = [which, String(options.commands), String(options.seed), warmth]
  const execArgv = [...process.execArgv, '--expose-gc']
  return new Promise((resolve, reject) => {
    let result: RunResult | undefined
    const child = fork(file, args, { execArgv })
    child.on('message', (message) => (result = message as RunResult))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result) resolve(result)
      else reject(new Error(`the ${which} run exited with status ${code} and no result`))
    })
  })
}

async function tryRun(which: Implementation, options: Options, problems: string[]) {
  try {
    return await runIsolated(which, options)
  } catch (error) {
    problems.push((error as Error).message)
    return null
  }
}

async function main(): Promise<void> {
  const options = optionsOrExit(parseOptions, USAGE)
  const stream = generate(options.commands, options.seed)
  const problems = checkGenerator(stream)
  const engine = await tryRun('engine', options, problems)
  const peer = await tryRun('peer', options, problems)
  const engineProblems = engine ? checkRun(stream, 'engine', engine) : []
  const peerProblems = peer ? checkRun(stream, PEER_NAME, peer) : []
  const bookOk = {
    engine: engine !== null && engineProblems.length === 0,
    peer: peer !== null && peerProblems.length === 0,
  }
  const outcome = { stream, engine, peer, bookOk, warm: options.warm }
  console.log(table(outcome))
  if (options.json) console.log(json(outcome))
  for (const problem of [...problems, ...engineProblems, ...peerProblems]) {
    console.error(`bench: ${problem}`)
  }
  if (problems.length + engineProblems.length + peerProblems.length > 0) process.exitCode = 1
}

await main()
