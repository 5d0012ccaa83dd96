// npm run chaos -- --seed S --faults N: the chaos harness (scripts/lib/chaos/harness.ts). N is
// the number of faults of EACH kind (kill -9 + restart, Durable Object eviction, Postgres cut,
// Redis crash, client retry after an abandoned request); the summary's total counts them all.
// Prints each check and the summary line; on any loss, duplicate or violation, the seed to rerun
// and exit 1.
import { parseArgs } from 'node:util'
import { runChaos } from './lib/chaos/harness.ts'
import { describe } from './lib/chaos/report.ts'

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    faults: { type: 'string', default: '10' },
    workers: { type: 'string', default: '6' },
  },
})
const seed = Number(values.seed)
const faults = Number(values.faults)
if (!Number.isInteger(seed) || !Number.isInteger(faults) || faults < 1) {
  console.error('usage: npm run chaos -- --seed <integer> --faults <faults of each kind, ≥ 1>')
  process.exit(2)
}

const report = await runChaos({
  seed,
  faults,
  workers: Number(values.workers),
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
