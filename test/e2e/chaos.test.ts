// The chaos harness's short version (issue 9; npm run chaos runs the long one): a seeded stream
// of orders from a market maker and three retail traders on three symbols, through wrangler dev
// with persisted state, with 50 faults of each kind at seeded points — kill -9 of the dev
// server's process group and a restart on the same state, a symbol's Durable Object evicted
// (ctx.abort through the test-only hook), Postgres connections cut, Redis crashed and restarted,
// and client retries of an abandoned request with the same Idempotency-Key. Then every check of
// scripts/lib/chaos/checks.ts must hold (it replaces the single kill -9 of the former
// crash.test.ts, whose checks moved there). A failure prints the seed to rerun it.
import { beforeAll, describe, expect, test } from 'bun:test'
import { runChaos } from '../../scripts/lib/chaos/harness.ts'
import type { ChaosReport } from '../../scripts/lib/chaos/harness.ts'
import { describe as describeReport } from '../../scripts/lib/chaos/report.ts'
import { SYMBOLS } from '../../scripts/lib/chaos/plan.ts'

const SEED = 20260426
const FAULTS = 50 // of each kind
const rerun = `rerun: npm run chaos -- --seed ${SEED} --faults ${FAULTS}`

let report: ChaosReport

beforeAll(async () => {
  const log = (line: string) => console.log(`[chaos] ${line}`)
  report = await runChaos({ seed: SEED, faults: FAULTS, log })
  console.log(describeReport(report))
}, 20 * 60_000)

describe(`chaos, seed ${SEED}, ${FAULTS} faults of each kind`, () => {
  test('each kind of fault was injected 50 times (Redis where there is one to stop)', () => {
    const redis = report.notes.some((n) => n.includes('no Redis faults')) ? 0 : FAULTS
    const each = { kill: FAULTS, evict: FAULTS, postgres: FAULTS, retry: FAULTS }
    expect(report.faults).toEqual({ ...each, redis })
  })

  test('the faults hit requests in flight, which were retried to an answer', () => {
    expect(report.client.cutOff).toBeGreaterThan(FAULTS)
    expect(report.client.retried).toBeGreaterThan(FAULTS)
    // an abandoned or cut-off order that had reached the gateway came back as the same order
    expect(report.client.replayed).toBeGreaterThan(0)
    expect(report.acked).toBeGreaterThan(FAULTS * 10)
    expect(report.canceled).toBeGreaterThan(0)
    expect(report.amended).toBeGreaterThan(0)
  })

  test('every book answered after every restart, its state then checked against its replay', () => {
    expect(report.replayMs).toHaveLength(FAULTS * Object.keys(SYMBOLS).length)
  })

  test('every check holds', () => {
    const failed = report.checks.filter((c) => c.violations.length > 0)
    if (failed.length > 0) console.log(rerun)
    expect(failed).toEqual([])
  })

  test('the summary line: nothing lost, nothing duplicated, no invariant violated', () => {
    expect(report.summary).toEndWith('lost: 0, duplicated fills: 0, invariant violations: 0')
  })
})
