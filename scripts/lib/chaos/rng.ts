// A seeded PRNG (mulberry32): the chaos harness draws its stream and its faults from it, so a
// seed replays the same run on the same commit.

export interface Rng {
  /** uniform in [0, 1) */
  next(): number
  /** an integer in [0, n) */
  int(n: number): number
  pick<T>(xs: readonly T[]): T
  chance(p: number): boolean
}

export function seededRng(seed: number): Rng {
  let state = seed | 0
  const next = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return { next, int, pick: (xs) => xs[int(xs.length)], chance: (p) => next() < p }
}
