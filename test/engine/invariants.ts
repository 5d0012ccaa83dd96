// Invariants of any correct book, checked from the outside: the auditor follows a book only
// through the commands it is given, the events it reports and its depth, and throws as soon as
// something is impossible. It does not decide what should happen (the reference model does that);
// it checks what can never happen, whatever the rules' details:
//   - the book is never crossed (best bid < best ask);
//   - quantity is conserved: every order's qty = filled + open + canceled/expired/amended away;
//   - FIFO: a fill takes the oldest order of the best level, at that order's price;
//   - every depth level's qty and order count = the sum over the orders resting there;
//   - a taker never trades with its own user, beyond its limit, or partly when FOK;
//   - stops fire only after a trade, when triggered by the last price, earliest first, all of
//     them; close expires every DAY order, in arrival order, and nothing else.

import type {
  BookEvent,
  CancelReason,
  Command,
  Depth,
  DepthLevel,
  NewOrder,
  Side,
} from '../../src/engine/types.ts'

interface Order {
  order: NewOrder
  arrival: number
  state: 'incoming' | 'pending' | 'resting' | 'done'
  filled: number
  /** Open quantity while resting (or pending). */
  open: number
  /** Canceled, expired, or amended away. */
  removed: number
}

export class InvariantError extends Error {}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new InvariantError(message)
}

const opposite = (side: Side): Side => (side === 'buy' ? 'sell' : 'buy')

export class Auditor {
  private seen = new Set<number>()
  private orders = new Map<number, Order>()
  /** Resting order ids per side and price, oldest first. */
  private queues = { buy: new Map<number, number[]>(), sell: new Map<number, number[]>() }
  private arrivals = 0

  /** Checks one command's events, then the depth the book reports after it. */
  step(command: Command, events: BookEvent[], depth: Depth): void {
    switch (command.op) {
      case 'new':
        this.onNew(command, events)
        break
      case 'cancel':
        this.onCancel(command.id, events)
        break
      case 'amend':
        this.onAmend(command.id, command.qty, events)
        break
      case 'close':
        this.onClose(events)
        break
    }
    this.checkConservation()
    this.checkDepth(depth)
  }

  private onNew(o: NewOrder, events: BookEvent[]): void {
    const first = events[0]
    if (this.seen.has(o.id)) {
      check(events.length === 1, `duplicate ${o.id} made more than one event`)
      const refused = first.type === 'rejected' && first.reason === 'duplicate_id'
      check(refused, `reused id ${o.id} accepted`)
      return
    }
    this.seen.add(o.id)
    check(events.length > 0, `new ${o.id} made no event`)
    if (first.type === 'rejected') {
      check(first.id === o.id && events.length === 1, `rejection of ${o.id} is not alone`)
      const reason = first.reason
      check(reason === 'invalid' || reason === 'post_only', `new ${o.id} rejected ${reason}`)
      if (first.reason === 'post_only') this.checkPostOnly(o)
      return
    }
    const arrival = this.arrivals++
    const entry: Order = { order: o, arrival, state: 'incoming', filled: 0, open: 0, removed: 0 }
    this.orders.set(o.id, entry)
    if (o.type === 'stop' || o.type === 'stop_limit') {
      check(events.length === 1 && first.type === 'pending', `stop ${o.id}: expected pending only`)
      check(first.id === o.id && first.stop === o.stop && first.qty === o.qty, 'bad pending event')
      entry.state = 'pending'
      entry.open = o.qty
      return
    }
    this.onIncoming(entry, events)
  }

  private checkPostOnly(o: NewOrder): void {
    check(o.postOnly === true && o.type === 'limit', `post_only reject of non-post-only ${o.id}`)
    const best = this.best(opposite(o.side))
    const crosses = best !== undefined && (o.side === 'buy' ? best <= o.price! : best >= o.price!)
    check(crosses, `post-only ${o.id} rejected without crossing`)
  }

  /** The events of an incoming order and of the stops it triggered, in one flat list. */
  private onIncoming(taker: Order, events: BookEvent[]): void {
    let lastPrice: number | undefined
    for (const e of events) {
      switch (e.type) {
        case 'fill':
          check(e.taker === taker.order.id, `fill for ${e.taker} while ${taker.order.id} is taking`)
          this.onFill(taker, e)
          lastPrice = e.price
          break
        case 'triggered':
          this.finishIncoming(taker)
          check(lastPrice !== undefined, `stop ${e.id} triggered without a trade`)
          taker = this.trigger(e.id, lastPrice)
          break
        default:
          this.onOutcome(taker, e)
      }
    }
    this.finishIncoming(taker)
    if (lastPrice !== undefined) {
      const missed = this.triggering(lastPrice)[0]
      check(missed === undefined, `stop ${missed?.order.id} should have fired at ${lastPrice}`)
    }
  }

