// What a chaos run does, drawn from its seed alone: the order stream (who sends what, in which
// order) and the fault schedule (which fault after how many answered requests). The same seed on
// the same commit gives the same stream and the same faults at the same points; what the
// concurrent clients' requests meet (which orders rest, which cancel finds one) still depends on
// timing, as it would for real clients.
import { formatCents } from '../../../src/lib/money.ts'
import { seededRng } from './rng.ts'
import type { Rng } from './rng.ts'

/** the symbols traded, with their seed reference prices (src/db/seed.ts) */
export const SYMBOLS: Record<string, number> = { AAPL: 19_000, MSFT: 41_500, NVDA: 12_000 }
/** trader 0 is the market maker; the others are retail */
export const TRADERS = 4

export const FAULT_KINDS = ['kill', 'evict', 'postgres', 'redis', 'retry'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** a fault the fault runner injects between requests (a retry rides on its order instead) */
export interface Fault {
  kind: Exclude<FaultKind, 'retry'>
  /** injected once this many requests of the stream were answered */
  at: number
  /** the symbol whose object an eviction hits */
  symbol: string
  /** how long Postgres or Redis stays down */
  downMs: number
}

export interface OrderBody {
  symbol: string
  side: 'buy' | 'sell'
  type: 'limit' | 'market'
  qty: number
  price?: string
  time_in_force: 'day' | 'gtc' | 'ioc'
}

export type Item =
  | {
      kind: 'order'
      trader: number
      key: string
      body: OrderBody
      /** a retry fault: the first attempt is abandoned after this many ms and sent again */
      abandonAfterMs?: number
    }
  /** cancel or amend one of the trader's open orders: `choice` picks which (of those open then) */
  | { kind: 'cancel'; trader: number; choice: number }
  | { kind: 'amend'; trader: number; choice: number; keep: number }

export interface Plan {
  seed: number
  items: Item[]
  faults: Fault[]
  retries: number
}

/** items in the stream per fault of each kind: enough requests between two faults */
const ITEMS_PER_FAULT = 4

/** `faults` of each kind; `redis: false` when there is no Redis to stop (none of that kind) */
export function planRun(seed: number, faults: number, opts: { redis: boolean }): Plan {
  const rng = seededRng(seed)
  const kinds = FAULT_KINDS.filter(
    (k): k is Fault['kind'] => k !== 'retry' && (opts.redis || k !== 'redis'),
  )
  const length = Math.max(100, faults * (kinds.length + 1) * ITEMS_PER_FAULT)
  const items = Array.from({ length }, (_, i) => item(rng, i))
  // the retry faults: as many orders, each abandoned once after a few ms
  const orders = items.flatMap((it, i) => (it.kind === 'order' ? [i] : []))
  let retries = 0
  for (const i of shuffled(rng, orders).slice(0, faults)) {
    const it = items[i] as Extract<Item, { kind: 'order' }>
    it.abandonAfterMs = 1 + rng.int(40)
    retries++
  }
  // the others at points spread over the stream, none in its first and last 3%
  const points = Array.from({ length: kinds.length * faults }, () =>
    Math.floor(length * (0.03 + 0.94 * rng.next())),
  ).sort((a, b) => a - b)
  const order = shuffled(rng, kinds.flatMap((k) => Array<Fault['kind']>(faults).fill(k)))
  const schedule = order.map((kind, n) => ({
    kind,
    at: points[n],
    symbol: rng.pick(Object.keys(SYMBOLS)),
    downMs: 50 + rng.int(450),
  }))
  return { seed, items, faults: schedule, retries }
}

function item(rng: Rng, i: number): Item {
  const trader = rng.int(TRADERS)
  const r = rng.next()
  if (i > 10 && trader > 0 && r < 0.1) return { kind: 'cancel', trader, choice: rng.next() }
  if (i > 10 && trader > 0 && r < 0.16) {
    return { kind: 'amend', trader, choice: rng.next(), keep: 0.2 + 0.6 * rng.next() }
  }
  const symbol = rng.pick(Object.keys(SYMBOLS))
  const reference = SYMBOLS[symbol]
  const side = rng.chance(0.5) ? 'buy' : 'sell'
  const key = `chaos-${i}`
  if (trader === 0) {
    // the market maker quotes a little away from the reference, on both sides over time
    const away = (1 + rng.int(8)) * 5
    const price = formatCents(side === 'buy' ? reference - away : reference + away)
    const qty = 10 + rng.int(90)
    const body: OrderBody = { symbol, side, type: 'limit', qty, price, time_in_force: 'gtc' }
    return { kind: 'order', trader, key, body }
  }
  const qty = 1 + rng.int(25)
  if (rng.chance(0.12)) {
    const body: OrderBody = { symbol, side, type: 'market', qty, time_in_force: 'day' }
    return { kind: 'order', trader, key, body }
  }
  // within ±1% of the reference, buys a little higher than sells: most orders cross
  const bias = side === 'buy' ? 0.4 : 0.6
  const offset = Math.round(((rng.next() - bias) * 0.02 * reference) / 5) * 5
  const time_in_force = rng.pick(['gtc', 'gtc', 'day', 'ioc'] as const)
  const body: OrderBody = {
    symbol, side, type: 'limit', qty, price: formatCents(reference + offset), time_in_force,
  }
  return { kind: 'order', trader, key, body }
}

function shuffled<T>(rng: Rng, xs: T[]): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
