// applyFills: a symbol's fills reach Postgres exactly once, both sides, in one transaction per
// batch. Orders and reservations are set up the way the order gateway will (an order row, cash
// reserved through postCash 'reserve', shares through positions.reserved_qty), straight in the
// database; every test uses symbols of its own, so fill sequences never collide.
import { beforeAll, describe, expect, test } from 'bun:test'
import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import { postCash } from '../../src/accounts/ledger.ts'
import { moveCash } from '../../src/accounts/service.ts'
import { verifyAuditChain } from '../../src/audit/chain.ts'
import type { Db } from '../../src/db/client.ts'
import {
  auditLog,
  cashLedger,
  fills,
  orders,
  positions,
  users,
} from '../../src/db/schema.ts'
import type { OutboxFill } from '../../src/engine/journal.ts'
import { FillRejected, applyFills, traded } from '../../src/orders/fills.ts'
import { testDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'
import type { TestDatabase } from '../helpers/db.ts'

let db: TestDatabase
let d: Db
beforeAll(async () => {
  db = await testDatabase()
  d = db.handle.db
}, 60_000)

const { newSymbol, newTrader, giveShares, lockUser, placeBuy, placeSell, sellerAndBuyer, account, position, order } =
  orderFixtures(() => d)

let ts = Date.UTC(2026, 10, 26, 14, 30)
const fill = (
  fillSeq: number,
  taker: number,
  maker: number,
  side: 'buy' | 'sell',
  price: number,
  qty: number,
): OutboxFill => ({ fillSeq, seq: fillSeq, taker, maker, side, price, qty, ts: ++ts })

/** the ledger replays to the balance and the audit chain verifies */
async function expectBooksBalance(userId: number) {
  const [sums] = await d
    .select({
      cash: sql<number>`coalesce(sum(${cashLedger.amountCents}), 0)`.mapWith(Number),
      reserved: sql<number>`coalesce(sum(${cashLedger.reservedDeltaCents}), 0)`.mapWith(Number),
    })
    .from(cashLedger)
    .where(eq(cashLedger.userId, userId))
  const a = await account(userId)
  expect(sums).toEqual({ cash: a.cash, reserved: a.reserved })
  expect((await verifyAuditChain(d, userId)).valid).toBe(true)
}

/** every row applyFills could change, for "nothing changed" checks */
async function snapshot(userIds: number[], symbol: string) {
  const [u, p, o, f, l] = await Promise.all([
    d.select().from(users).where(inArray(users.id, userIds)).orderBy(asc(users.id)),
    d
      .select()
      .from(positions)
      .where(inArray(positions.userId, userIds))
      .orderBy(asc(positions.userId), asc(positions.symbol)),
    d.select().from(orders).where(eq(orders.symbol, symbol)).orderBy(asc(orders.id)),
    d.select().from(fills).where(eq(fills.symbol, symbol)).orderBy(asc(fills.id)),
    d
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(cashLedger)
      .where(inArray(cashLedger.userId, userIds)),
  ])
  return JSON.stringify({ u, p, o, f, l })
}

describe('applyFills', () => {
  test('seed scenario: a resting sell of 100 at 150.00 meets a buy of 100 at 150.00', async () => {
    const { symbol, seller, buyer, sell, buy } =
      await sellerAndBuyer({ shares: 100, costBasis: 1_400_000, buyerCash: 2_000_000, price: 15_000 })
    expect(await account(buyer)).toEqual({ cash: 2_000_000, reserved: 1_500_000 })

    const applied = await applyFills(d, symbol, [fill(1, buy, sell, 'buy', 15_000, 100)])
    expect(applied).toMatchObject({ applied: 1, skipped: 0, through: 1, attempts: 1 })
    // what the two users' streams show: each order filled, each account's balances and position
    const filledOrder = (id: number, userId: number, liquidity: string) => ({
      key: `fill:${symbol}:1:${id}`,
      userId,
      type: 'order',
      event: 'fill',
      // (as after the fill: nothing is held any more)
      order: expect.objectContaining({
        id, status: 'filled', filled_qty: 100, open_qty: 0, avg_fill_price: '150.00',
        reserved_cash: '0.00', reserved_qty: 0,
      }),
      fill: { fill_seq: 1, qty: 100, price: '150.00', liquidity },
    })
    expect(applied.events).toEqual([
      expect.objectContaining(filledOrder(buy, buyer, 'taker')),
      expect.objectContaining(filledOrder(sell, seller, 'maker')),
      ...[buyer, seller]
        .sort((a, b) => a - b)
        .map((u) =>
          expect.objectContaining({
            key: `fills:${symbol}:1:account:${u}`,
            type: 'account',
            ...(u === buyer
              ? { cash: '5000.00', reserved_cash: '0.00', buying_power: '5000.00' }
              : { cash: '15000.00', buying_power: '15000.00' }),
            position: { symbol, qty: u === buyer ? 100 : 0, reserved_qty: 0, cost_basis: u === buyer ? '15000.00' : '0.00' },
          }),
        ),
    ])

    expect(await account(buyer)).toEqual({ cash: 500_000, reserved: 0 })
    expect(await account(seller)).toEqual({ cash: 1_500_000, reserved: 0 })
    expect(await position(buyer, symbol)).toEqual({ qty: 100, reserved: 0, cost: 1_500_000 })
    expect(await position(seller, symbol)).toEqual({ qty: 0, reserved: 0, cost: 0 })
    for (const id of [buy, sell]) {
      const o = await order(id)
      expect(o).toMatchObject({
        status: 'filled',
        filledQty: 100,
        avgPriceCents: 15_000,
        reservedCashCents: 0,
        reservedQty: 0,
      })
      expect(o.filledAt?.getTime()).toBe(ts)
    }
    const rows = await d.select().from(fills).where(eq(fills.symbol, symbol)).orderBy(asc(fills.id))
    expect(
      rows.map((r) => [
        r.seq,
        r.orderId,
        r.counterpartyOrderId,
        r.userId,
        r.side,
        r.taker,
        r.qty,
        r.priceCents,
      ]),
    ).toEqual([
      [1, buy, sell, buyer, 'buy', true, 100, 15_000],
      [1, sell, buy, seller, 'sell', false, 100, 15_000],
    ])
    const trades = await d
      .select()
      .from(cashLedger)
      .where(and(eq(cashLedger.kind, 'trade'), eq(cashLedger.refId, `${symbol}:1`)))
      .orderBy(asc(cashLedger.id))
    expect(
      trades.map((t) => [t.userId, t.amountCents, t.reservedDeltaCents, t.symbol, t.qty]),
    ).toEqual([
      [buyer, -1_500_000, -1_500_000, symbol, 100],
      [seller, 1_500_000, 0, symbol, 100],
    ])
    const [audit] = await d
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, seller), eq(auditLog.action, 'order.fill')))
    expect(audit.data).toMatchObject({
      symbol,
      fill_seq: 1,
      order_id: sell,
      counterparty_order_id: buy,
      side: 'sell',
      taker: false,
      qty: 100,
      price_cents: 15_000,
      order_status: 'filled',
      position_qty: 0,
      position_cost_cents: 0,
      amount_cents: 1_500_000,
    })
    await expectBooksBalance(buyer)
    await expectBooksBalance(seller)
  })

  test('a buy limit at 151.00 filled at 150.00 releases the difference', async () => {
    const { symbol, buyer, sell, buy } =
      await sellerAndBuyer({ shares: 100, costBasis: 1_500_000, buyerCash: 2_000_000, price: 15_000, buyPrice: 15_100 })
    expect(await account(buyer)).toEqual({ cash: 2_000_000, reserved: 1_510_000 })

    // 40 first: 40 × 151.00 released, 40 × 150.00 paid
    await applyFills(d, symbol, [fill(1, buy, sell, 'buy', 15_000, 40)])
    expect(await account(buyer)).toEqual({ cash: 1_400_000, reserved: 906_000 })
    expect(await order(buy)).toMatchObject({
      status: 'partial',
      filledQty: 40,
      reservedCashCents: 906_000,
    })
    await applyFills(d, symbol, [fill(2, buy, sell, 'buy', 15_000, 60)])
    expect(await account(buyer)).toEqual({ cash: 500_000, reserved: 0 })
    expect(await order(buy)).toMatchObject({
      status: 'filled',
      reservedCashCents: 0,
      avgPriceCents: 15_000,
    })
    expect(await position(buyer, symbol)).toEqual({ qty: 100, reserved: 0, cost: 1_500_000 })
    await expectBooksBalance(buyer)
  })

  test('a market buy reserved at its collar (reserve_price_cents) is released at that price', async () => {
    const symbol = await newSymbol()
    const seller = await newTrader()
    const buyer = await newTrader(1_000_000)
    await giveShares(seller, symbol, 50, 500_000)
    const sell = await placeSell(seller, symbol, 50, 14_900)
    const buy = await placeBuy(buyer, symbol, 50, null, 15_750)
    expect(await account(buyer)).toEqual({ cash: 1_000_000, reserved: 787_500 })
    await applyFills(d, symbol, [fill(1, buy, sell, 'buy', 14_900, 50)])
    expect(await account(buyer)).toEqual({ cash: 255_000, reserved: 0 })
    expect(await order(buy)).toMatchObject({ status: 'filled', reservedCashCents: 0 })
    await expectBooksBalance(buyer)
  })

  test('partial fills then a second batch; VWAP and average cost rounded half up', async () => {
    const symbol = await newSymbol()
    const [s1, s2, b1, b2] = [
      await newTrader(),
      await newTrader(),
      await newTrader(5_000_000),
      await newTrader(5_000_000),
    ]
    await giveShares(s1, symbol, 100, 1_000_001)
    await giveShares(s2, symbol, 10, 100_000)
    const sellA = await placeSell(s1, symbol, 100, 10_000)
    const sellB = await placeSell(s2, symbol, 10, 10_100)
    const buyA = await placeBuy(b1, symbol, 30, 10_000)
    const buyB = await placeBuy(b2, symbol, 80, 10_100)

    // batch 1: b1 takes 30 of s1's 100
    expect(await applyFills(d, symbol, [fill(1, buyA, sellA, 'buy', 10_000, 30)])).toMatchObject({
      applied: 1,
    })
    expect(await order(sellA)).toMatchObject({
      status: 'partial',
      filledQty: 30,
      reservedQty: 70,
      avgPriceCents: 10_000,
    })
    expect(await order(buyA)).toMatchObject({ status: 'filled', filledQty: 30 })
    // cost 1,000,001 − round(1,000,001 × 30 / 100 = 300,000.3)
    expect(await position(s1, symbol)).toEqual({ qty: 70, reserved: 70, cost: 700_001 })

    // batch 2: b2 sweeps 70 from s1 at 100.00, then 10 from s2 at 101.00 (a second taker order
    // later: s2 sells into b2's resting remainder)
    const batch2 = [
      fill(2, buyB, sellA, 'buy', 10_000, 40),
      fill(3, buyB, sellA, 'buy', 10_000, 30),
      fill(4, sellB, buyB, 'sell', 10_100, 10),
    ]
    expect(await applyFills(d, symbol, batch2)).toMatchObject({
      applied: 3,
      skipped: 0,
      through: 4,
    })
    expect(await order(sellA)).toMatchObject({
      status: 'filled',
      filledQty: 100,
      reservedQty: 0,
      avgPriceCents: 10_000,
    })
    expect(await order(sellB)).toMatchObject({ status: 'filled', avgPriceCents: 10_100 })
    // (70 × 100.00 + 10 × 101.00) / 80 = 100.125 → 100.13
    expect(await order(buyB)).toMatchObject({
      status: 'filled',
      filledQty: 80,
      avgPriceCents: 10_013,
      reservedCashCents: 0,
    })
    expect(await position(s1, symbol)).toEqual({ qty: 0, reserved: 0, cost: 0 })
    expect(await position(b2, symbol)).toEqual({ qty: 80, reserved: 0, cost: 801_000 })
    // b2 reserved 80 × 101.00 and paid 801,000
    expect(await account(b2)).toEqual({ cash: 4_199_000, reserved: 0 })
    expect(await account(s1)).toEqual({ cash: 1_000_000, reserved: 0 })
    expect(await account(s2)).toEqual({ cash: 101_000, reserved: 0 })
    for (const u of [s1, s2, b1, b2]) await expectBooksBalance(u)
  })

  test('a fill reaching an order before its ack (pending) or after its cancel keeps the order right', async () => {
    const { symbol, seller, buyer, sell, buy } =
      await sellerAndBuyer({ shares: 100, costBasis: 1_000_000, buyerCash: 10_000_000, price: 10_000 })
    // the taker is still pending (the gateway has not stored the ack yet) when the drain runs
    await d.update(orders).set({ status: 'pending' }).where(eq(orders.id, buy))
    // the resting sell traded 30, then was canceled: the gateway released only the 70 still open
    await d.transaction(async (tx) => {
      await lockUser(tx, seller)
      await tx
        .update(orders)
        .set({ status: 'canceled', reservedQty: 30 })
        .where(eq(orders.id, sell))
      await tx
        .update(positions)
        .set({ reservedQty: 30 })
        .where(and(eq(positions.userId, seller), eq(positions.symbol, symbol)))
    })
    await applyFills(d, symbol, [fill(1, buy, sell, 'buy', 10_000, 30)])
    expect(await order(buy)).toMatchObject({
      status: 'partial',
      filledQty: 30,
      reservedCashCents: 700_000,
    })
    expect(await order(sell)).toMatchObject({
      status: 'canceled',
      filledQty: 30,
      reservedQty: 0,
      avgPriceCents: 10_000,
    })
    expect(await position(seller, symbol)).toEqual({ qty: 70, reserved: 0, cost: 700_000 })
    expect(await account(buyer)).toEqual({ cash: 9_700_000, reserved: 700_000 })
    await expectBooksBalance(buyer)
  })

  test('the same batch twice, overlapping batches and concurrent repeats apply each fill once', async () => {
    const { symbol, seller, buyer, sell, buy } =
      await sellerAndBuyer({ shares: 100, costBasis: 1_000_000, buyerCash: 10_000_000, price: 10_000 })
    const all = [1, 2, 3, 4, 5].map((i) => fill(i, buy, sell, 'buy', 10_000, 10))

    expect(await applyFills(d, symbol, all.slice(0, 3))).toMatchObject({
      applied: 3,
      skipped: 0,
      through: 3,
    })
    expect(await applyFills(d, symbol, all.slice(0, 3))).toMatchObject({
      applied: 0,
      skipped: 3,
      through: 3,
    })
    expect(await applyFills(d, symbol, all.slice(1, 4))).toMatchObject({
      applied: 1,
      skipped: 2,
      through: 4,
    })
    // the same fill twice in one batch counts once
    expect(await applyFills(d, symbol, [all[3], all[3]])).toMatchObject({
      applied: 0,
      skipped: 2,
      through: 4,
    })
    const twice = await Promise.all([applyFills(d, symbol, all), applyFills(d, symbol, all)])
    expect(twice.map((r) => r.applied).sort()).toEqual([0, 1])

    expect(await account(buyer)).toEqual({ cash: 9_500_000, reserved: 500_000 })
    expect(await account(seller)).toEqual({ cash: 500_000, reserved: 0 })
    expect(await position(buyer, symbol)).toEqual({ qty: 50, reserved: 0, cost: 500_000 })
    expect(await position(seller, symbol)).toEqual({ qty: 50, reserved: 50, cost: 500_000 })
    expect(await order(buy)).toMatchObject({ status: 'partial', filledQty: 50 })
    const [{ n }] = await d
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(cashLedger)
      .where(and(eq(cashLedger.kind, 'trade'), sql`${cashLedger.refId} LIKE ${symbol + ':%'}`))
    expect(n).toBe(10)
    await expectBooksBalance(buyer)
    await expectBooksBalance(seller)
  })

  test('a different fill under a fill sequence already applied, or a gap, is refused', async () => {
    const { symbol, seller, buyer, sell, buy } =
      await sellerAndBuyer({ shares: 100, costBasis: 1_000_000, buyerCash: 10_000_000, price: 10_000 })
    await applyFills(d, symbol, [fill(1, buy, sell, 'buy', 10_000, 10)])
    const before = await snapshot([buyer, seller], symbol)
    const refusal = (batch: OutboxFill[]) =>
      applyFills(d, symbol, batch).then(
        () => 'applied',
        (e: Error) => `${e.name}: ${e.message}`,
      )
    // e.g. a Durable Object whose storage was reset numbers its fills from 1 again
    expect(await refusal([fill(1, buy, sell, 'buy', 10_000, 20)])).toMatch(
      /fill #1: already applied as a different fill/,
    )
    expect(await refusal([fill(3, buy, sell, 'buy', 10_000, 10)])).toMatch(
      /fill #3: out of sequence/,
    )
    expect(await snapshot([buyer, seller], symbol)).toBe(before)
  })

  test('an invalid fill aborts the whole batch and changes nothing', async () => {
    const symbol = await newSymbol()
    const other = await newSymbol()
    const [seller, buyer, poor] = [
      await newTrader(),
      await newTrader(10_000_000),
      await newTrader(100_000),
    ]
    await giveShares(seller, symbol, 100, 1_000_000)
    await giveShares(buyer, other, 10, 100_000)
    await giveShares(buyer, symbol, 10, 100_000)
    const sell = await placeSell(seller, symbol, 50, 10_000)
    const buy = await placeBuy(buyer, symbol, 100, 10_100)
    const ownSell = await placeSell(buyer, symbol, 10, 10_000)
    const elsewhere = await placeSell(buyer, other, 10, 10_000)
    const small = await placeBuy(poor, symbol, 10, 10_000)
    const ok = fill(1, buy, sell, 'buy', 10_000, 20)
    const cases: [OutboxFill, RegExp][] = [
      [fill(2, buy, sell, 'buy', 10_000, 31), /would fill 51 of 50/],
      [fill(2, buy, 999_999_999, 'buy', 10_000, 1), /unknown order 999999999/],
      [fill(2, buy, elsewhere, 'buy', 10_000, 1), /is an order of F/],
      [fill(2, buy, ownSell, 'buy', 10_000, 1), /self-trade/],
      [fill(2, buy, sell, 'buy', 10_200, 1), /above order \d+'s reserve price 10100/],
      [fill(2, sell, buy, 'sell', 9_900, 1), /below order \d+'s limit 10000/],
      [fill(2, sell, small, 'buy', 10_000, 1), /must be a buy/],
      [fill(2, buy, sell, 'buy', 10_000, 0), /malformed fill/],
    ]
    const everyone = [seller, buyer, poor]
    const before = await snapshot(everyone, symbol)
    for (const [bad, message] of cases) {
      const err = await applyFills(d, symbol, [ok, bad]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(FillRejected)
      expect((err as Error).message).toMatch(message)
      expect(await snapshot(everyone, symbol)).toBe(before)
    }

    // a seller whose reservation was released behind the drain's back: the position's
    // reserved_qty would go negative
    await d
      .update(positions)
      .set({ reservedQty: 0 })
      .where(and(eq(positions.userId, seller), eq(positions.symbol, symbol)))
    const err = await applyFills(d, symbol, [ok]).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/holds 0 reserved of 100/)
    // a buyer whose account holds less reserved cash than the order says
    await d
      .update(positions)
      .set({ reservedQty: 50 })
      .where(and(eq(positions.userId, seller), eq(positions.symbol, symbol)))
    await d.transaction((tx) =>
      postCash(tx, { userId: buyer, kind: 'release', cashDelta: 0, reservedDelta: -1_000_000 }),
    )
    const err2 = await applyFills(d, symbol, [ok]).catch((e: unknown) => e)
    expect((err2 as Error).message).toMatch(/cash cannot take -200000 cents with -202000 reserved/)
    expect(await d.select().from(fills).where(eq(fills.symbol, symbol))).toEqual([])
  })

  test('concurrent batches of two symbols for the same users lose no update', async () => {
    const [x, y] = [await newSymbol(), await newSymbol()]
    const a = await newTrader(10_000_000)
    const b = await newTrader(10_000_000)
    await giveShares(a, x, 200, 2_000_000)
    await giveShares(b, y, 200, 2_000_000)
    // a sells x to b, b sells y to a, 20 fills each, in batches of 2, both drains at once
    const sellX = await placeSell(a, x, 200, 10_000)
    const buyX = await placeBuy(b, x, 200, 10_500)
    const sellY = await placeSell(b, y, 200, 9_000)
    const buyY = await placeBuy(a, y, 200, 9_500)
    const fx = Array.from({ length: 20 }, (_, i) => fill(i + 1, buyX, sellX, 'buy', 10_000 + i, 10))
    const fy = Array.from({ length: 20 }, (_, i) => fill(i + 1, sellY, buyY, 'sell', 9_500 - i, 10))
    const drain = async (symbol: string, all: OutboxFill[]) => {
      for (let i = 0; i < all.length; i += 2) await applyFills(d, symbol, all.slice(i, i + 2))
    }
    // and deposits to both, meanwhile: other money changes of the same users
    const deposits = async () => {
      for (let i = 0; i < 10; i++)
        await Promise.all([moveCash(d, a, 'deposit', 100), moveCash(d, b, 'deposit', 100)])
    }
    await Promise.all([drain(x, fx), drain(y, fy), deposits()])

    const paidX = fx.reduce((s, f) => s + f.qty * f.price, 0)
    const paidY = fy.reduce((s, f) => s + f.qty * f.price, 0)
    expect(await account(a)).toEqual({ cash: 10_001_000 + paidX - paidY, reserved: 0 })
    expect(await account(b)).toEqual({ cash: 10_001_000 - paidX + paidY, reserved: 0 })
    expect(await position(a, y)).toEqual({ qty: 200, reserved: 0, cost: paidY })
    expect(await position(b, x)).toEqual({ qty: 200, reserved: 0, cost: paidX })
    expect(await position(a, x)).toEqual({ qty: 0, reserved: 0, cost: 0 })
    await expectBooksBalance(a)
    await expectBooksBalance(b)
  })

  // A deadlock needs two sessions; PGlite is one (its transactions never interleave).
  test.skipIf(!process.env.DATABASE_URL)(
    'a deadlock victim is retried and applies once',
    async () => {
      const { symbol, seller, buyer, sell, buy } =
        await sellerAndBuyer({ shares: 100, costBasis: 1_000_000, buyerCash: 10_000_000, price: 10_000 })
      // another transaction, locking against the drain's order: an order first, then its user
      const other = await db.handle.pool.connect()
      try {
        await other.query('BEGIN')
        await other.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [sell])
        const applying = applyFills(d, symbol, [fill(1, buy, sell, 'buy', 10_000, 100)])
        await Bun.sleep(200) // the drain holds both users and waits for the order
        await other.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [seller])
        await other.query('COMMIT')
        expect(await applying).toMatchObject({ applied: 1, attempts: 2 })
      } finally {
        other.release()
      }
      expect(await account(buyer)).toEqual({ cash: 9_000_000, reserved: 0 })
      expect(await account(seller)).toEqual({ cash: 1_000_000, reserved: 0 })
      await expectBooksBalance(seller)
    },
  )

  test('conservation: random trading across users moves cash and shares, never creates them', async () => {
    let seed = 20261126
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const syms = [await newSymbol(), await newSymbol()]
    const traders: number[] = []
    for (let i = 0; i < 4; i++) traders.push(await newTrader(3_000_000))
    for (const s of syms)
      for (const t of traders) await giveShares(t, s, 100, 1_000_000 + rand(1000))
    const totals = async () => {
      const [c] = await d
        .select({
          cash: sql<number>`sum(${users.cashCents})`.mapWith(Number),
          reserved: sql<number>`sum(${users.reservedCashCents})`.mapWith(Number),
        })
        .from(users)
        .where(inArray(users.id, traders))
      const q = await d
        .select({
          symbol: positions.symbol,
          qty: sql<number>`sum(${positions.qty})`.mapWith(Number),
          cost: sql<number>`sum(${positions.costCents})`.mapWith(Number),
        })
        .from(positions)
        .where(inArray(positions.symbol, syms))
        .groupBy(positions.symbol)
        .orderBy(positions.symbol)
      return { ...c, qty: q.map((r) => r.qty), cost: q.reduce((s, r) => s + r.cost, 0) }
    }
    const before = await totals()

    // each symbol: every trader rests a sell of 40 and a buy of 40; fills pair random open
    // orders of different traders at a price between the sell's and the buy's limit
    let realized = 0
    const costs = new Map<string, { qty: number; cost: number }>()
    for (const p of await d.select().from(positions).where(inArray(positions.symbol, syms))) {
      costs.set(`${p.userId}:${p.symbol}`, { qty: p.qty, cost: p.costCents })
    }
    for (const symbol of syms) {
      const sells = []
      const buys = []
      for (const t of traders) {
        const limit = 9_900 + rand(100)
        sells.push({ id: await placeSell(t, symbol, 40, limit), user: t, left: 40, limit })
        const bid = 10_000 + rand(100)
        buys.push({ id: await placeBuy(t, symbol, 40, bid), user: t, left: 40, limit: bid })
      }
      const fs: OutboxFill[] = []
      for (let k = 0; k < 60; k++) {
        const s = sells[rand(sells.length)]
        const b = buys[rand(buys.length)]
        if (s.user === b.user || s.left === 0 || b.left === 0) continue
        const qty = 1 + rand(Math.min(s.left, b.left))
        const price = s.limit + rand(b.limit - s.limit + 1)
        s.left -= qty
        b.left -= qty
        const takerBuys = rand(2) === 0
        fs.push(
          fill(
            fs.length + 1,
            takerBuys ? b.id : s.id,
            takerBuys ? s.id : b.id,
            takerBuys ? 'buy' : 'sell',
            price,
            qty,
          ),
        )
        const seller = costs.get(`${s.user}:${symbol}`)!
        const removed =
          qty === seller.qty
            ? seller.cost
            : Math.floor((seller.cost * qty * 2 + seller.qty) / (2 * seller.qty))
        realized += qty * price - removed
        seller.cost -= removed
        seller.qty -= qty
        const buyer = costs.get(`${b.user}:${symbol}`)!
        buyer.qty += qty
        buyer.cost += qty * price
      }
      // drained in random overlapping batches, some of them twice
      let at = 0
      while (at < fs.length) {
        const from = Math.max(0, at - rand(3))
        const to = Math.min(fs.length, at + 1 + rand(8))
        await applyFills(d, symbol, fs.slice(from, to))
        if (rand(3) === 0) await applyFills(d, symbol, fs.slice(from, to))
        at = to
      }
    }

    const after = await totals()
    expect(after.cash).toBe(before.cash)
    expect(after.qty).toEqual(before.qty)
    // what the reserved totals still hold is exactly the open orders' reservations
    const [open] = await d
      .select({ cash: sql<number>`sum(${orders.reservedCashCents})`.mapWith(Number) })
      .from(orders)
      .where(inArray(orders.symbol, syms))
    expect(after.reserved).toBe(open.cash)
    // cost basis changes only by the realized gains and losses
    expect(after.cost - before.cost).toBe(realized)
    for (const p of await d.select().from(positions).where(inArray(positions.symbol, syms))) {
      expect({ qty: p.qty, cost: p.costCents }).toEqual(costs.get(`${p.userId}:${p.symbol}`)!)
    }
    for (const o of await d.select().from(orders).where(inArray(orders.symbol, syms))) {
      const [f] = await d
        .select({ qty: sql<number>`coalesce(sum(${fills.qty}), 0)`.mapWith(Number) })
        .from(fills)
        .where(eq(fills.orderId, o.id))
      expect(o.filledQty).toBe(f.qty)
      expect(o.side === 'sell' ? o.reservedQty : o.reservedCashCents).toBe(
        (o.qty - o.filledQty) * (o.side === 'sell' ? 1 : o.priceCents!),
      )
    }
    for (const t of traders) await expectBooksBalance(t)
  })
})

