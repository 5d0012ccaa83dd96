// The simulated clearinghouse: it checks our submission, confirms it line by line, and injects
// exactly the mismatches asked for; its file has the submission's layout and a valid trailer.
import { describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { confirm, readSubmission } from '../../scripts/lib/clearinghouse.ts'
import { netObligations, submission } from '../../src/settlement/clearing.ts'

const fills = [
  { userId: 1, symbol: 'AAPL', side: 'sell' as const, qty: 100, priceCents: 15_000 },
  { userId: 2, symbol: 'AAPL', side: 'buy' as const, qty: 100, priceCents: 15_000 },
  { userId: 2, symbol: 'MSFT', side: 'sell' as const, qty: 3, priceCents: 41_000 },
  { userId: 3, symbol: 'MSFT', side: 'buy' as const, qty: 3, priceCents: 41_000 },
]
const file = async () => (await submission('2026-11-25', '2026-11-27', netObligations(fills))).csv

describe('simulated clearinghouse', () => {
  test('confirms every obligation as submitted when asked for no mismatch', async () => {
    const csv = await file()
    expect(readSubmission(confirm(csv))).toEqual(readSubmission(csv))
  })

  test('injects exactly the mismatches asked for', async () => {
    const out = confirm(await file(), {
      missing: [1],
      qty: [2],
      amount: [4],
      extra: { account: 9, symbol: 'NVDA', qty: 5, amount: '-10.00' },
    })
    expect(readSubmission(out).map((r) => r.slice(2).join(','))).toEqual([
      '2,AAPL,101,-15000.00', // one share more
      '2,MSFT,-3,1230.00',
      '3,MSFT,3,-1229.99', // one cent more
      '9,NVDA,5,-10.00', // never submitted
    ])
  })

  test('refuses a submission that was tampered with; the CLI says why', async () => {
    const tampered = (await file()).replace('AAPL,100,', 'AAPL,90,')
    expect(() => confirm(tampered)).toThrow('checksum mismatch')
    const cli = () =>
      execFileSync('node_modules/.bin/tsx', ['scripts/clearinghouse.ts', '--missing', '2'], {
        input: tampered,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    expect(cli).toThrow(/checksum mismatch/)
    const ok = execFileSync('node_modules/.bin/tsx', ['scripts/clearinghouse.ts', '--missing', '2'], {
      input: await file(),
    })
    expect(readSubmission(ok.toString())).toHaveLength(3)
  })
})
