// A deliberately naive order book: the README's matching rules written down as plainly as
// possible (flat arrays, linear scans, no indexes), so that reading it against the rules is
// enough to trust it. The WASM engine is tested against it; speed is not a goal here.

import {
  MAX_PRICE,
  MAX_QTY,
  type BookEvent,
  type CancelReason,
  type Command,
  type Depth,
  type DepthLevel,
  type NewOrder,
  type Side,
  type TimeInForce,
} from '../../src/engine/types.ts'

/** An order in the book. `arrival` is when its `new` came in (close expires in that order). */
interface Resting {
  id: number
  user: number
  side: Side
  price: number
  qty: number
  tif: TimeInForce
  arrival: number
}

interface PendingStop {
  order: NewOrder
  arrival: number
}

/** An order looking for liquidity: a new limit/market order or a triggered stop. */
interface Taker {
  id: number
  user: number
  side: Side
  /** undefined = market: any price is acceptable. */
  limit: number | undefined
  qty: number
  tif: TimeInForce
  postOnly: boolean
  arrival: number
}

const isQty = (n: number) => Number.isInteger(n) && n >= 1 && n <= MAX_QTY
const isPrice = (n: number | undefined) =>
  n !== undefined && Number.isInteger(n) && n >= 1 && n <= MAX_PRICE
const isAbsent = (n: number | undefined) => n === undefined || n === 0

function isValid(o: NewOrder): boolean {
  if (!isQty(o.qty)) return false
  if (o.postOnly && !(o.type === 'limit' && (o.tif === 'GTC' || o.tif === 'DAY'))) return false
  switch (o.type) {
    case 'limit':
      return isPrice(o.price) && isAbsent(o.stop)
    case 'stop_limit':
      return isPrice(o.price) && isPrice(o.stop)
    case 'stop':
      return isPrice(o.stop) && isAbsent(o.price)
    case 'market':
      return isAbsent(o.price) && isAbsent(o.stop)
  }
}

export class ReferenceBook {
  private seen = new Set<number>()
  /** Every resting order, in the order it joined the tail of its level: FIFO within a level. */
  private resting: Resting[] = []
  /** Pending stops in arrival order, so the first one that triggers is the earliest. */
  private stops: PendingStop[] = []
  /** Price of the latest fill: what pending stops are checked against. */
  private lastPrice = 0
  /** Counts accepted `new` commands: arrival order decides which stop fires and close order. */
  private arrivals = 0

  apply(c: Command): BookEvent[] {
    switch (c.op) {
      case 'new':
        return this.submit(c)
      case 'cancel':
        return this.cancel(c.id)
      case 'amend':
        return this.amend(c.id, c.qty)
      case 'close':
        return this.close()
    }
  }

  execute(commands: Command[]): BookEvent[] {
    return commands.flatMap((c) => this.apply(c))
  }

  submit(o: NewOrder): BookEvent[] {
    if (this.seen.has(o.id)) return [{ type: 'rejected', id: o.id, reason: 'duplicate_id' }]
    this.seen.add(o.id)
    if (!isValid(o)) return [{ type: 'rejected', id: o.id, reason: 'invalid' }]
    const arrival = this.arrivals++
    if (o.type === 'stop' || o.type === 'stop_limit') {
      this.stops.push({ order: { ...o }, arrival })
      return [{ type: 'pending', id: o.id, stop: o.stop!, qty: o.qty }]
    }
    const events: BookEvent[] = []
    const limit = o.type === 'limit' ? o.price : undefined
    const taker = { ...o, limit, postOnly: o.postOnly === true, arrival }
    if (this.take(taker, events)) this.fireStops(events)
    return events
  }

  cancel(id: number): BookEvent[] {
    const order = this.resting.find((r) => r.id === id)
    if (order) {
      this.resting.splice(this.resting.indexOf(order), 1)
      return [{ type: 'canceled', id, qty: order.qty, reason: 'user' }]
    }
    const stop = this.stops.find((s) => s.order.id === id)
    if (stop) {
      this.stops.splice(this.stops.indexOf(stop), 1)
      return [{ type: 'canceled', id, qty: stop.order.qty, reason: 'user' }]
    }
    return [{ type: 'rejected', id, reason: 'unknown_order' }]
  }

  amend(id: number, qty: number): BookEvent[] {
    const order = this.resting.find((r) => r.id === id)
    if (!order) return [{ type: 'rejected', id, reason: 'unknown_order' }]
    if (!Number.isInteger(qty) || qty <= 0 || qty >= order.qty) {
      return [{ type: 'rejected', id, reason: 'invalid_amend' }]
    }
    order.qty = qty
    return [{ type: 'amended', id, qty }]
  }