  private onFill(taker: Order, e: Extract<BookEvent, { type: 'fill' }>): void {
    const t = taker.order
    const maker = this.orders.get(e.maker)
    check(taker.state === 'incoming', `fill for ${t.id} after its outcome`)
    check(maker?.state === 'resting', `fill against ${e.maker}, which is not resting`)
    const m = maker.order
    check(e.side === t.side && m.side === opposite(t.side), `fill ${t.id}/${m.id}: sides`)
    check(m.user !== t.user, `self-trade filled: ${t.id} and ${m.id} are both user ${t.user}`)
    check(e.price === m.price, `fill at ${e.price}, maker ${m.id} rests at ${m.price}`)
    check(e.price === this.best(m.side), `fill at ${e.price}, not the best ${m.side} level`)
    const head = this.queues[m.side].get(m.price!)![0]
    check(head === m.id, `FIFO: ${m.id} is not first at ${m.price}`)
    check(this.acceptable(t, e.price), `${t.id} traded at ${e.price}, beyond its limit`)
    check(e.qty > 0 && e.qty <= maker.open, `fill qty ${e.qty} vs maker open ${maker.open}`)
    check(e.qty <= t.qty - taker.filled, `fill qty ${e.qty} beyond what ${t.id} has left`)
    taker.filled += e.qty
    maker.filled += e.qty
    maker.open -= e.qty
    if (maker.open === 0) this.unrest(maker)
  }

  /** The outcome of the current incoming order: rested, canceled or a post_only reject. */
  private onOutcome(taker: Order, e: BookEvent): void {
    const t = taker.order
    const left = t.qty - taker.filled
    check(taker.state === 'incoming' && 'id' in e && e.id === t.id, `unexpected ${e.type} event`)
    if (e.type === 'rested') {
      check(t.type === 'limit' || t.type === 'stop_limit', `${t.type} ${t.id} rested`)
      check(t.tif === 'GTC' || t.tif === 'DAY', `${t.tif} ${t.id} rested`)
      check(e.price === t.price && e.qty === left, `rested ${t.id}: ${e.qty}@${e.price}`)
      this.rest(taker)
    } else if (e.type === 'canceled') {
      check(e.qty === left && left > 0, `canceled ${t.id} qty ${e.qty}, ${left} left`)
      this.checkCancelReason(taker, e.reason)
      taker.removed += e.qty
      taker.state = 'done'
    } else {
      // A triggered stop is never post-only, and a new post-only order is handled in onNew.
      check(false, `unexpected ${e.type} for incoming ${t.id}`)
    }
  }

  /** Why an incoming order stopped must match what the book holds at that moment. */
  private checkCancelReason(taker: Order, reason: CancelReason): void {
    const t = taker.order
    const next = this.reachable(t)[0]
    const why = `${t.tif} ${t.type} ${t.id} canceled ${reason}`
    if (t.tif === 'FOK') {
      check(reason === 'fok' && taker.filled === 0, why)
      const fillable = this.reachable(t).findIndex((o) => o.order.user === t.user)
      const before = fillable < 0 ? this.reachable(t) : this.reachable(t).slice(0, fillable)
      check(sum(before.map((o) => o.open)) < t.qty, `${why}, yet enough was fillable`)
    } else if (reason === 'self_trade') {
      check(next?.order.user === t.user, `${why}, yet next maker is ${next?.order.id}`)
    } else {
      const market = t.type === 'market' || t.type === 'stop'
      check(reason === (market ? 'no_liquidity' : 'ioc'), why)
      check(market || t.tif === 'IOC', why)
      check(next === undefined, `${why}, yet ${next?.order.id} was reachable`)
    }
  }

  /** Resting orders the taker could trade with, in priority order (best price, then oldest). */
  private reachable(t: NewOrder): Order[] {
    const side = opposite(t.side)
    const prices = [...this.queues[side].keys()]
      .filter((p) => this.acceptable(t, p))
      .sort((a, b) => (side === 'buy' ? b - a : a - b))
    return prices.flatMap((p) => this.queues[side].get(p)!.map((id) => this.orders.get(id)!))
  }

  /** Whether a taker may trade at `price`: market and stop orders at any. */
  private acceptable(t: NewOrder, price: number): boolean {
    if (t.type === 'market' || t.type === 'stop') return true
    return t.side === 'buy' ? price <= t.price! : price >= t.price!
  }

  private finishIncoming(taker: Order): void {
    if (taker.state !== 'incoming') return
    const t = taker.order
    const filled = `${taker.filled}/${t.qty}`
    check(taker.filled === t.qty, `${t.id} ended with no outcome but only ${filled} filled`)
    taker.state = 'done'
  }

  /** Which pending stops the last price triggers, earliest arrival first. */
  private triggering(last: number): Order[] {
    return [...this.orders.values()]
      .filter((s) => s.state === 'pending')
      .filter((s) => (s.order.side === 'buy' ? last >= s.order.stop! : last <= s.order.stop!))
      .sort((a, b) => a.arrival - b.arrival)
  }

