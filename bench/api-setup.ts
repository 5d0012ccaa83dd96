// The traders bench/api.ts places orders for: registered through the API, each with TOTP
// enabled (enroll, verify, then a login with the next code, as an authenticator app would), and
// funded through the admin API (the seed's admin account) with the cash and shares the run needs.

import { enableTwoFactor, nextCode } from '../test/helpers/two-factor.ts'
import { DEMO_PASSWORD, DEMO_USERS } from '../src/db/seed.ts'

type Json = Record<string, any>

export interface Trader {
  id: number
  email: string
  side: 'buy' | 'sell'
  /** an access token from a login with a one-time code */
  token: string
  /** headers of every order request: a token from a login with a one-time code */
  headers: Record<string, string>
}

export async function call(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} }
}

async function expectOk(
  what: string,
  res: Promise<{ status: number; body: Json }>,
): Promise<Json> {
  const { status, body } = await res
  if (status < 200 || status > 299) {
    throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body)}`)
  }
  return body
}

async function login(base: string, email: string, password: string, otp?: string) {
  const body = await expectOk(
    `login ${email}`,
    call(base, 'POST', '/v1/auth/login', undefined, { email, password, ...(otp && { otp }) }),
  )
  return body.access_token as string
}

export const adminToken = (base: string) =>
  login(base, DEMO_USERS.find((u) => u.role === 'admin')!.email, DEMO_PASSWORD)

export async function referencePriceCents(base: string, symbol: string): Promise<number> {
  const list = await expectOk('GET /v1/symbols', call(base, 'GET', '/v1/symbols'))
  const rows = (Array.isArray(list) ? list : (list.symbols as Json[])) ?? []
  const row = rows.find((s: Json) => s.symbol === symbol)
  if (!row) throw new Error(`unknown symbol ${symbol}`)
  if (row.status !== 'active') throw new Error(`${symbol} is ${row.status}`)
  return Math.round(Number(row.reference_price) * 100)
}

const MAX_DEPOSIT_CENTS = 100_000_000 // POST …/deposits takes at most 1,000,000.00 at a time

/**
 * `count` traders, alternately sellers and buyers, each funded for `ordersEach` one-share orders
 * at `priceCents` (twice over: reservations are released only when the drain settles a fill).
 */
export async function makeTraders(
  base: string,
  opts: { count: number; symbol: string; priceCents: number; ordersEach: number; runId: string },
): Promise<Trader[]> {
  const admin = await adminToken(base)
  const password = 'bench-api-password'
  const one = async (k: number): Promise<Trader> => {
    const email = `bench-${opts.runId}-${k}@bench.bourse.dev`
    const side = k % 2 === 0 ? 'sell' : 'buy'
    const user = await expectOk(
      `register ${email}`,
      call(base, 'POST', '/v1/auth/register', undefined, { email, password }),
    )
    const secret = await enableTwoFactor(base, email, password)
    const token = await login(base, email, password, await nextCode(secret))
    const id = user.id as number
    if (side === 'buy') {
      let cents = 2 * opts.ordersEach * opts.priceCents
      for (let n = 0; cents > 0; n++, cents -= MAX_DEPOSIT_CENTS) {
        const amount = Math.min(cents, MAX_DEPOSIT_CENTS)
        await expectOk(
          `deposit for ${email}`,
          call(base, 'POST', `/v1/admin/accounts/${id}/deposits`, admin, {
            amount: (amount / 100).toFixed(2),
          }),
        )
      }
    } else {
      const qty = 2 * opts.ordersEach
      await expectOk(
        `transfer for ${email}`,
        call(base, 'POST', `/v1/admin/accounts/${id}/transfers`, admin, {
          symbol: opts.symbol,
          qty,
          cost_basis: ((qty * opts.priceCents) / 100).toFixed(2),
        }),
      )
    }
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    return { id, email, side, token, headers }
  }
  // one at a time: PGlite (one Postgres session) mixes up concurrent connections' bare statements
  const traders: Trader[] = []
  for (let k = 0; k < opts.count; k++) traders.push(await one(k))
  return traders
}

/** fills still in the symbol's outbox (not yet in Postgres), from the admin API */
export async function outboxSize(base: string, admin: string, symbol: string): Promise<number> {
  const body = await expectOk(
    `GET /v1/admin/books/${symbol}`,
    call(base, 'GET', `/v1/admin/books/${symbol}`, admin),
  )
  return Array.isArray(body.outbox) ? body.outbox.length : Number(body.outbox ?? 0)
}
