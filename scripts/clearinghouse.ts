// `npm run --silent clearinghouse -- [--missing 2] [--qty 3] [--amount 1] < submission.csv >
// confirmations.csv`: the simulated clearinghouse (scripts/lib/clearinghouse.ts). Reads a clearing
// submission (GET /v1/admin/settlement/:date/submission) on stdin, checks it, and writes the
// confirmations on stdout; --missing / --qty / --amount take 1-based obligation lines (repeat the
// flag for several) to leave out, or to confirm with one share or one cent more.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { confirm } from './lib/clearinghouse.ts'

const { values } = parseArgs({
  options: {
    missing: { type: 'string', multiple: true, default: [] },
    qty: { type: 'string', multiple: true, default: [] },
    amount: { type: 'string', multiple: true, default: [] },
  },
})
const lines = (list: string[] | undefined) => (list ?? []).map(Number)
try {
  process.stdout.write(
    confirm(readFileSync(0, 'utf8'), {
      missing: lines(values.missing),
      qty: lines(values.qty),
      amount: lines(values.amount),
    }),
  )
} catch (err) {
  console.error(`clearinghouse: ${(err as Error).message}`)
  process.exit(1)
}
