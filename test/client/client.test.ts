// The typed client (src/client) against the real app in process: answers arrive as the server's
// types, refusals as ApiError carrying the problem body as the API sent it. The terminal's login
// relies on otp_required, its ticket on the refusals' code, detail and field list.
import { beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { ApiError, createClient, wireChecksum } from '../../src/client/index.ts'
import type { OrderBody, WireLevel } from '../../src/client/index.ts'
import { formatCents } from '../../src/lib/money.ts'
import { depthChecksum } from '../../src/marketdata/protocol.ts'
import { PASSWORD, uniqueEmail } from '../helpers/app.ts'
import type { Vars } from '../../src/env.ts'
import { nextCode, turnOnTwoFactor } from '../helpers/two-factor.ts'
import { inProcessApp } from '../helpers/in-process-app.ts'

const BASE = 'http://bourse.test'
// the symbols' books in process, so orders can be placed, amended and canceled
const { app, fixtures, open } = inProcessApp()
let env: Vars

beforeAll(async () => {
  ;({ env } = await open())
}, 60_000)

/** the client over the app in process, with a token when given */
const client = (token?: string) =>
  createClient(BASE, {
    token,
    fetch: async (url, init) => app.request(url, init, env),
  })

/** the ApiError a call is refused with */
async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ApiError)
  return err as ApiError
}

describe('typed client', () => {
  test('register, log in, read the account, positions and orders as the server shapes them', async () => {
    const email = uniqueEmail('client')
    const registered = await client().register({ email, password: PASSWORD })
    expect(registered.email).toBe(email)
    const tokens = await client().login({ email, password: PASSWORD })
    expect(tokens.token_type).toBe('Bearer')

    const me = client(tokens.access_token)
    const account = await me.account()
    expect(account).toMatchObject({ id: registered.id, email, cash: '0.00', two_factor: 'disabled' })
    expect((await me.positions()).positions).toEqual([])
    expect(await me.orders()).toEqual({ orders: [], next_cursor: null })
  })

  test('refusals carry the problem body: code, detail, status and its extras', async () => {
    const wrong = await refusal(client().login({ email: uniqueEmail('nobody'), password: PASSWORD }))
    expect(wrong.status).toBe(401)
    expect(wrong.code).toBe('invalid_credentials')
    expect(wrong.problem).toMatchObject({
      status: 401,
      instance: '/v1/auth/login',
      detail: 'Email or password is wrong',
    })
    expect(wrong.message).toBe('invalid_credentials: Email or password is wrong')

    const anonymous = await refusal(client().account())
    expect(anonymous.code).toBe('unauthorized')
    expect(anonymous.problem.reason).toBe('token_missing')
  })

  test('with two-factor on, a login without the code is otp_required; with it, orders get past 2FA', async () => {
    const email = uniqueEmail('client-2fa')
    await client().register({ email, password: PASSWORD })
    const plain = client((await client().login({ email, password: PASSWORD })).access_token)

    // a token without the second factor may read but not trade
    const order: OrderBody = {
      symbol: 'AAPL',
      side: 'buy',
      type: 'limit',
      qty: 1,
      price: '1.00',
      time_in_force: 'day',
    }
    expect((await refusal(plain.placeOrder(order))).code).toBe('two_factor_required')

    const secret = await turnOnTwoFactor(plain)
    expect((await refusal(client().login({ email, password: PASSWORD }))).code).toBe('otp_required')
    const { access_token } = await client().login({ email, password: PASSWORD, otp: await nextCode(secret) })

    // past the second factor: the body's own refusal, naming the field
    const bad = await refusal(client(access_token).placeOrder({ ...order, qty: 0 }))
    expect(bad.status).toBe(400)
    expect(bad.code).toBe('invalid_request')
    expect(bad.problem.errors).toEqual([expect.objectContaining({ path: 'qty' })])
  })
})

