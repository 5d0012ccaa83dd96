// One symbol's limit order book: price levels per side, each a queue in arrival order, so
// matching is price-time. It holds the venue's own quotes and client orders alike; what an
// order is for (whose it is) rides along in `owner`. Prices are integer cents.
import type { Side } from '../../../src/execution/fix/index.ts'

export interface Resting<Owner> {
  readonly side: Side
  readonly price: number
  leaves: number
  readonly owner: Owner
}

/** One execution: `qty` shares at the resting order's price. */
export interface Match<Owner> {
  readonly resting: Resting<Owner>
  readonly qty: number
  readonly price: number
}

export interface Level {
  readonly price: number
  readonly size: number
}

interface PriceLevel<Owner> {
  readonly price: number
  readonly queue: Resting<Owner>[]
}

export class Book<Owner> {
  /** Best first: bids highest, asks lowest. */
  private readonly sides: Record<Side, PriceLevel<Owner>[]> = { buy: [], sell: [] }

  /** Rests an order behind those already at its price. */
  add(order: Resting<Owner>): void {
    const levels = this.sides[order.side]
    let i = 0
    while (i < levels.length && isBetter(order.side, levels[i].price, order.price)) i++
    if (levels[i]?.price === order.price) levels[i].queue.push(order)
    else levels.splice(i, 0, { price: order.price, queue: [order] })
  }

  /** Takes the order out of the book; false when it was not there. */
  remove(order: Resting<Owner>): boolean {
    const levels = this.sides[order.side]
    const at = levels.findIndex((level) => level.price === order.price)
    const index = at < 0 ? -1 : levels[at].queue.indexOf(order)
    if (index < 0) return false
    levels[at].queue.splice(index, 1)
    if (levels[at].queue.length === 0) levels.splice(at, 1)
    return true
  }

  /** Takes out every resting order `drop` picks. */
  removeWhere(drop: (order: Resting<Owner>) => boolean): void {
    for (const side of ['buy', 'sell'] as const) {
      for (const level of this.sides[side]) {
        const kept = level.queue.filter((order) => !drop(order))
        level.queue.splice(0, level.queue.length, ...kept)
      }
      this.sides[side] = this.sides[side].filter((level) => level.queue.length > 0)
    }
  }

  /**
   * An incoming order of `side` for `qty` shares, at `limit` or better (null: any price), trades
   * with the other side best price first, oldest first at a price, at the resting order's price.
   * Resting orders filled are taken out.
   */
  match(side: Side, qty: number, limit: number | null): Match<Owner>[] {
    const levels = this.sides[opposite(side)]
    const matches: Match<Owner>[] = []
    let wanted = qty
    while (wanted > 0 && levels.length > 0 && acceptable(side, levels[0].price, limit)) {
      const level = levels[0]
      const resting = level.queue[0]
      const traded = Math.min(wanted, resting.leaves)
      resting.leaves -= traded
      wanted -= traded
      matches.push({ resting, qty: traded, price: level.price })
      if (resting.leaves === 0) level.queue.shift()
      if (level.queue.length === 0) levels.shift()
    }
    return matches
  }

  /** Shares an incoming order of `side` at `limit` could trade now (for fill-or-kill). */
  available(side: Side, limit: number | null): number {
    let shares = 0
    for (const level of this.sides[opposite(side)]) {
      if (!acceptable(side, level.price, limit)) break
      shares += sizeOf(level)
    }
    return shares
  }

  /** Price and total size per level, best first. */
  depth(side: Side): Level[] {
    return this.sides[side].map((level) => ({ price: level.price, size: sizeOf(level) }))
  }

  best(side: Side): Level | undefined {
    return this.depth(side)[0]
  }
}

export function opposite(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy'
}

/** Whether price `a` comes before price `b` on this side of the book. */
function isBetter(side: Side, a: number, b: number): boolean {
  return side === 'buy' ? a > b : a < b
}

/** Whether an incoming order of `side` at `limit` trades with a resting price. */
function acceptable(side: Side, price: number, limit: number | null): boolean {
  return limit === null || (side === 'buy' ? price <= limit : price >= limit)
}

function sizeOf<Owner>(level: PriceLevel<Owner>): number {
  return level.queue.reduce((sum, order) => sum + order.leaves, 0)
}
