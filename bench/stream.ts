// The seeded command stream the benchmark replays: a faithful port of `generate` from the
// reference bench.mjs (same random draws in the same order), so that our figures are comparable
// with the ones quoted in the engine issue. A shadow price-time book runs while generating, so
// every cancel hits an order that is really resting, passive limits never cross, and the final
// book is known before any implementation runs (`expect`).

export const PASSIVE = 0
export const CANCEL = 1
export const MARKET = 2
export const CROSS = 3
export const KIND_NAMES = ['passive', 'cancel', 'market', 'crossing'] as const

export const BUY = 0
export const SELL = 1

/** [price, total open qty, number of orders], best first. */
export type Level = [price: number, qty: number, orders: number]

export interface BookLevels {
  bids: Level[]
  asks: Level[]
}

export interface Expectation extends BookLevels {
  trades: number
  tradedQty: number
  resting: number
}

/** One command per index, column-wise so that a million of them stay cheap to hold. */
export interface Stream {
  n: number
  seed: number
  /** PASSIVE | CANCEL | MARKET | CROSS */
  kind: Uint8Array
  /** BUY | SELL; for a cancel, the side of the canceled order. */
  side: Uint8Array
  /** index + 1 (engine ids must be positive); for a cancel, the id of the order it cancels. */
  id: Int32Array
  /** Ticks; 0 for market orders; for a cancel, the canceled order's price. */
  price: Int32Array
  /** 0 for cancels. */
  qty: Int32Array
  expect: Expectation
}

const LO = 9000
const HI = 11000
/** best[side] when that side is empty: one tick outside the price grid. */
const NONE = [LO - 1, HI + 1]

function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Price-time book over the fixed tick grid. Orders are known by stream index. Cancels only zero
 * the remaining qty; the FIFO skips such entries lazily, as the reference does.
 */
class ShadowBook {
  readonly best = [NONE[BUY], NONE[SELL]]
  readonly live: number[] = []
  trades = 0
  tradedQty = 0
  private readonly vol = [new Int32Array(HI + 2), new Int32Array(HI + 2)]
  private readonly head = [new Int32Array(HI + 2), new Int32Array(HI + 2)]
  private readonly fifo: number[][][] = [[], []]
  private readonly remaining: Int32Array
  private readonly livePos: Int32Array
  readonly orderSide: Uint8Array
  readonly orderPrice: Int32Array

  constructor(n: number) {
    for (let p = 0; p <= HI + 1; p++) {
      this.fifo[BUY].push([])
      this.fifo[SELL].push([])
    }
    this.remaining = new Int32Array(n)
    this.livePos = new Int32Array(n)
    this.orderSide = new Uint8Array(n)
    this.orderPrice = new Int32Array(n)
  }

  rest(index: number, side: number, price: number, qty: number): void {
    this.remaining[index] = qty
    this.orderSide[index] = side
    this.orderPrice[index] = price
    this.vol[side][price] += qty
    this.fifo[side][price].push(index)
    this.livePos[index] = this.live.length
    this.live.push(index)
    if (side === BUY ? price > this.best[BUY] : price < this.best[SELL]) this.best[side] = price
  }

  cancel(index: number): void {
    const side = this.orderSide[index]
    const price = this.orderPrice[index]
    this.vol[side][price] -= this.remaining[index]
    this.remaining[index] = 0
    this.unlive(index)
    if (this.vol[side][price] === 0 && price === this.best[side]) this.rescan(side)
  }

  /** Takes liquidity for `qty` on `side` up to `limit`; returns the qty left unfilled. */
  match(side: number, qty: number, limit: number): number {
    const other = 1 - side
    while (qty > 0) {
      const price = this.best[other]
      if (price === NONE[other] || (side === BUY ? price > limit : price < limit)) break
      qty = this.matchLevel(other, price, qty)
      if (this.vol[other][price] === 0) this.rescan(other)
    }
    return qty
  }

  levels(): BookLevels {
    const orders = [new Int32Array(HI + 2), new Int32Array(HI + 2)]
    for (const index of this.live) orders[this.orderSide[index]][this.orderPrice[index]]++
    const bids: Level[] = []
    const asks: Level[] = []
    for (let p = HI; p >= LO; p--) {
      if (this.vol[BUY][p] > 0) bids.push([p, this.vol[BUY][p], orders[BUY][p]])
    }
    for (let p = LO; p <= HI; p++) {
      if (this.vol[SELL][p] > 0) asks.push([p, this.vol[SELL][p], orders[SELL][p]])
    }
    return { bids, asks }
  }

