// Random command streams for the property tests, biased toward the cases where books go wrong:
// few users (self-trades), few prices around a mid (crossing), ids reused (duplicates), cancels
// and amends that hit live orders, and now and then an invalid value or a close.

import fc from 'fast-check'
import { MAX_PRICE, MAX_QTY, type Command, type NewOrder } from '../../src/engine/types.ts'

const MID = 1000

/** Scales every property's numRuns: ENGINE_RUNS=20 for a long local soak. */
export const RUNS_SCALE = Number(process.env.ENGINE_RUNS ?? 1)

export const runs = (base: number) => Math.max(1, Math.round(base * RUNS_SCALE))

// ENGINE_SEED=<seed> replays the runs of a failure fast-check reported.
if (process.env.ENGINE_SEED) fc.configureGlobal({ seed: Number(process.env.ENGINE_SEED) })

/**
 * A per-test timeout that grows with RUNS_SCALE, well above the slowest property at scale 1
 * (about 18 s on a 2-vCPU machine, over 30 s while other tests load it).
 */
export const TIMEOUT = 120_000 * Math.max(1, RUNS_SCALE)

const weighted = <T>(...choices: [number, fc.Arbitrary<T>][]) =>
  fc.oneof(...choices.map(([weight, arbitrary]) => ({ weight, arbitrary })))

const badNumber = fc.constantFrom(0, -1, 2.5, NaN, Infinity, -Infinity)

/** Prices within `spread` ticks of the mid: 4 makes most orders cross, 300 makes deep books. */
const priceWithin = (spread: number) =>
  weighted(
    [40, fc.integer({ min: MID - spread, max: MID + spread })],
    [1, fc.constantFrom(1, MAX_PRICE)],
    [1, fc.oneof(badNumber, fc.constant(MAX_PRICE + 1))],
  )

const qty = weighted(
  [40, fc.integer({ min: 1, max: 10 })],
  [1, fc.constantFrom(MAX_QTY, MAX_QTY - 1)],
  [1, fc.oneof(badNumber, fc.constant(MAX_QTY + 1))],
)

/** Few users, so self-trades are common; 2^31 - 1 is the largest user id (types.ts). */
const user = weighted([30, fc.integer({ min: 1, max: 3 })], [1, fc.constant(2 ** 31 - 1)])

/** Absent is written both ways the contract allows. */
const absent = fc.constantFrom(undefined, 0)

function orderWithin(spread: number) {
  return fc.record({
    user,
    side: fc.constantFrom('buy' as const, 'sell' as const),
    type: weighted(
      [6, fc.constant('limit' as const)],
      [2, fc.constant('market' as const)],
      [2, fc.constant('stop' as const)],
      [2, fc.constant('stop_limit' as const)],
    ),
    qty,
    tif: weighted(
      [4, fc.constant('GTC' as const)],
      [3, fc.constant('DAY' as const)],
      [2, fc.constant('IOC' as const)],
      [2, fc.constant('FOK' as const)],
    ),
    postOnly: weighted(
      [7, fc.constant(undefined)],
      [2, fc.constant(false)],
      [1, fc.constant(true)],
    ),
    price: priceWithin(spread),
    stop: priceWithin(spread),
    absentPrice: absent,
    absentStop: absent,
    /** Rarely, give price and stop regardless of type (mostly invalid combinations). */
    mismatched: weighted([40, fc.constant(false)], [1, fc.constant(true)]),
    /** Reuse an earlier id (duplicate_id) instead of a fresh one. */
    reuse: weighted([12, fc.constant(false)], [1, fc.constant(true)]),
    /**
     * Fresh ids count up from 1, or, now and then, from just below 2^31, 2^32 or 2^53, so the
     * stream crosses the sign bit and the 32-bit boundary of the id's two words.
     */
    idBase: weighted(
      [16, fc.constant(0)],
      [1, fc.constantFrom(2 ** 31 - 100, 2 ** 32 - 100, Number.MAX_SAFE_INTEGER - 5000)],
    ),
    /** Or are multiples of 2^20: sparse ids that share their low bits (hash collisions). */
    sparseId: weighted([10, fc.constant(false)], [1, fc.constant(true)]),
    pick: fc.nat(),
  })
}

type Of<A> = A extends fc.Arbitrary<infer T> ? T : never

/** A cancel or amend target: mostly a recently used id, sometimes one never used. */
const target = fc.record({
  known: weighted([6, fc.constant(true)], [1, fc.constant(false)]),
  pick: fc.nat(),
})

const amendQty = weighted([6, fc.integer({ min: 1, max: 4 })], [1, badNumber])

const amend = (t: Of<typeof target>, qty: number) => ({ op: 'amend' as const, ...t, qty })

function rawWithin(spread: number) {
  return fc.oneof(
    { weight: 70, arbitrary: orderWithin(spread).map((o) => ({ op: 'new' as const, ...o })) },
    { weight: 12, arbitrary: target.map((t) => ({ op: 'cancel' as const, ...t })) },
    { weight: 10, arbitrary: fc.tuple(target, amendQty).map(([t, qty]) => amend(t, qty)) },
    { weight: 2, arbitrary: fc.constant({ op: 'close' as const }) },
  )
}

/**
 * Turns raw draws into commands: ids are assigned in order, so reuse and cancel/amend can point
 * at ids the stream has already used (the last few, which are the likeliest to be live).
 */
function materialize(draws: Of<ReturnType<typeof rawWithin>>[]): Command[] {
  const used: number[] = []
  let next = 1
  const target = (known: boolean, pick: number) =>
    known && used.length > 0
      ? used[used.length - 1 - (pick % Math.min(used.length, 6))]
      : 1_000_000 + (pick % 1000)
  return draws.map((d): Command => {
    switch (d.op) {
      case 'new': {
        const reused = d.reuse && used.length > 0
        const fresh = () => (d.sparseId ? next++ * 2 ** 20 : d.idBase + next++)
        const id = reused ? used[d.pick % used.length] : fresh()
        used.push(id)
        return { op: 'new', ...toOrder(id, d) }
      }
      case 'cancel':
        return { op: 'cancel', id: target(d.known, d.pick) }
      case 'amend':
        return { op: 'amend', id: target(d.known, d.pick), qty: d.qty }
      case 'close':
        return d
    }
  })
}

function toOrder(id: number, d: Of<ReturnType<typeof orderWithin>>): NewOrder {
  const { user, side, type, qty, tif } = d
  const postOnly = d.postOnly
  const base = { id, user, side, type, qty, tif, ...(postOnly === undefined ? {} : { postOnly }) }
  if (d.mismatched) return { ...base, price: d.price, stop: d.stop }
  const hasPrice = type === 'limit' || type === 'stop_limit'
  const hasStop = type === 'stop' || type === 'stop_limit'
  const price = hasPrice ? d.price : d.absentPrice
  return { ...base, price, stop: hasStop ? d.stop : d.absentStop }
}

/** A stream of up to `maxLength` commands, prices mostly within `spread` ticks of a mid. */
export const commands = (maxLength: number, spread = 4) =>
  fc.array(rawWithin(spread), { maxLength, size: 'max' }).map(materialize)