  close(): BookEvent[] {
    const pending = this.stops.map((s) => ({ ...s.order, arrival: s.arrival }))
    const day = [...this.resting, ...pending]
      .filter((o) => o.tif === 'DAY')
      .sort((a, b) => a.arrival - b.arrival)
    this.resting = this.resting.filter((r) => r.tif !== 'DAY')
    this.stops = this.stops.filter((s) => s.order.tif !== 'DAY')
    return day.map((o) => ({ type: 'expired', id: o.id, qty: o.qty }))
  }

  depth(maxLevels = Infinity): Depth {
    return { bids: this.levels('buy', maxLevels), asks: this.levels('sell', maxLevels) }
  }

  private levels(side: Side, maxLevels: number): DepthLevel[] {
    const levels: DepthLevel[] = []
    for (const r of this.inPriority(side)) {
      const last = levels[levels.length - 1]
      if (last && last[0] === r.price) {
        last[1] += r.qty
        last[2] += 1
      } else {
        levels.push([r.price, r.qty, 1])
      }
    }
    return levels.slice(0, maxLevels)
  }

  /** One side's resting orders, best price first, oldest first within a price (stable sort). */
  private inPriority(side: Side): Resting[] {
    const sign = side === 'buy' ? -1 : 1
    return this.resting.filter((r) => r.side === side).sort((a, b) => sign * (a.price - b.price))
  }

  /** The resting orders this taker may trade with, in the order it would meet them. */
  private reachable(t: Taker): Resting[] {
    const opposite = t.side === 'buy' ? 'sell' : 'buy'
    const acceptable = (r: Resting) =>
      t.limit === undefined || (t.side === 'buy' ? r.price <= t.limit : r.price >= t.limit)
    return this.inPriority(opposite).filter(acceptable)
  }

  /** Rules 4-7 for one incoming order. Returns whether it traded. */
  private take(t: Taker, events: BookEvent[]): boolean {
    if (t.postOnly && this.reachable(t).length > 0) {
      events.push({ type: 'rejected', id: t.id, reason: 'post_only' })
      return false
    }
    if (t.tif === 'FOK' && this.fillable(t) < t.qty) {
      events.push({ type: 'canceled', id: t.id, qty: t.qty, reason: 'fok' })
      return false
    }
    let remaining = t.qty
    let traded = false
    while (remaining > 0) {
      const maker = this.reachable(t)[0]
      if (!maker) break
      if (maker.user === t.user) {
        events.push(canceled(t.id, remaining, 'self_trade'))
        return traded
      }
      const qty = Math.min(remaining, maker.qty)
      const { side, id: taker } = t
      events.push({ type: 'fill', taker, maker: maker.id, side, price: maker.price, qty })
      remaining -= qty
      maker.qty -= qty
      if (maker.qty === 0) this.resting.splice(this.resting.indexOf(maker), 1)
      this.lastPrice = maker.price
      traded = true
    }
    if (remaining > 0) this.rest(t, remaining, events)
    return traded
  }

  private fillable(t: Taker): number {
    let total = 0
    for (const r of this.reachable(t)) {
      if (r.user === t.user) break
      total += r.qty
    }
    return total
  }

  private rest(t: Taker, qty: number, events: BookEvent[]): void {
    if (t.limit === undefined) {
      events.push(canceled(t.id, qty, 'no_liquidity'))
    } else if (t.tif === 'IOC') {
      events.push(canceled(t.id, qty, 'ioc'))
    } else {
      this.resting.push({ ...t, price: t.limit, qty })
      events.push({ type: 'rested', id: t.id, price: t.limit, qty })
    }
  }

  /** Rule 8: fire triggered stops one at a time, earliest arrival first, until none triggers. */
  private fireStops(events: BookEvent[]): void {
    for (;;) {
      const stop = this.stops.find((s) => triggers(s.order, this.lastPrice))
      if (!stop) return
      this.stops.splice(this.stops.indexOf(stop), 1)
      events.push({ type: 'triggered', id: stop.order.id })
      const limit = stop.order.type === 'stop_limit' ? stop.order.price : undefined
      this.take({ ...stop.order, limit, postOnly: false, arrival: stop.arrival }, events)
    }
  }
}

function triggers(stop: NewOrder, last: number): boolean {
  return stop.side === 'buy' ? last >= stop.stop! : last <= stop.stop!
}

function canceled(id: number, qty: number, reason: CancelReason): BookEvent {
  return { type: 'canceled', id, qty, reason }
}
