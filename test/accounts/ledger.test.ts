// postCash: the primitive every cash change goes through (deposits and withdrawals now; order
// reservations and fill settlement in issue 4).
import { beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { postCash } from '../../src/accounts/ledger.ts'
import type { CashChange } from '../../src/accounts/ledger.ts'
import { verifyAuditChain } from '../../src/audit/chain.ts'
import { cashLedger, users } from '../../src/db/schema.ts'
import { newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'
import type { TestDatabase } from '../helpers/db.ts'

let client: TestClient
let db: TestDatabase
beforeAll(async () => {
  client = await testClient()
  db = await testDatabase()
}, 60_000)

const post = (change: CashChange) => db.handle.db.transaction((tx) => postCash(tx, change))
const balances = async (userId: number) => {
  const [u] = await db.handle.db.select().from(users).where(eq(users.id, userId))
  return [u.cashCents, u.reservedCashCents]
}

describe('postCash', () => {
  test('reserve, release and settle keep 0 ≤ reserved ≤ cash and refuse the rest', async () => {
    const { id } = await newUser(client, 'ledger-prim')
    expect((await post({ userId: id, kind: 'deposit', cashDelta: 10_000 })).ok).toBe(true)

    // reserve 60.00 of 100.00 for a buy order
    const r1 = await post({
      userId: id,
      kind: 'reserve',
      cashDelta: 0,
      reservedDelta: 6_000,
      refType: 'order',
      refId: '17',
    })
    expect(r1.ok).toBe(true)
    expect(await balances(id)).toEqual([10_000, 6_000])
    // only 40.00 is available: reserving 40.01 more is refused and changes nothing
    expect(await post({ userId: id, kind: 'reserve', cashDelta: 0, reservedDelta: 4_001 })).toEqual(
      {
        ok: false,
        reason: 'insufficient',
      },
    )
    // nor can a withdrawal take reserved cash
    expect((await post({ userId: id, kind: 'withdrawal', cashDelta: -4_001 })).ok).toBe(false)
    expect(await balances(id)).toEqual([10_000, 6_000])

    // a fill for 25.00 is paid from the reservation
    const fill = await post({
      userId: id,
      kind: 'trade',
      cashDelta: -2_500,
      reservedDelta: -2_500,
      refType: 'fill',
      refId: 'AAPL:1',
    })
    expect(fill.ok).toBe(true)
    expect(await balances(id)).toEqual([7_500, 3_500])
    // releasing more than is reserved is refused; the rest is released
    expect(
      (await post({ userId: id, kind: 'release', cashDelta: 0, reservedDelta: -3_501 })).ok,
    ).toBe(false)
    expect(
      (await post({ userId: id, kind: 'release', cashDelta: 0, reservedDelta: -3_500 })).ok,
    ).toBe(true)
    expect(await balances(id)).toEqual([7_500, 0])

    const rows = await db.handle.db
      .select()
      .from(cashLedger)
      .where(eq(cashLedger.userId, id))
      .orderBy(cashLedger.id)
    expect(
      rows.map((r) => [
        r.kind,
        r.amountCents,
        r.reservedDeltaCents,
        r.cashAfterCents,
        r.reservedAfterCents,
      ]),
    ).toEqual([
      ['deposit', 10_000, 0, 10_000, 0],
      ['reserve', 0, 6_000, 10_000, 6_000],
      ['trade', -2_500, -2_500, 7_500, 3_500],
      ['release', 0, -3_500, 7_500, 0],
    ])
    expect(rows[1].refType).toBe('order')
    expect(rows[2].refId).toBe('AAPL:1')
    // refused postings wrote neither ledger nor audit entries; the chain holds
    const chain = await verifyAuditChain(db.handle.db, id, 4) // two pages
    expect(chain.valid).toBe(true)
    expect(chain.length).toBe(2 + 4) // registered, login, four postings
  })

  test('concurrent reservations never over-reserve', async () => {
    const { id } = await newUser(client, 'ledger-race')
    await post({ userId: id, kind: 'deposit', cashDelta: 1_000 })
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        post({ userId: id, kind: 'reserve', cashDelta: 0, reservedDelta: 100 }),
      ),
    )
    expect(results.filter((r) => r.ok)).toHaveLength(10)
    expect(await balances(id)).toEqual([1_000, 1_000])
  })

  test('non-integer deltas are a programming error', async () => {
    const { id } = await newUser(client, 'ledger-int')
    await expect(post({ userId: id, kind: 'deposit', cashDelta: 1.5 })).rejects.toThrow(RangeError)
  })
})
