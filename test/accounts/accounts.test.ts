import { beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { postCash } from '../../src/accounts/ledger.ts'
import { auditLog, cashLedger, positions, symbols, users } from '../../src/db/schema.ts'
import { DEMO_SYMBOLS } from '../../src/db/seed.ts'
import { newUser, testClient } from '../helpers/app.ts'
import type { TestClient } from '../helpers/app.ts'
import { testDatabase } from '../helpers/db.ts'
import type { TestDatabase } from '../helpers/db.ts'

let client: TestClient
let db: TestDatabase
beforeAll(async () => {
  client = await testClient()
  db = await testDatabase()
  await db.handle.db.insert(symbols).values(DEMO_SYMBOLS).onConflictDoNothing()
}, 60_000)

type Json = Record<string, any>
const json = async (res: Response) => (await res.json()) as Json

async function deposit(u: { auth: Record<string, string> }, amount: string, key?: string) {
  const headers = key ? { ...u.auth, 'idempotency-key': key } : u.auth
  return client.request('POST', '/v1/account/deposits', { amount }, headers)
}
async function withdraw(u: { auth: Record<string, string> }, amount: string, key?: string) {
  const headers = key ? { ...u.auth, 'idempotency-key': key } : u.auth
  return client.request('POST', '/v1/account/withdrawals', { amount }, headers)
}
const account = async (u: { auth: Record<string, string> }) =>
  json(await client.request('GET', '/v1/account', undefined, u.auth))

describe('account', () => {
  test('a new account has no cash and shows money as decimal strings', async () => {
    const u = await newUser(client, 'acct')
    const a = await account(u)
    expect(a).toMatchObject({
      id: u.id,
      email: u.email,
      cash: '0.00',
      reserved_cash: '0.00',
      available_cash: '0.00',
      two_factor_enabled: false,
    })
  })
})

describe('deposits and withdrawals', () => {
  test('deposit credits cash and writes a ledger entry with the balance after', async () => {
    const u = await newUser(client, 'dep')
    const res = await deposit(u, '100.5')
    expect(res.status).toBe(201)
    const entry = await json(res)
    expect(entry).toMatchObject({
      kind: 'deposit',
      amount: '100.50',
      cash_after: '100.50',
      reserved_after: '0.00',
    })
    const second = await json(await deposit(u, '0.05'))
    expect(second.cash_after).toBe('100.55')
    expect((await account(u)).cash).toBe('100.55')
  })

  test('withdrawal debits buying power; more than that is 422 insufficient_buying_power', async () => {
    const u = await newUser(client, 'wd')
    await deposit(u, '50.00')
    const tooMuch = await withdraw(u, '50.01')
    expect(tooMuch.status).toBe(422)
    const p = await json(tooMuch)
    expect(p).toMatchObject({
      code: 'insufficient_buying_power',
      buying_power: '50.00',
      status: 422,
    })
    const ok = await withdraw(u, '20.25')
    expect(ok.status).toBe(201)
    expect(await json(ok)).toMatchObject({
      kind: 'withdrawal',
      amount: '-20.25',
      cash_after: '29.75',
    })
    expect((await account(u)).available_cash).toBe('29.75')
  })

  test('reserved cash (held by open orders) cannot be withdrawn', async () => {
    const u = await newUser(client, 'resv')
    await deposit(u, '100.00')
    // what an open buy order does: hold part of the cash
    await db.handle.db.transaction((tx) =>
      postCash(tx, { userId: u.id, kind: 'reserve', cashDelta: 0, reservedDelta: 7000 }),
    )
    const a = await account(u)
    expect(a).toMatchObject({ cash: '100.00', reserved_cash: '70.00', available_cash: '30.00' })
    expect((await withdraw(u, '30.01')).status).toBe(422)
    expect((await withdraw(u, '30.00')).status).toBe(201)
    // the database itself refuses reserved > cash
    await expect(
      db.handle.db
        .update(users)
        .set({ reservedCashCents: 7001, auditSeq: sql`${users.auditSeq} + 1` })
        .where(eq(users.id, u.id))
        .execute(),
    ).rejects.toThrow()
  })

  test.each([
    ['1.234'],
    ['-5'],
    ['abc'],
    ['0'],
    ['0.00'],
    ['1000000.01'],
    ['01.00'],
    ['1e3'],
    [''],
    [12],
  ])('amount %p is a 400 validation problem', async (amount) => {
    const u = await newUser(client, 'bad')
    const res = await client.request('POST', '/v1/account/deposits', { amount }, u.auth)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect((await json(res)).errors[0].path).toBe('amount')
  })

  test('the largest single transfer (1000000.00) is accepted', async () => {
    const u = await newUser(client, 'big')
    expect((await json(await deposit(u, '1000000.00'))).cash_after).toBe('1000000.00')
  })

  test('Idempotency-Key: a retry returns the first entry, a different body with it is 409', async () => {
    const u = await newUser(client, 'idem')
    const first = await deposit(u, '10.00', 'dep-1')
    expect(first.status).toBe(201)
    const retry = await deposit(u, '10.00', 'dep-1')
    expect(retry.status).toBe(200)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect((await json(retry)).id).toBe((await json(first)).id)
    expect((await deposit(u, '11.00', 'dep-1')).status).toBe(409)
    expect((await withdraw(u, '10.00', 'dep-1')).status).toBe(409)
    expect((await account(u)).cash).toBe('10.00')
  })

  test('concurrent retries with one Idempotency-Key apply once', async () => {
    const u = await newUser(client, 'idemrace')
    const results = await Promise.all(Array.from({ length: 8 }, () => deposit(u, '5.00', 'same')))
    expect(results.filter((r) => r.status === 201)).toHaveLength(1)
    expect(results.filter((r) => r.status === 200)).toHaveLength(7)
    expect((await account(u)).cash).toBe('5.00')
  })

  test('concurrent withdrawals never overdraw', async () => {
    const u = await newUser(client, 'race')
    await deposit(u, '100.00')
    const results = await Promise.all(Array.from({ length: 16 }, () => withdraw(u, '10.00')))
    const statuses = results.map((r) => r.status).sort()
    expect(statuses.filter((s) => s === 201)).toHaveLength(10)
    expect(statuses.filter((s) => s === 422)).toHaveLength(6)
    expect((await account(u)).cash).toBe('0.00')
  })
})

describe('ledger', () => {
  test('pages newest first; deltas replay to the balance', async () => {
    const u = await newUser(client, 'ledger')
    for (const a of ['1.00', '2.00', '3.00', '4.00', '5.00']) await deposit(u, a)
    await withdraw(u, '6.50')
    const page1 = await json(
      await client.request('GET', '/v1/account/ledger?limit=4', undefined, u.auth),
    )
    expect(page1.entries.map((e: Json) => e.amount)).toEqual(['-6.50', '5.00', '4.00', '3.00'])
    expect(page1.next_before).toBe(page1.entries[3].id)
    const page2 = await json(
      await client.request(
        'GET',
        `/v1/account/ledger?limit=4&before=${page1.next_before}`,
        undefined,
        u.auth,
      ),
    )
    expect(page2.entries.map((e: Json) => e.amount)).toEqual(['2.00', '1.00'])
    expect(page2.next_before).toBeNull()

    const rows = await db.handle.db
      .select()
      .from(cashLedger)
      .where(eq(cashLedger.userId, u.id))
      .orderBy(cashLedger.id)
    let cash = 0
    for (const r of rows) {
      cash += r.amountCents
      expect(r.cashAfterCents).toBe(cash)
    }
    expect(cash).toBe(850)
    expect((await account(u)).cash).toBe('8.50')
  })

  test('bad paging parameters are a 400', async () => {
    const u = await newUser(client, 'ledger2')
    const res = await client.request('GET', '/v1/account/ledger?limit=0', undefined, u.auth)
    expect(res.status).toBe(400)
  })

  test('users only see their own entries', async () => {
    const a = await newUser(client, 'own-a')
    const b = await newUser(client, 'own-b')
    await deposit(a, '1.00')
    const seen = await json(await client.request('GET', '/v1/account/ledger', undefined, b.auth))
    expect(seen.entries).toEqual([])
  })
})

describe('audit trail', () => {
  /** Tampering as the superuser would: the append-only trigger (drizzle/0012) skipped. */
  const bypassingAppendOnly = (stmt: SQL) =>
    db.handle.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL session_replication_role = replica`)
      await tx.execute(stmt)
    })

  test('every change is chained; tampering with an entry is detected', async () => {
    const u = await newUser(client, 'audit')
    await deposit(u, '10.00')
    await withdraw(u, '3.00')
    const res = await json(
      await client.request('GET', '/v1/account/audit?verify=true', undefined, u.auth),
    )
    expect(res.chain).toMatchObject({ valid: true, length: 4, broken_at: null })
    expect(res.entries.map((e: Json) => e.action)).toEqual([
      'cash.withdrawal',
      'cash.deposit',
      'auth.login',
      'user.registered',
    ])
    expect(res.entries[0].prev_hash).toBe(res.entries[1].hash)
    expect(res.chain.head).toBe(res.entries[0].hash)

    await bypassingAppendOnly(
      sql`UPDATE audit_log SET data = jsonb_set(data, '{amount_cents}', '100000') WHERE user_id = ${u.id} AND seq = 3`,
    )
    const after = await json(
      await client.request('GET', '/v1/account/audit?verify=true', undefined, u.auth),
    )
    expect(after.chain).toMatchObject({ valid: false, broken_at: 3 })
  })

  test('pages newest first with a seq cursor; the chain is verified only when asked', async () => {
    const u = await newUser(client, 'audit3')
    for (const a of ['1.00', '2.00', '3.00']) await deposit(u, a)
    const page1 = await json(
      await client.request('GET', '/v1/account/audit?limit=3', undefined, u.auth),
    )
    expect(page1.chain).toBeUndefined()
    expect(page1.entries.map((e: Json) => e.seq)).toEqual([5, 4, 3])
    expect(page1.next_before).toBe(3)
    const page2 = await json(
      await client.request('GET', '/v1/account/audit?limit=3&before=3', undefined, u.auth),
    )
    expect(page2.entries.map((e: Json) => e.seq)).toEqual([2, 1])
    expect(page2.next_before).toBeNull()
    const checked = await json(
      await client.request('GET', '/v1/account/audit?limit=1&verify=true', undefined, u.auth),
    )
    expect(checked.chain).toMatchObject({ valid: true, length: 5 })
  })

  test('deleting the newest entry is detected through the head stored on the user', async () => {
    const u = await newUser(client, 'audit2')
    await deposit(u, '1.00')
    await bypassingAppendOnly(sql`DELETE FROM audit_log WHERE user_id = ${u.id} AND seq = 3`)
    const after = await json(
      await client.request('GET', '/v1/account/audit?verify=true', undefined, u.auth),
    )
    expect(after.chain.valid).toBe(false)
    const rows = await db.handle.db.select().from(auditLog).where(eq(auditLog.userId, u.id))
    expect(rows).toHaveLength(2)
  })
})

describe('positions and symbols', () => {
  test('symbols are public, with status and reference price', async () => {
    const res = await json(await client.request('GET', '/v1/symbols'))
    expect(res.symbols.map((i: Json) => i.symbol)).toEqual(
      expect.arrayContaining(['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'TSLA', 'SPY']),
    )
    expect(res.symbols.find((i: Json) => i.symbol === 'AAPL')).toEqual({
      symbol: 'AAPL',
      name: 'Apple Inc.',
      tick_size: '0.01',
      status: 'active',
      reference_price: '190.00',
      extended_hours: false,
    })
  })

  test('positions show quantity, reserved and available shares', async () => {
    const u = await newUser(client, 'pos')
    expect(await json(await client.request('GET', '/v1/positions', undefined, u.auth))).toEqual({
      positions: [],
    })
    await db.handle.db.insert(positions).values([
      { userId: u.id, symbol: 'MSFT', qty: 10, reservedQty: 4, costCents: 410_000 },
      { userId: u.id, symbol: 'AAPL', qty: 3, costCents: 57_000 },
    ])
    const res = await json(await client.request('GET', '/v1/positions', undefined, u.auth))
    expect(
      res.positions.map((p: Json) => [
        p.symbol,
        p.qty,
        p.reserved_qty,
        p.available_qty,
        p.cost_basis,
        p.avg_cost,
      ]),
    ).toEqual([
      ['AAPL', 3, 0, 3, '570.00', '190.00'],
      ['MSFT', 10, 4, 6, '4100.00', '410.00'],
    ])
    const one = await client.request('GET', '/v1/positions/MSFT', undefined, u.auth)
    expect((await json(one)).available_qty).toBe(6)
    expect((await client.request('GET', '/v1/positions/NVDA', undefined, u.auth)).status).toBe(404)
    expect((await client.request('GET', '/v1/positions/bad!', undefined, u.auth)).status).toBe(400)
    // reserved shares can never exceed the holding
    await expect(
      db.handle.db
        .update(positions)
        .set({ reservedQty: 11 })
        .where(eq(positions.userId, u.id))
        .execute(),
    ).rejects.toThrow()
  })
})
