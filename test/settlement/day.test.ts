// A full simulated day, with the real parts in one process: orders matched by the WASM book at a
// fixed clock, fills drained to Postgres, the end of day, the clearing submission, the simulated
// clearinghouse's CLI injecting three mismatches, reconciliation: exactly those three are queued,
// everything else is settled, and the ledger, the positions and the reconciliation all balance.
import { beforeAll, describe, expect, test } from 'bun:test'
import { and, eq, inArray, sql } from 'drizzle-orm'
import { execFileSync } from 'node:child_process'
import { reconcilePositions } from '../../src/accounts/reconciliation.ts'
import type { Difference } from '../../src/accounts/reconciliation.ts'
import { unsettledProceeds } from '../../src/accounts/service.ts'
import type { Db } from '../../src/db/client.ts'
import { cashLedger, positions, settlementObligations, users } from '../../src/db/schema.ts'
import { drainOutbox } from '../../src/orders/drain.ts'
import { receiveConfirmations } from '../../src/settlement/confirmations.ts'
import { runEndOfDay } from '../../src/settlement/eod.ts'
import { clearingSubmission } from '../../src/settlement/service.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'
import { newJournal } from '../helpers/sqlite-store.ts'

let d: Db
beforeAll(async () => {
  d = (await testDatabase()).handle.db
}, 60_000)

const { newSymbol, newTrader, giveShares, placeBuy, placeSell, order } = orderFixtures(() => d)

/** a Monday of this file's own: trading at 11:00 New York, the end of day after the close */
const DATE = '2026-08-03'
const TRADING = Date.parse('2026-08-03T15:00:00Z')
const AFTER_CLOSE = Date.parse('2026-08-03T21:00:00Z')

