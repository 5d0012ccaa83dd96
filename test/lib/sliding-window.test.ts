// The in-memory sliding window (src/lib/sliding-window.ts): @upstash/ratelimit's arithmetic.
import { describe, expect, test } from 'bun:test'
import { SlidingWindow } from '../../src/lib/sliding-window.ts'

const W = 1000 // window, ms
const T = 1_700_000_000_000 // a window boundary

describe('SlidingWindow', () => {
  test('a fresh key: the limit passes, counting down; then refused until the window ends', () => {
    const sw = new SlidingWindow()
    const seen = Array.from({ length: 4 }, (_, i) => sw.limit('k', 3, W, T + 100 + i))
    expect(seen.map((d) => [d.success, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ])
    expect(seen.every((d) => d.limit === 3 && d.reset === T + W)).toBe(true)
    expect(sw.limit('other', 3, W, T + 200).success).toBe(true)
  })

  test('the previous window counts by how much of it the sliding window still covers', () => {
    const sw = new SlidingWindow()
    for (let i = 0; i < 10; i++) sw.limit('k', 10, W, T + i)
    // 25% into the next window: floor(0.75 × 10) = 7 of the previous count, so 3 more pass
    const next = Array.from({ length: 4 }, () => sw.limit('k', 10, W, T + W + 250))
    expect(next.map((d) => d.success)).toEqual([true, true, true, false])
    expect(next[0].remaining).toBe(2)
    expect(next[0].reset).toBe(T + 2 * W)
    // half in: floor(0.5 × 10) = 5, plus the 3 of this window and this one
    expect(sw.limit('k', 10, W, T + W + 500).remaining).toBe(1)
  })

  test('refusals are not counted; a window with nothing before it starts over', () => {
    const sw = new SlidingWindow()
    for (let i = 0; i < 5; i++) sw.limit('k', 2, W, T + i) // 2 pass, 3 refused
    // half into the next window: floor(0.5 × 2) = 1, so one passes
    expect(sw.limit('k', 2, W, T + W + 500)).toMatchObject({ success: true, remaining: 0 })
    expect(sw.limit('k', 2, W, T + 3 * W).remaining).toBe(1)
  })
})