describe('orders and sessions through the client', () => {
  /** a funded trader past the second factor: the client and the login's tokens */
  async function trader() {
    const email = uniqueEmail('client-trader')
    await client().register({ email, password: PASSWORD })
    const plain = await client().login({ email, password: PASSWORD })
    const secret = await turnOnTwoFactor(client(plain.access_token))
    const tokens = await client().login({ email, password: PASSWORD, otp: await nextCode(secret) })
    const me = client(tokens.access_token)
    await me.deposit('10000.00', { idempotencyKey: crypto.randomUUID() })
    return { me, tokens }
  }

  test('a batch, an amend down and a cancel, as the server answers them', async () => {
    const symbol = await fixtures.newSymbol() // reference 150.00
    const { me } = await trader()
    const buy = (price: string): OrderBody => ({ symbol, side: 'buy', type: 'limit', qty: 10, price, time_in_force: 'gtc' })
    const batch = await me.placeBatch([buy('140.00'), buy('141.00'), { ...buy('1.00'), qty: 0 }], {
      idempotencyKey: crypto.randomUUID(),
    })
    expect({ placed: batch.placed, refused: batch.refused }).toEqual({ placed: 2, refused: 1 })
    const [first, second] = batch.results.map((r) => ('order' in r && r.order ? r.order.id : 0))

    const amended = await me.amendOrder(first, 4)
    expect(amended).toMatchObject({ id: first, open_qty: 4, reduced_by: 6 })
    expect((await refusal(me.amendOrder(first, 9))).status).toBe(422)

    const canceled = await me.cancelOrder(second)
    expect(canceled).toMatchObject({ id: second, status: 'canceled', canceled_qty: 10 })
    const open = await me.orders({ symbol, status: 'open' })
    expect(open.orders.map((o) => o.id)).toEqual([first])
  })

  test('cash and shares: a withdrawal, a transfer in, the ledger page by page and the month’s statement', async () => {
    const symbol = await fixtures.newSymbol()
    const { me } = await trader()
    const withdrawal = await me.withdraw('100.00', { idempotencyKey: crypto.randomUUID() })
    expect(withdrawal).toMatchObject({ kind: 'withdrawal', cash_after: '9900.00' })
    const transfer = await me.transferShares({ symbol, qty: 5, cost_basis: '700.00' }, { idempotencyKey: crypto.randomUUID() })
    expect(transfer.position).toMatchObject({ symbol, qty: 5, cost_basis: '700.00' })

    const page = await me.ledger({ limit: 2 })
    expect(page.entries.map((e) => e.id)).toEqual([transfer.entry.id, withdrawal.id])
    expect(page.next_before).toBe(withdrawal.id)
    const rest = await me.ledger({ before: page.next_before! })
    expect(rest.entries.map((e) => e.kind)).toEqual(['deposit'])
    expect(await me.ledgerEntry(withdrawal.id)).toEqual(withdrawal)

    const csv = await me.statement(new Date().toISOString().slice(0, 7))
    expect(typeof csv).toBe('string')
    expect(csv).toContain('100.00')
    expect((await refusal(me.statement('2026-13'))).status).toBe(400)
  })

  test('a password change, a logout everywhere, two-factor turned off with a code', async () => {
    const email = uniqueEmail('client-password')
    await client().register({ email, password: PASSWORD })
    const first = await client().login({ email, password: PASSWORD })
    const me = client(first.access_token)
    const passphrase = 'another long passphrase'
    expect(await me.changePassword({ current_password: PASSWORD, new_password: passphrase })).toBeUndefined()
    expect((await refusal(client().login({ email, password: PASSWORD }))).code).toBe('invalid_credentials')
    const second = await client().login({ email, password: passphrase })

    expect(await client(second.access_token).logoutAll()).toBeUndefined()
    for (const { refresh_token } of [first, second]) {
      expect((await refusal(client().refresh(refresh_token))).problem.reason).toBe('invalid_refresh_token')
    }

    const third = client((await client().login({ email, password: passphrase })).access_token)
    const secret = await turnOnTwoFactor(third)
    expect(await third.disableTotp(await nextCode(secret))).toEqual({ two_factor_enabled: false })
    expect((await third.account()).two_factor).toBe('disabled')
  })

  test('refresh rotates the pair (the old refresh token then revokes the family); logout ends the session', async () => {
    const { tokens } = await trader()
    const rotated = await client().refresh(tokens.refresh_token)
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token)
    expect((await client(rotated.access_token).account()).two_factor).toBe('enabled')

    const again = await client().refresh(rotated.refresh_token)
    expect(await client().logout(again.refresh_token)).toBeUndefined()
    expect((await refusal(client().refresh(again.refresh_token))).problem.reason).toBe('invalid_refresh_token')
  })
})

describe('depth checksum', () => {
  test("over the wire's levels, the server's sum over its own: any book, any depth", () => {
    const level = fc.tuple(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 1e6 }))
    const side = fc.array(level, { maxLength: 30 })
    const wire = (levels: [number, number][]) => levels.map(([p, q]): WireLevel => [formatCents(p), q])
    fc.assert(
      fc.property(side, side, (bids, asks) => {
        expect(wireChecksum(wire(bids), wire(asks))).toBe(depthChecksum(bids, asks))
      }),
    )
  })
})