  private matchLevel(side: number, price: number, qty: number): number {
    const queue = this.fifo[side][price]
    let h = this.head[side][price]
    while (qty > 0 && h < queue.length) {
      const index = queue[h]
      if (this.remaining[index] === 0) {
        h++
        continue
      }
      const fill = Math.min(qty, this.remaining[index])
      this.remaining[index] -= fill
      qty -= fill
      this.vol[side][price] -= fill
      this.trades++
      this.tradedQty += fill
      if (this.remaining[index] === 0) {
        h++
        this.unlive(index)
      }
    }
    this.head[side][price] = h
    return qty
  }

  /** Swap-remove from `live`, so that a uniformly random resting order is O(1) to pick. */
  private unlive(index: number): void {
    const at = this.livePos[index]
    const last = this.live.pop()!
    if (last === index) return
    this.live[at] = last
    this.livePos[last] = at
  }

  private rescan(side: number): void {
    const step = side === BUY ? -1 : 1
    let p = this.best[side]
    while (p >= LO && p <= HI && this.vol[side][p] === 0) p += step
    this.best[side] = p < LO || p > HI ? NONE[side] : p
  }
}

/** Draws the stream; the order of calls to `rand` is the reference's, draw for draw. */
class Generator {
  private readonly rand: () => number
  private readonly book: ShadowBook
  private mid = 10000

  constructor(
    private readonly stream: Stream,
    private readonly target: number,
  ) {
    this.rand = mulberry32(stream.seed)
    this.book = new ShadowBook(stream.n)
  }

  run(): Expectation {
    for (let i = 0; i < this.stream.n; i++) this.next(i)
    const { trades, tradedQty, live } = this.book
    return { trades, tradedQty, resting: live.length, ...this.book.levels() }
  }

  private next(i: number): void {
    if (this.rand() < 0.01) this.drift()
    const u = this.rand()
    const side = this.rand() < 0.5 ? BUY : SELL
    this.stream.side[i] = side
    this.stream.id[i] = i + 1
    if (u < 0.25 && this.book.live.length > 0) this.cancel(i)
    else if (u < 0.4) this.aggressive(i, side)
    else this.passive(i, side)
  }

  /** A slow random walk of the mid, kept 200 ticks inside the grid. */
  private drift(): void {
    const step = this.rand() < 0.5 ? -1 : 1
    this.mid = Math.min(HI - 200, Math.max(LO + 200, this.mid + step))
  }

  private randInt(k: number): number {
    return Math.floor(this.rand() * k)
  }

  private cancel(i: number): void {
    const { book, stream } = this
    const index = book.live[this.randInt(book.live.length)]
    stream.kind[i] = CANCEL
    stream.id[i] = index + 1
    stream.side[i] = book.orderSide[index]
    stream.price[i] = book.orderPrice[index]
    book.cancel(index)
  }

  /** Two thirds market orders, one third limits priced 0..4 ticks through the far touch. */
  private aggressive(i: number, side: number): void {
    const { book, stream } = this
    // Bigger takers while the book is above target hold the resting count near it.
    const qty = (stream.qty[i] = 1 + this.randInt(book.live.length > this.target ? 300 : 100))
    if (this.rand() < 2 / 3) {
      stream.kind[i] = MARKET
      book.match(side, qty, side === BUY ? HI + 1 : LO - 1)
      return
    }
    const price = (stream.price[i] = this.crossingPrice(side))
    stream.kind[i] = CROSS
    const left = book.match(side, qty, price)
    if (left > 0) book.rest(i, side, price, left)
  }

  private crossingPrice(side: number): number {
    const far = this.book.best[1 - side]
    if (far === NONE[1 - side]) return this.mid + (side === BUY ? 1 : -1)
    return far + (side === BUY ? this.randInt(5) : -this.randInt(5))
  }

  /** 1..50 ticks from the mid, skewed toward the touch, never crossing the far side. */
  private passive(i: number, side: number): void {
    const { book, stream } = this
    const d = 1 + Math.floor(50 * this.rand() * this.rand())
    const price =
      side === BUY
        ? Math.min(this.mid - d, book.best[SELL] - 1)
        : Math.max(this.mid + d, book.best[BUY] + 1)
    const qty = 1 + this.randInt(100)
    stream.kind[i] = PASSIVE
    stream.price[i] = price
    stream.qty[i] = qty
    book.rest(i, side, price, qty)
  }
}

export function generate(n = 1_000_000, seed = 42, target = 2000): Stream {
  const stream: Stream = {
    n,
    seed,
    kind: new Uint8Array(n),
    side: new Uint8Array(n),
    id: new Int32Array(n),
    price: new Int32Array(n),
    qty: new Int32Array(n),
    expect: { trades: 0, tradedQty: 0, resting: 0, bids: [], asks: [] },
  }
  stream.expect = new Generator(stream, target).run()
  return stream
}

/** How many commands of each kind, indexed like KIND_NAMES. */
export function mix(stream: Stream): number[] {
  const counts = [0, 0, 0, 0]
  for (let i = 0; i < stream.n; i++) counts[stream.kind[i]]++
  return counts
}
