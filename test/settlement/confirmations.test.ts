// Reconciling the clearinghouse's confirmations: line by line against the submission, what
// matches settles (its sale proceeds become withdrawable) in one transaction, every mismatch goes
// to the review queue, and only an admin's resolution (recorded once) settles or closes one.
import { beforeAll, describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { confirm } from '../../scripts/lib/clearinghouse.ts'
import { unsettledProceeds } from '../../src/accounts/service.ts'
import { verifyAuditChain } from '../../src/audit/chain.ts'
import { sha256Hex } from '../../src/auth/tokens.ts'
import type { Db } from '../../src/db/client.ts'
import { eodRuns, settlementObligations } from '../../src/db/schema.ts'
import { applyFills } from '../../src/orders/fills.ts'
import {
  listDiscrepancies,
  receiveConfirmations,
  resolveDiscrepancy,
} from '../../src/settlement/confirmations.ts'
import { clearingSubmission } from '../../src/settlement/service.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'

let d: Db
beforeAll(async () => {
  d = (await testDatabase()).handle.db
}, 60_000)

const { newSymbol, newTrader, giveShares, placeBuy, placeSell } = orderFixtures(() => d)

/** a Monday of this file's own */
const DATE = '2026-07-13'
const TS = Date.parse('2026-07-13T15:00:00Z')
const noOutbox = () => ({ pendingFills: async () => [] })

/** seller sells `qty` at `price` to buyer, as a fill the drain applied */
async function trade(symbol: string, seq: number, seller: number, buyer: number, qty: number, price: number) {
  await giveShares(seller, symbol, qty, qty * 10_000)
  const sell = await placeSell(seller, symbol, qty, price)
  const buy = await placeBuy(buyer, symbol, qty, price)
  await applyFills(d, symbol, [
    { fillSeq: seq, seq, taker: buy, maker: sell, side: 'buy', price, qty, ts: TS },
  ])
}

/** 1-based line of the submission naming the account and symbol (other tests' lines may be in it) */
const lineOf = (csv: string, account: number, symbol: string) =>
  csv.trimEnd().split('\n').slice(1).findIndex((l) => l.split(',').slice(2, 4).join() === `${account},${symbol}`) + 1

describe('confirmations', () => {
  test('matched lines settle, every mismatch is queued, and only an admin resolves it', async () => {
    const symbol = await newSymbol()
    // one after the other: the file's lines, and so the queue, are in account order
    const a = await newTrader()
    const b = await newTrader(10_000_000)
    const c = await newTrader()
    const e = await newTrader(10_000_000)
    const f = await newTrader()
    const admin = await newTrader()
    await trade(symbol, 1, a, b, 10, 15_000) // a: -10, +1500.00; b: +10, -1500.00
    await trade(symbol, 2, c, e, 4, 15_100) // c: -4, +604.00; e: +4, -604.00
    await trade(symbol, 3, f, b, 1, 15_200) // f: -1, +152.00; b: +11, -1652.00
    await d.insert(eodRuns).values({ tradeDate: DATE, symbols: 1, expired: 0 })
    const submission = await clearingSubmission(d, noOutbox, DATE, 1)
    expect(await unsettledProceeds(d, a)).toBe(150_000)

    const file = confirm(submission.csv, {
      qty: [lineOf(submission.csv, a, symbol)],
      missing: [lineOf(submission.csv, c, symbol)],
      amount: [lineOf(submission.csv, e, symbol)],
      extra: { account: 999_999, symbol, qty: 5, amount: '-10.00' },
    })
    const result = await receiveConfirmations(d, DATE, file, admin)
    const mine = result.discrepancies.filter((x) => x.symbol === symbol)
    expect(mine.map((x) => [x.account, x.kind])).toEqual([
      [String(a), 'qty_mismatch'],
      [String(c), 'missing'],
      [String(e), 'amount_mismatch'],
      ['999999', 'extra'],
    ])
    expect(mine[0]).toMatchObject({
      expected: { qty: -10, amount: '1500.00', settle_date: '2026-07-14' },
      confirmed: { qty: -9, amount: '1500.00', settle_date: '2026-07-14' },
      resolution: null,
    })
    expect(mine[1].confirmed).toBeNull()
    expect(mine[3].expected).toBeNull()
    expect(result.discrepancies).toHaveLength(4) // nothing else in the file disagrees

    const status = async (user: number) =>
      (
        await d
          .select({ status: settlementObligations.status, at: settlementObligations.settledAt })
          .from(settlementObligations)
          .where(and(eq(settlementObligations.tradeDate, DATE), eq(settlementObligations.userId, user)))
      )[0]
    expect((await status(b)).status).toBe('settled')
    expect((await status(f)).status).toBe('settled')
    expect(await unsettledProceeds(d, f)).toBe(0)
    for (const user of [a, c, e]) expect((await status(user)).status).toBe('disputed')
    expect(await unsettledProceeds(d, a)).toBe(150_000)
    expect(await unsettledProceeds(d, c)).toBe(60_400)

    // the same file again changes nothing; another file for the date is refused
    const again = await receiveConfirmations(d, DATE, file, admin)
    expect(again).toMatchObject({ replayed: true, settled: result.settled })
    expect(again.discrepancies.map((x) => x.id)).toEqual(result.discrepancies.map((x) => x.id))
    const other = receiveConfirmations(d, DATE, confirm(submission.csv), admin)
    expect(other).rejects.toMatchObject({ status: 409, code: 'confirmations_already_received' })
    await other.catch(() => {})

    // the queue: open ones, oldest first, paged
    const open = await listDiscrepancies(d, { status: 'open', date: DATE, limit: 2 })
    expect(open.map((x) => x.id)).toEqual(result.discrepancies.slice(0, 2).map((x) => x.id))
    const next = await listDiscrepancies(d, { status: 'open', date: DATE, limit: 2, after: open[1].id })
    expect(next.map((x) => x.id)).toEqual(result.discrepancies.slice(2, 4).map((x) => x.id))

    // an admin settles a's (their side was corrected) and closes the extra line
    const [qty, , , extra] = mine
    const settled = await resolveDiscrepancy(d, qty.id, { action: 'settle', note: 'CH corrected to -10' }, admin)
    expect(settled).toMatchObject({ resolution: 'settled', resolvedBy: admin, note: 'CH corrected to -10' })
    expect((await status(a)).status).toBe('settled')
    expect(await unsettledProceeds(d, a)).toBe(0)
    const twice = resolveDiscrepancy(d, qty.id, { action: 'close', note: 'again' }, admin)
    expect(twice).rejects.toMatchObject({ status: 409, code: 'already_resolved' })
    await twice.catch(() => {})
    const settleExtra = resolveDiscrepancy(d, extra.id, { action: 'settle', note: 'x' }, admin)
    expect(settleExtra).rejects.toMatchObject({ status: 422, code: 'nothing_to_settle' })
    await settleExtra.catch(() => {})
    await resolveDiscrepancy(d, extra.id, { action: 'close', note: 'not our account' }, admin)
    // closing c's (handled outside): its obligation is closed, its proceeds no longer held
    const missing = mine[1]
    await resolveDiscrepancy(d, missing.id, { action: 'close', note: 'failed, bought in by ops' }, admin)
    expect((await status(c)).status).toBe('closed')
    expect(await unsettledProceeds(d, c)).toBe(0)
    const left = await listDiscrepancies(d, { status: 'open', date: DATE, limit: 10 })
    expect(left.map((x) => x.account)).toEqual([String(e)])
    const resolved = await listDiscrepancies(d, { status: 'resolved', date: DATE, limit: 10 })
    expect(resolved.map((x) => [x.account, x.resolution])).toEqual([
      [String(a), 'settled'],
      [String(c), 'closed'],
      ['999999', 'closed'],
    ])

    // every step is in the admin's audit chain
    expect(await verifyAuditChain(d, admin)).toMatchObject({ valid: true, length: 4 })
  }, 30_000)

  test('a file that cannot be read, or confirms another date, is refused whole', async () => {
    const admin = await newTrader()
    const bad = receiveConfirmations(d, DATE, 'trade_date,settle_date\n', admin)
    expect(bad).rejects.toMatchObject({ status: 422, code: 'invalid_clearing_file', extra: { line: 1 } })
    await bad.catch(() => {})
    const header = 'trade_date,settle_date,account,symbol,net_qty,net_amount\n'
    const body = `${header}2026-07-14,2026-07-15,1,AAPL,1,-1.00\n`
    const otherDay = `${body}TRAILER,1,1,-1.00,${await sha256Hex(body)}\n`
    const wrong = receiveConfirmations(d, DATE, otherDay, admin)
    expect(wrong).rejects.toMatchObject({ status: 422, code: 'trade_date_mismatch' })
    await wrong.catch(() => {})
    const zeros = `${header}2026-07-13,2026-07-14,1,AAPL,1,-01.00\n`
    const leading = receiveConfirmations(d, DATE, `${zeros}TRAILER,1,1,-1.00,${await sha256Hex(zeros)}\n`, admin)
    expect(leading).rejects.toMatchObject({ status: 422, code: 'invalid_clearing_file', extra: { line: 2 } })
    await leading.catch(() => {})
    const early = receiveConfirmations(d, '2026-07-14', otherDay, admin)
    expect(early).rejects.toMatchObject({ status: 409, code: 'no_submission' })
    await early.catch(() => {})
  })
})
