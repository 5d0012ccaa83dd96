// The terminal's state after a logout (src/terminal/state.ts reset): nothing of the last user's
// stays, and the panels of the old screen no longer redraw (they piled up with each login).
import { expect, test } from 'bun:test'
import { changed, on, openOrders, reset, state } from '../../src/terminal/state.ts'

const tick = () => new Promise((r) => setTimeout(r, 0))

test('reset: the last user’s data is gone and the old screen’s listeners are not called', async () => {
  let redraws = 0
  on('account', () => redraws++)
  state.email = 'alice@example.com'
  state.bids.set(19000, 10)
  state.notice = 'rate_limited — slow down'
  state.orders = [{ id: 1, status: 'open' } as (typeof state.orders)[number]]
  changed('account')
  await tick()
  expect(redraws).toBe(1)

  reset()
  changed('account')
  await tick()
  expect(redraws).toBe(1)
  expect(state.email).toBe('')
  expect(state.bids.size).toBe(0)
  expect(state.notice).toBe('')
  expect(openOrders()).toEqual([])
})