describe('a simulated day', () => {
  test('trades → end of day → submission → confirmations with three mismatches → exactly those queued, the rest settled, everything balanced', async () => {
    const [s1, s2] = [await newSymbol(), await newSymbol()]
    const t1 = await newTrader(1_000_000)
    const t2 = await newTrader(1_000_000)
    const t3 = await newTrader(1_000_000)
    const t4 = await newTrader(10_000_000)
    const admin = await newTrader()
    const mine = [t1, t2, t3, t4]
    await giveShares(t1, s1, 50, 450_000)
    await giveShares(t2, s1, 10, 90_000)
    await giveShares(t3, s2, 5, 90_000)

    const books = new Map(
      [s1, s2].map((s) => {
        return [s, newJournal({ now: () => TRADING })]
      }),
    )
    const book = (s: string) => books.get(s)!
    const sell = async (user: number, s: string, qty: number, price: number) =>
      book(s).submit({ id: await placeSell(user, s, qty, price), user, side: 'sell', type: 'limit', qty, price, tif: 'GTC' })
    const buy = async (user: number, s: string, qty: number, price: number, tif: 'GTC' | 'DAY' = 'GTC') => {
      const id = await placeBuy(user, s, qty, price)
      book(s).submit({ id, user, side: 'buy', type: 'limit', qty, price, tif })
      return id
    }
    await sell(t1, s1, 50, 10_000)
    await buy(t4, s1, 30, 10_000)
    await buy(t4, s1, 20, 10_100) // fills at 100.00, the resting price
    await sell(t2, s1, 10, 10_050)
    await buy(t3, s1, 10, 10_050)
    await sell(t3, s2, 5, 20_000)
    await buy(t1, s2, 5, 20_000)
    const resting = await buy(t4, s1, 10, 9_000, 'DAY') // expires at the close
    for (const s of [s1, s2]) await drainOutbox(book(s), d, s)

    const closers = (s: string) => ({
      closeDay: async () => {
        const journal = books.get(s)
        return { expired: journal ? journal.close().events.filter((e) => e.type === 'expired').length : 0 }
      },
    })
    expect(await runEndOfDay(d, closers, DATE, AFTER_CLOSE)).toMatchObject({ ran: true })
    for (const s of [s1, s2]) await drainOutbox(book(s), d, s)
    expect((await order(resting)).status).toBe('expired')

    const outboxes = (s: string) => ({ pendingFills: async () => books.get(s)?.pendingFills() ?? [] })
    const submission = await clearingSubmission(d, outboxes, DATE, 1)
    const lines = submission.csv.trimEnd().split('\n').slice(1, -1)
    const lineOf = (user: number, s: string) => lines.findIndex((l) => l.includes(`,${user},${s},`)) + 1
    expect(lines.filter((l) => l.includes(`,${s1},`) || l.includes(`,${s2},`))).toEqual([
      `${DATE},2026-08-04,${t1},${s1},-50,5000.00`,
      `${DATE},2026-08-04,${t1},${s2},5,-1000.00`,
      `${DATE},2026-08-04,${t2},${s1},-10,1005.00`,
      `${DATE},2026-08-04,${t3},${s1},10,-1005.00`,
      `${DATE},2026-08-04,${t3},${s2},-5,1000.00`,
      `${DATE},2026-08-04,${t4},${s1},50,-5000.00`,
    ])

    // the simulated clearinghouse, as its CLI: t2's line missing, t4's a share off, t1's S2 a cent off
    const flags = ['--missing', lineOf(t2, s1), '--qty', lineOf(t4, s1), '--amount', lineOf(t1, s2)]
    const confirmations = execFileSync('node_modules/.bin/tsx', ['scripts/clearinghouse.ts', ...flags.map(String)], {
      input: submission.csv,
    }).toString()
    const result = await receiveConfirmations(d, DATE, confirmations, admin)
    expect(result.discrepancies.map((x) => [Number(x.account), x.symbol, x.kind])).toEqual([
      [t1, s2, 'amount_mismatch'],
      [t2, s1, 'missing'],
      [t4, s1, 'qty_mismatch'],
    ])

    const obligations = await d
      .select()
      .from(settlementObligations)
      .where(and(eq(settlementObligations.tradeDate, DATE), inArray(settlementObligations.userId, mine)))
    expect(
      obligations.map((o) => `${o.userId},${o.symbol},${o.status}`).sort(),
    ).toEqual(
      [
        `${t1},${s1},settled`,
        `${t1},${s2},disputed`,
        `${t2},${s1},disputed`,
        `${t3},${s1},settled`,
        `${t3},${s2},settled`,
        `${t4},${s1},disputed`,
      ].sort(),
    )
    // t1's and t3's sales settled; t2's waits for review
    expect(await Promise.all(mine.map((u) => unsettledProceeds(d, u)))).toEqual([0, 100_500, 0, 0])

    // balanced: trading between them moved no cash in or out, and no share
    const [cash] = await d
      .select({ total: sql<number>`sum(${users.cashCents})::bigint`.mapWith(Number) })
      .from(users)
      .where(inArray(users.id, mine))
    expect(cash.total).toBe(13_000_000)
    const [deposits] = await d
      .select({ total: sql<number>`sum(${cashLedger.amountCents})::bigint`.mapWith(Number) })
      .from(cashLedger)
      .where(and(inArray(cashLedger.userId, mine), eq(cashLedger.kind, 'deposit')))
    expect(deposits.total).toBe(13_000_000)
    const held = await d
      .select({ symbol: positions.symbol, qty: sql<number>`sum(${positions.qty})::bigint`.mapWith(Number) })
      .from(positions)
      .where(inArray(positions.symbol, [s1, s2]))
      .groupBy(positions.symbol)
    expect(Object.fromEntries(held.map((h) => [h.symbol, h.qty]))).toEqual({ [s1]: 60, [s2]: 5 })
    const run = await reconcilePositions(d, 'test')
    expect((run.details as Difference[]).filter((x) => mine.includes(x.account))).toEqual([])
  }, 30_000)
})
