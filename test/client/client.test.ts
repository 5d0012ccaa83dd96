// The typed client (src/client) against the real app in process: answers arrive as the server's
// types, refusals as ApiError carrying the problem body as the API sent it. The terminal's login
// relies on otp_required, its ticket on the refusals' code, detail and field list.
import { beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { createApp } from '../../src/app.ts'
import { ApiError, createClient, wireChecksum } from '../../src/client/index.ts'
import type { OrderBody, WireLevel } from '../../src/client/index.ts'
import { formatCents } from '../../src/lib/money.ts'
import { depthChecksum } from '../../src/marketdata/protocol.ts'
import { PASSWORD, testEnv, uniqueEmail } from '../helpers/app.ts'
import type { Vars } from '../../src/env.ts'
import { nextCode, turnOnTwoFactor } from '../helpers/two-factor.ts'

const BASE = 'http://bourse.test'
const app = createApp()
let env: Vars

beforeAll(async () => {
  env = await testEnv()
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
