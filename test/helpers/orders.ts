// Orders and reservations set up the way the order gateway does (an order row, cash reserved
// through postCash 'reserve', shares through positions.reserved_qty), straight in the database,
// and reads of what fills change. Every test uses symbols of its own, so fill sequences never
// collide.
import { and, eq, sql } from 'drizzle-orm'
import { postCash } from '../../src/accounts/ledger.ts'
import { transferIn } from '../../src/accounts/service.ts'
import { appendAudit } from '../../src/audit/chain.ts'
import type { Db } from '../../src/db/client.ts'
import { orders, positions, symbols, users } from '../../src/db/schema.ts'
import { uniqueEmail } from './app.ts'

let symbolCount = 0

/** `db` is read on each call (test files open their database in beforeAll). */
export function orderFixtures(db: () => Db) {
  async function newSymbol(): Promise<string> {
    const tag = Math.random().toString(36).slice(2, 6).toUpperCase()
    const symbol = `F${(++symbolCount).toString(36).toUpperCase()}${tag}`
    await db().insert(symbols).values({ symbol, name: symbol, referencePriceCents: 15_000 })
    return symbol
  }

  async function newTrader(cashCents = 0): Promise<number> {
    const [{ id }] = await db()
      .insert(users)
      .values({ email: uniqueEmail('fills'), displayName: 'trader', passwordHash: 'x' })
      .returning({ id: users.id })
    if (cashCents > 0) {
      await db().transaction((tx) => postCash(tx, { userId: id, kind: 'deposit', cashDelta: cashCents }))
    }
    return id
  }

  const giveShares = (userId: number, symbol: string, qty: number, costBasisCents: number) =>
    transferIn(db(), userId, { symbol, qty, costBasisCents })

  const lockUser = (tx: Parameters<Parameters<Db['transaction']>[0]>[0], userId: number) =>
    tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update')

  /** What the gateway does for a buy: the order, and qty × reserve price of cash reserved. */
  async function placeBuy(
    userId: number,
    symbol: string,
    qty: number,
    price: number | null,
    reservePrice?: number,
  ): Promise<number> {
    return db().transaction(async (tx) => {
      await lockUser(tx, userId)
      const perShare = reservePrice ?? price!
      const [o] = await tx
        .insert(orders)
        .values({
          userId,
          symbol,
          side: 'buy',
          type: price === null ? 'market' : 'limit',
          timeInForce: price === null ? 'IOC' : 'GTC',
          qty,
          priceCents: price,
          reservePriceCents: reservePrice ?? null,
          status: 'open',
          reservedCashCents: qty * perShare,
        })
        .returning({ id: orders.id })
      const posted = await postCash(tx, {
        userId,
        kind: 'reserve',
        cashDelta: 0,
        reservedDelta: qty * perShare,
        refType: 'order',
        refId: String(o.id),
      })
      if (!posted.ok) throw new Error('not enough buying power')
      return o.id
    })
  }

  /** What the gateway does for a sell: the order, and qty shares reserved in the position. */
  async function placeSell(userId: number, symbol: string, qty: number, price: number) {
    return db().transaction(async (tx) => {
      await lockUser(tx, userId)
      const held = await tx
        .update(positions)
        .set({ reservedQty: sql`${positions.reservedQty} + ${qty}` })
        .where(
          and(
            eq(positions.userId, userId),
            eq(positions.symbol, symbol),
            sql`${positions.qty} - ${positions.reservedQty} >= ${qty}`,
          ),
        )
        .returning()
      if (held.length !== 1) throw new Error('not enough shares')
      const [o] = await tx
        .insert(orders)
        .values({
          userId,
          symbol,
          side: 'sell',
          type: 'limit',
          timeInForce: 'GTC',
          qty,
          priceCents: price,
          status: 'open',
          reservedQty: qty,
        })
        .returning({ id: orders.id })
      await appendAudit(tx, userId, 'order.place', { order_id: o.id, symbol, side: 'sell', qty })
      return o.id
    })
  }

  /** A new symbol, a sell of all a seller's `shares` and a buy of as many, both at `price`. */
  async function sellerAndBuyer(o: {
    shares: number
    costBasis: number
    buyerCash: number
    price: number
    buyQty?: number
    buyPrice?: number
  }) {
    const symbol = await newSymbol()
    const seller = await newTrader()
    const buyer = await newTrader(o.buyerCash)
    await giveShares(seller, symbol, o.shares, o.costBasis)
    const sell = await placeSell(seller, symbol, o.shares, o.price)
    const buy = await placeBuy(buyer, symbol, o.buyQty ?? o.shares, o.buyPrice ?? o.price)
    return { symbol, seller, buyer, sell, buy }
  }

  async function account(userId: number) {
    const [u] = await db().select().from(users).where(eq(users.id, userId))
    return { cash: u.cashCents, reserved: u.reservedCashCents }
  }

  async function position(userId: number, symbol: string) {
    const [p] = await db()
      .select()
      .from(positions)
      .where(and(eq(positions.userId, userId), eq(positions.symbol, symbol)))
    return p && { qty: p.qty, reserved: p.reservedQty, cost: p.costCents }
  }

  async function order(id: number) {
    const [o] = await db().select().from(orders).where(eq(orders.id, id))
    return o
  }

  return {
    newSymbol,
    newTrader,
    giveShares,
    lockUser,
    placeBuy,
    placeSell,
    sellerAndBuyer,
    account,
    position,
    order,
  }
}
