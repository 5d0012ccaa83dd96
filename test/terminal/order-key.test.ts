// The ticket's Idempotency-Key (src/terminal/order-key.ts): kept across retries while an order's
// fate is unknown (it used to be new on every attempt: a resubmit after a timeout placed two).
import { expect, test } from 'bun:test'
import { ApiError } from '../../src/client/index.ts'
import { orderKey } from '../../src/terminal/order-key.ts'

const problem = (status: number, code: string) =>
  new ApiError(status, { type: '', title: '', status, code, detail: code, instance: '/v1/orders' })

test('one key until the API answers: kept after a timeout, a 5xx, in flight; new after a placement or a refusal', () => {
  let n = 0
  const key = orderKey(() => `k${++n}`)
  expect(key.current()).toBe('k1')
  for (const unknown of [new TypeError('Failed to fetch'), problem(503, 'unavailable'), problem(409, 'idempotency_in_flight'), problem(429, 'rate_limited')]) {
    key.settled(unknown)
    expect(key.current()).toBe('k1')
  }
  key.settled() // placed
  expect(key.current()).toBe('k2')
  key.settled(problem(422, 'insufficient_buying_power'))
  expect(key.current()).toBe('k3')
  key.changed() // the ticket was edited: another order
  expect(key.current()).toBe('k4')
})
