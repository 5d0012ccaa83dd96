// The whole-system checks on a database of their own: trading (our book's fills and a venue's)
// keeps money and shares conserved and every balance reconciled; a cent or a share created
// behind the write paths' back is found.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { checkInvariants } from '../../scripts/lib/invariants.ts'
import type { Db } from '../../src/db/client.ts'
import { positions, users } from '../../src/db/schema.ts'
import { drainOutbox } from '../../src/orders/drain.ts'
import { openDatabase } from '../helpers/db.ts'
import type { TestDatabase } from '../helpers/db.ts'
import { orderFixtures } from '../helpers/orders.ts'
import { newJournal } from '../helpers/sqlite-store.ts'

let own: TestDatabase
let d: Db
beforeAll(async () => {
  own = await openDatabase()
  d = own.handle.db
}, 60_000)
afterAll(async () => {
  await own?.close()
})

const { newSymbol, newTrader, giveShares, placeBuy, placeSell } = orderFixtures(() => d)

describe('checkInvariants', () => {
  test('trading conserves money and shares; a cent or a share made from nothing is found', async () => {
    const symbol = await newSymbol()
    const seller = await newTrader(10_000)
    const buyer = await newTrader(5_000_000)
    await giveShares(seller, symbol, 100, 1_000_000)
    const book = newJournal()
    const sell = await placeSell(seller, symbol, 100, 15_000)
    const buy = await placeBuy(buyer, symbol, 150, 15_100)
    book.submit({ id: sell, user: seller, side: 'sell', type: 'limit', qty: 100, price: 15_000, tif: 'GTC' })
    book.submit({ id: buy, user: buyer, side: 'buy', type: 'limit', qty: 150, price: 15_100, tif: 'GTC' })
    // the rest of the buy fills at a venue: shares and cash come in from the street
    book.venueFill({ order: buy, side: 'buy', price: 15_050, qty: 50, venue: 'NSIM', execId: 'INV-1' })
    await drainOutbox(book, d, symbol)
    expect(await checkInvariants(d)).toEqual([])

    await d
      .update(users)
      .set({ cashCents: sql`${users.cashCents} + 1`, auditSeq: sql`${users.auditSeq} + 1` })
      .where(eq(users.id, seller))
    await d
      .update(positions)
      .set({ qty: sql`${positions.qty} + 3` })
      .where(eq(positions.userId, buyer))
    const found = await checkInvariants(d)
    expect(found.map((v): string => v.check).sort()).toEqual(
      ['cash_conservation', 'reconciliation', 'reconciliation', 'share_conservation'],
    )
    expect(found.find((v) => v.check === 'share_conservation')?.detail).toMatchObject({ symbol, held: '153', expected: '150' })
  })
})
