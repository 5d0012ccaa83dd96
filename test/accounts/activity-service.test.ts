// The activity feed and the statement against Postgres, with rows dated where the API cannot put
// them (2001, where no other test writes): sources tied on one instant page without gaps or
// repeats; a fill at 23:59:59.999 New York on the month's last day belongs to that month, cash
// and all, though the drain booked it in the next; the statement reconciles and its holdings are
// today's positions with later movements undone.
import { beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { activityView, decodeCursor } from '../../src/accounts/activities.ts'
import { activityFeed, monthlyStatement } from '../../src/accounts/activity-service.ts'
import type { Db } from '../../src/db/client.ts'
import { cashLedger, fills, orders, positions, users } from '../../src/db/schema.ts'
import { nyDate } from '../../src/settlement/calendar.ts'
import { uniqueEmail } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'

let d: Db
let user: number
let symbol: string

const { newSymbol, newTrader } = orderFixtures(() => d)

const JAN_LAST_FILL = '2001-02-01T04:59:59.999Z' // 31 January, 23:59:59.999 in New York
const TIE = '2001-02-02T15:00:00.000Z'

let cashAfter = 0
const ledger = (kind: 'deposit' | 'withdrawal' | 'reserve' | 'trade' | 'transfer_in', amountCents: number, at: string, extra = {}) => {
  cashAfter += amountCents
  return d.insert(cashLedger).values({
    userId: user, kind, amountCents, cashAfterCents: cashAfter, reservedAfterCents: 0,
    createdAt: new Date(at), ...(kind === 'reserve' && { reservedDeltaCents: 100 }), ...extra,
  })
}

async function fill(side: 'buy' | 'sell', qty: number, priceCents: number, seq: number, at: string, bookedAt: string) {
  const other = await newTrader()
  const [own, theirs] = await d.insert(orders).values([user, other].map((userId, i) => ({
    userId, symbol, side: (i === 0) === (side === 'buy') ? 'buy' as const : 'sell' as const,
    type: 'limit' as const, timeInForce: 'GTC' as const, qty, priceCents,
    ...(userId === user && { status: 'filled' as const, filledQty: qty, avgPriceCents: priceCents }),
  }))).returning({ id: orders.id })
  await d.insert(fills).values({
    orderId: own.id, counterpartyOrderId: theirs.id, userId: user, symbol, seq, side, taker: true,
    qty, priceCents, ts: new Date(at),
    clearingDate: nyDate(new Date(at)), // long cleared: no submission of another test takes it
  })
  await ledger('trade', (side === 'buy' ? -1 : 1) * qty * priceCents, bookedAt, {
    symbol, qty, refType: 'fill', refId: `${symbol}:${seq}`,
  })
}

beforeAll(async () => {
  d = (await testDatabase()).handle.db
  symbol = await newSymbol()
  // the cash its ledger below adds up to (other tests check that of every user in the database)
  ;[{ id: user }] = await d
    .insert(users)
    .values({ email: uniqueEmail('activity'), displayName: 'activity', passwordHash: 'x', cashCents: 45_000 })
    .returning({ id: users.id })
  await ledger('deposit', 100_000, '2001-01-31T12:00:00.000Z')
  await ledger('reserve', 0, '2001-01-31T13:00:00.000Z') // a hold: no activity
  await fill('buy', 2, 10_000, 1, JAN_LAST_FILL, '2001-02-01T05:00:00.010Z')
  // three sources at one instant
  await fill('buy', 3, 10_000, 2, TIE, TIE)
  await ledger('withdrawal', -5_000, TIE)
  await d.execute(sql`INSERT INTO clearing_submissions (trade_date, settle_date, rows, control_qty, control_cents, checksum, csv)
    VALUES ('2001-01-31', '2001-02-01', 1, 2, 0, 'test', 'test') ON CONFLICT DO NOTHING`)
  await d.execute(sql`INSERT INTO settlement_obligations (trade_date, user_id, symbol, settle_date, qty, cash_cents, proceeds_cents, status, settled_at)
    VALUES ('2001-01-31', ${user}, ${symbol}, '2001-02-01', 2, -20000, 0, 'settled', ${TIE}::timestamptz)`)
  await ledger('transfer_in', 0, '2001-03-10T15:00:00.000Z', { symbol, qty: 5 })
  await d.insert(positions).values({ userId: user, symbol, qty: 10, costCents: 100_000 })
  expect(cashAfter).toBe(45_000)
}, 60_000)

describe('the feed from Postgres', () => {
  const ids = (activities: Parameters<typeof activityView>[0][]) => activities.map((a) => activityView(a).id)

  test('newest first across the sources, ties at one instant in a fixed order', async () => {
    const page = await activityFeed(d, user, { limit: 50 })
    expect(page.next_cursor).toBeNull()
    const types = page.activities.map((a) => a.type)
    expect(types).toEqual(['cash', 'settlement', 'cash', 'fill', 'fill', 'cash'])
    expect(activityView(page.activities[0])).toMatchObject({ kind: 'transfer_in', qty: 5 })
    expect(activityView(page.activities[2])).toMatchObject({ kind: 'withdrawal', amount: '-50.00' })
  })

  test('pages of every size and type add up to the whole, without gaps or repeats', async () => {
    for (const type of [undefined, 'fill', 'cash', 'settlement'] as const) {
      const whole = ids((await activityFeed(d, user, { type, limit: 50 })).activities)
      for (const limit of [1, 2, 4]) {
        const seen: string[] = []
        let cursor: string | null = null
        do {
          const page = await activityFeed(d, user, { type, limit, cursor: cursor ? decodeCursor(cursor) : undefined })
          seen.push(...ids(page.activities))
          cursor = page.next_cursor
        } while (cursor)
        expect(seen).toEqual(whole)
      }
    }
  })
})

describe('the statement from Postgres', () => {
  const now = new Date('2001-04-15T12:00:00.000Z')

  test('January: the last-second fill is January’s, cash and all; it reconciles', async () => {
    const jan = await monthlyStatement(d, user, '2001-01', now)
    expect(jan.openingCashCents).toBe(0)
    expect(jan.activities.map((a) => a.type)).toEqual(['cash', 'fill']) // the deposit, the fill
    expect(jan.closingCashCents).toBe(100_000 - 20_000)
    expect(jan.holdings).toEqual([{ symbol, qty: 2 }]) // 10 now, less February's 3 and March's 5
    expect(jan.asOf).toEqual(new Date('2001-02-01T05:00:00.000Z'))
  })

  test('February opens where January closed; opening + amounts = closing, each month', async () => {
    const feb = await monthlyStatement(d, user, '2001-02', now)
    expect(feb.openingCashCents).toBe(80_000)
    expect(feb.activities.map((a) => a.type)).toEqual(['fill', 'cash', 'settlement'])
    expect(feb.closingCashCents).toBe(80_000 - 30_000 - 5_000)
    expect(feb.holdings).toEqual([{ symbol, qty: 5 }])
    for (const month of ['2001-01', '2001-02', '2001-03']) {
      const s = await monthlyStatement(d, user, month, now)
      const moved = s.activities.reduce((n, a) => n + (a.type === 'settlement' ? 0 : a.type === 'fill'
        ? (a.side === 'buy' ? -1 : 1) * a.qty * a.priceCents : a.amountCents), 0)
      expect(s.openingCashCents + moved).toBe(s.closingCashCents)
    }
    // the ledger's own balance after its last entry is what the statements end with
    const mar = await monthlyStatement(d, user, '2001-03', now)
    expect(mar.closingCashCents).toBe(cashAfter)
    expect(mar.holdings).toEqual([{ symbol, qty: 10 }])
  })

  test('a month to come is refused', async () => {
    await expect(monthlyStatement(d, user, '2001-05', now)).rejects.toMatchObject({ status: 422, code: 'month_not_started' })
  })
})