describe('average cost, long and short (traded)', () => {
  test('opening, adding and closing a long', () => {
    let p = traded({ qty: 0, costCents: 0 }, 10, 100)
    p = traded(p, 5, 130)
    expect(p).toEqual({ qty: 15, costCents: 1_650 })
    p = traded(p, -5, 200) // a third of the cost goes
    expect(p).toEqual({ qty: 10, costCents: 1_100 })
    expect(traded(p, -10, 1)).toEqual({ qty: 0, costCents: 0 })
  })

  test('a short is the mirror image: its cost is the proceeds, covering takes its share', () => {
    let p = traded({ qty: 0, costCents: 0 }, -3, 1_000)
    p = traded(p, -1, 1_100)
    expect(p).toEqual({ qty: -4, costCents: -4_100 })
    p = traded(p, 3, 900) // covers 3 of 4: −4,100 × 3/4 = −3,075 (half away from zero)
    expect(p).toEqual({ qty: -1, costCents: -1_025 })
  })

  test('through zero: closes at average cost, opens the rest at the trade price', () => {
    expect(traded({ qty: 2, costCents: 300 }, -5, 200)).toEqual({ qty: -3, costCents: -600 })
    expect(traded({ qty: -2, costCents: -300 }, 5, 200)).toEqual({ qty: 3, costCents: 600 })
  })
})