  private trigger(id: number, lastPrice: number): Order {
    const first = this.triggering(lastPrice)[0]
    const earliest = first?.order.id
    check(earliest === id, `stop ${id} fired at ${lastPrice}; earliest triggering: ${earliest}`)
    first.state = 'incoming'
    first.open = 0
    return first
  }

  private onCancel(id: number, events: BookEvent[]): void {
    const order = this.orders.get(id)
    check(events.length === 1, `cancel ${id} made ${events.length} events`)
    const [e] = events
    if (order?.state === 'resting' || order?.state === 'pending') {
      const ok = e.type === 'canceled' && e.id === id && e.reason === 'user'
      check(ok, `cancel of live ${id}: ${JSON.stringify(e)}`)
      check(e.qty === order.open, `cancel ${id} reported ${e.qty}, open ${order.open}`)
      order.removed += order.open
      if (order.state === 'resting') this.unrest(order)
      order.open = 0
      order.state = 'done'
    } else {
      check(e.type === 'rejected' && e.reason === 'unknown_order', `cancel of dead ${id} succeeded`)
    }
  }

  private onAmend(id: number, qty: number, events: BookEvent[]): void {
    const order = this.orders.get(id)
    check(events.length === 1, `amend ${id} made ${events.length} events`)
    const [e] = events
    if (order?.state !== 'resting') {
      const refused = e.type === 'rejected' && e.reason === 'unknown_order'
      check(refused, `amend of non-resting ${id}: ${JSON.stringify(e)}`)
    } else if (e.type === 'amended') {
      check(e.id === id && e.qty === qty && qty > 0 && qty < order.open, `amend ${id} to ${qty}`)
      order.removed += order.open - qty
      order.open = qty
    } else {
      check(e.type === 'rejected' && e.reason === 'invalid_amend', `amend ${id}: ${e.type}`)
      check(!(Number.isInteger(qty) && qty > 0 && qty < order.open), `valid amend ${id} refused`)
    }
  }

  private onClose(events: BookEvent[]): void {
    const day = [...this.orders.values()]
      .filter((o) => (o.state === 'resting' || o.state === 'pending') && o.order.tif === 'DAY')
      .sort((a, b) => a.arrival - b.arrival)
    const expected = day.map((o) => ({ type: 'expired', id: o.order.id, qty: o.open }))
    check(JSON.stringify(events) === JSON.stringify(expected), `close: ${JSON.stringify(events)}`)
    for (const o of day) {
      o.removed += o.open
      if (o.state === 'resting') this.unrest(o)
      o.open = 0
      o.state = 'done'
    }
  }

  private rest(entry: Order): void {
    const { side, price, id } = entry.order
    entry.state = 'resting'
    entry.open = entry.order.qty - entry.filled
    const queue = this.queues[side].get(price!) ?? []
    queue.push(id)
    this.queues[side].set(price!, queue)
  }

  private unrest(entry: Order): void {
    const { side, price, id } = entry.order
    const queue = this.queues[side].get(price!)!
    queue.splice(queue.indexOf(id), 1)
    if (queue.length === 0) this.queues[side].delete(price!)
    if (entry.open === 0) entry.state = 'done'
  }

  private best(side: Side): number | undefined {
    const prices = [...this.queues[side].keys()]
    if (prices.length === 0) return undefined
    return side === 'buy' ? Math.max(...prices) : Math.min(...prices)
  }

  private checkConservation(): void {
    for (const o of this.orders.values()) {
      const { id, qty } = o.order
      check(o.state !== 'incoming', `${id} still incoming after its command`)
      const total = o.filled + o.open + o.removed
      const parts = `filled ${o.filled} + open ${o.open} + removed ${o.removed}`
      check(total === qty, `${id}: ${parts} != qty ${qty}`)
      check(o.state !== 'done' || o.open === 0, `${id} is done with ${o.open} open`)
    }
  }

  /** The book's depth must be exactly the resting orders the events left, and never crossed. */
  private checkDepth(depth: Depth): void {
    const open = (ids: number[]) => sum(ids.map((id) => this.orders.get(id)!.open))
    const levels = (side: Side): DepthLevel[] =>
      [...this.queues[side].entries()]
        .map(([price, ids]): DepthLevel => [price, open(ids), ids.length])
        .sort((a, b) => (side === 'buy' ? b[0] - a[0] : a[0] - b[0]))
    const [actual, expected] = [depth, { bids: levels('buy'), asks: levels('sell') }].map((d) =>
      JSON.stringify(d),
    )
    check(actual === expected, `depth ${actual} != resting orders ${expected}`)
    const [bid, ask] = [depth.bids[0], depth.asks[0]]
    check(!bid || !ask || bid[0] < ask[0], `crossed book: bid ${bid?.[0]} >= ask ${ask?.[0]}`)
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
