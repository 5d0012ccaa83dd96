// npm run chaos -- --seed S --faults N: the chaos harness (scripts/lib/chaos/harness.ts). N is
// the number of faults of EACH kind (kill -9 + restart, Durable Object eviction, Postgres cut,
// Redis crash, client retry after an abandoned request); the summary's total counts them all.
// Prints each check and the summary line; on any loss, duplicate or violation, the seed to rerun
// and exit 1.
import { parseArgs } from 'node:util'
import { runChaos } from './lib/chaos/harness.ts'
import { describe } from './lib/chaos/report.ts'

const USAGE = `usage: npm run chaos -- [--seed <integer>] [--faults <faults of each kind, ≥ 1>] [--workers <clients, ≥ 1>]
  defaults: a seed from the clock (printed, to rerun), 10 faults of each kind, 6 clients`

/** the command line's options; the usage and exit 2 on anything else */
function options() {
  try {
    const { values } = parseArgs({
      options: {
        seed: { type: 'string', default: String(Date.now() % 1_000_000) },
        faults: { type: 'string', default: '10' },
        workers: { type: 'string', default: '6' },
        help: { type: 'boolean', default: false },
      },
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    const [seed, faults, workers] = [values.seed, values.faults, values.workers].map(Number)
    if ([seed, faults, workers].every(Number.isInteger) && faults >= 1 && workers >= 1) {
      return { seed, faults, workers }
    }
  } catch {
    // an unknown option or a missing value: the usage below
  }
  console.error(USAGE)
  process.exit(2)
}

const { seed, faults, workers } = options()

const report = await runChaos({
  seed,
  faults,
  workers,
  log: (line) => console.log(`[chaos] ${line}`),
}).catch((err) => {
  console.error(`chaos run failed: ${err.stack ?? err}`)
  console.error(`rerun: npm run chaos -- --seed ${seed} --faults ${faults}`)
  process.exit(1)
})
console.log(describe(report))
if (report.lost + report.duplicatedFills + report.violations > 0) {
  console.log(`FAILED — rerun: npm run chaos -- --seed ${seed} --faults ${faults}`)
  process.exit(1)
}
