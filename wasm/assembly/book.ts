// Matching: price-time priority, self-trade prevention, FOK/IOC/post-only, stops and close.
// Everything here runs on integers in preallocated memory; events go to the event buffer in the
// order the host contract gives (fills, then the order's own outcome, then triggered stops).

import {
  FLAG_PENDING, FLAG_POST_ONLY, FLAG_SELL, MAX_PRICE, MAX_QTY, OP_AMEND, OP_CANCEL, OP_CLOSE,
  OP_NEW, REASON_DUPLICATE_ID, REASON_FOK, REASON_INVALID, REASON_INVALID_AMEND, REASON_IOC,
  REASON_NO_LIQUIDITY, REASON_POST_ONLY, REASON_SELF_TRADE, REASON_UNKNOWN_ORDER, REASON_USER,
  TIF_DAY, TIF_FOK, TIF_IOC, TIF_SHIFT, TYPE_LIMIT, TYPE_MARKET, TYPE_SHIFT, TYPE_STOP,
  TYPE_STOP_LIMIT,
} from './abi'
import {
  emitAmended, emitCanceled, emitExpired, emitFill, emitPending, emitRejected, emitRested,
  emitTriggered,
} from './events'
import {
  BookSide, addLevelQty, dequeue, enqueue, levelCount, levelHead, levelPrice, resetLevels,
} from './levels'
import {
  NIL, allocOrder, freeOrder, liveOrders, orderFlags, orderId, orderLevel, orderNext, orderPrice,
  orderQty, orderSeq, orderUser, resetOrders, setOrderFlags, setOrderQty,
} from './orders'
import { liveInsert, liveLookup, liveRemove, resetLive } from './live'
import { markSeen, resetSeen } from './seen'
import { StopSide, TriggerQueue } from './stops'

export const bids = new BookSide(false)
export const asks = new BookSide(true)
export const buyStops = new StopSide(false)
export const sellStops = new StopSide(true)
const triggered = new TriggerQueue()
export let lastPrice: i32 = 0
export let nextSeq: i64 = 1
let traded = false

export function resetBook(): void {
  resetOrders()
  resetSeen()
  resetLive()
  resetLevels()
  bids.clear()
  asks.clear()
  buyStops.clear()
  sellStops.clear()
  lastPrice = 0
  nextSeq = 1
}

/** Restores the two scalars a snapshot carries besides orders and ids. */
export function setCounters(seq: i64, price: i32): void {
  nextSeq = seq
  lastPrice = price
}

@inline export function executeCommand(record: usize): void {
  const op = load<i32>(record)
  const id = load<i64>(record, 8)
  if (op == OP_NEW) newOrder(record, id)
  else if (op == OP_CANCEL) cancel(id)
  else if (op == OP_AMEND) amend(id, load<i32>(record, 20))
  else if (op == OP_CLOSE) close()
  else emitRejected(id, REASON_INVALID)
}

@inline function newOrder(record: usize, id: i64): void {
  const flags = load<i32>(record, 4) & (FLAG_PENDING - 1)
  const user = load<i32>(record, 16)
  const qty = load<i32>(record, 20)
  const price = load<i32>(record, 24)
  const stop = load<i32>(record, 28)
  if (id <= 0) {
    emitRejected(id, REASON_INVALID)
    return
  }
  if (!markSeen(id)) {
    emitRejected(id, REASON_DUPLICATE_ID)
    return
  }
  if (!isValid(flags, qty, price, stop)) {
    emitRejected(id, REASON_INVALID)
    return
  }
  const slot = allocOrder(id, nextSeq++, user, qty, price, stop, flags)
  if (orderType(flags) >= TYPE_STOP) {
    setOrderFlags(slot, flags | FLAG_PENDING)
    stopsOf(slot).add(slot)
    liveInsert(id, slot)
    emitPending(id, stop, qty)
    return
  }
  traded = false
  take(slot)
  if (traded) fireStops()
}

/** A `new` command's fields are consistent (the rules' list); snapshots are checked with it too. */
export function isValid(flags: i32, qty: i32, price: i32, stop: i32): bool {
  if (qty < 1 || qty > MAX_QTY) return false
  const type = orderType(flags)
  const needsPrice = type == TYPE_LIMIT || type == TYPE_STOP_LIMIT
  const needsStop = type == TYPE_STOP || type == TYPE_STOP_LIMIT
  if (needsPrice ? !isPrice(price) : price != 0) return false
  if (needsStop ? !isPrice(stop) : stop != 0) return false
  if (flags & FLAG_POST_ONLY) return type == TYPE_LIMIT && orderTif(flags) <= TIF_DAY
  return true
}

/**
 * An incoming order (new, or a stop just triggered) takes liquidity, then rests or ends. It is
 * not in the live table while it does: it enters it only if it rests.
 */
function take(slot: i32): void {
  const flags = orderFlags(slot)
  const isSell = (flags & FLAG_SELL) != 0
  const type = orderType(flags)
  const isMarket = type == TYPE_MARKET || type == TYPE_STOP
  const tif = orderTif(flags)
  const price = orderPrice(slot)
  const id = orderId(slot)
  const opposite = isSell ? bids : asks
  if (flags & FLAG_POST_ONLY && crossesBest(opposite, isSell, price)) {
    freeOrder(slot)
    emitRejected(id, REASON_POST_ONLY)
    return
  }
  const qty = orderQty(slot)
  if (tif == TIF_FOK && fillable(slot, opposite, isSell, isMarket, price, qty) < qty) {
    freeOrder(slot)
    emitCanceled(id, qty, REASON_FOK)
    return
  }
  const selfTrade = match(slot, opposite, isSell, isMarket, price)
  const left = orderQty(slot)
  if (left == 0) {
    freeOrder(slot)
  } else if (selfTrade || isMarket || tif == TIF_IOC) {
    freeOrder(slot)
    emitCanceled(id, left, selfTrade ? REASON_SELF_TRADE : isMarket ? REASON_NO_LIQUIDITY : REASON_IOC)
  } else {
    enqueue((isSell ? asks : bids).levelFor(price), slot)
    liveInsert(id, slot)
    emitRested(id, price, left)
  }
}

/** Fills the taker against the opposite side; true when self-trade prevention stopped it. */
function match(taker: i32, opposite: BookSide, isSell: bool, isMarket: bool, limit: i32): bool {
  const takerId = orderId(taker)
  const user = orderUser(taker)
  let left = orderQty(taker)
  let selfTrade = false
  while (left > 0 && !selfTrade) {
    const level = opposite.best()
    if (level == NIL) break
    const price = levelPrice(level)
    if (!isMarket && (isSell ? price < limit : price > limit)) break
    let maker = levelHead(level)
    while (left > 0 && maker != NIL) {
      if (orderUser(maker) == user) {
        selfTrade = true
        break
      }
      const makerQty = orderQty(maker)
      const qty = min(left, makerQty)
      const next = orderNext(maker)
      emitFill(takerId, orderId(maker), isSell, price, qty)
      left -= qty
      lastPrice = price
      traded = true
      if (qty == makerQty) {
        dequeue(level, maker)
        finish(maker)
      } else {
        setOrderQty(maker, makerQty - qty)
        addLevelQty(level, -qty)
      }
      maker = next
    }
    if (levelCount(level) == 0) opposite.remove(level)
  }
  setOrderQty(taker, left)
  return selfTrade
}

/** What a FOK order could fill: resting orders at acceptable prices, up to its own user's first. */
function fillable(taker: i32, opposite: BookSide, isSell: bool, isMarket: bool, limit: i32, need: i32): i64 {
  const user = orderUser(taker)
  let total: i64 = 0
  for (let i = opposite.length - 1; i >= 0; i--) {
    const level = opposite.levelAt(i)
    const price = levelPrice(level)
    if (!isMarket && (isSell ? price < limit : price > limit)) break
    for (let maker = levelHead(level); maker != NIL; maker = orderNext(maker)) {
      if (orderUser(maker) == user) return total
      total += orderQty(maker)
      if (total >= need) return total
    }
  }
  return total
}

/**
 * Fires triggered stops, earliest submitted first, until none triggers at the last price. A stop
 * queued earlier that no longer triggers (the price came back) returns to its side.
 */
function fireStops(): void {
  while (true) {
    buyStops.drainTriggered(lastPrice, triggered)
    sellStops.drainTriggered(lastPrice, triggered)
    const slot = triggered.popEarliest()
    if (slot == NIL) return
    const stops = stopsOf(slot)
    if (!stops.triggers(slot, lastPrice)) {
      stops.add(slot)
      continue
    }
    liveRemove(orderId(slot))
    setOrderFlags(slot, orderFlags(slot) & ~FLAG_PENDING)
    emitTriggered(orderId(slot))
    take(slot)
  }
}

@inline function cancel(id: i64): void {
  const slot = liveLookup(id)
  if (slot == NIL) {
    emitRejected(id, REASON_UNKNOWN_ORDER)
    return
  }
  const qty = orderQty(slot)
  unbook(slot)
  finish(slot)
  emitCanceled(id, qty, REASON_USER)
}

function amend(id: i64, qty: i32): void {
  const slot = liveLookup(id)
  if (slot == NIL || orderFlags(slot) & FLAG_PENDING) {
    emitRejected(id, REASON_UNKNOWN_ORDER)
    return
  }
  const open = orderQty(slot)
  if (qty <= 0 || qty >= open) {
    emitRejected(id, REASON_INVALID_AMEND)
    return
  }
  addLevelQty(orderLevel(slot), <i64>(qty - open))
  setOrderQty(slot, qty)
  emitAmended(id, qty)
}

/** End of day: every DAY order, resting or pending, expires in arrival order. */
function close(): void {
  const dayOrders = heap.alloc(<usize>max(liveOrders(), 1) << 2)
  let count = collectDay(bids, dayOrders, 0)
  count = collectDay(asks, dayOrders, count)
  count = collectDayStops(buyStops, dayOrders, count)
  count = collectDayStops(sellStops, dayOrders, count)
  sortBySeq(dayOrders, count)
  for (let i = 0; i < count; i++) {
    const slot = load<i32>(dayOrders + (<usize>i << 2))
    const qty = orderQty(slot)
    const id = orderId(slot)
    unbook(slot)
    finish(slot)
    emitExpired(id, qty)
  }
  heap.free(dayOrders)
}

function collectDay(side: BookSide, out: usize, count: i32): i32 {
  for (let i = 0; i < side.length; i++) {
    for (let slot = levelHead(side.levelAt(i)); slot != NIL; slot = orderNext(slot)) {
      if (orderTif(orderFlags(slot)) == TIF_DAY) store<i32>(out + (<usize>(count++) << 2), slot)
    }
  }
  return count
}

function collectDayStops(stops: StopSide, out: usize, count: i32): i32 {
  for (let i = 0; i < stops.length; i++) {
    const slot = stops.at(i)
    if (orderTif(orderFlags(slot)) == TIF_DAY) store<i32>(out + (<usize>(count++) << 2), slot)
  }
  return count
}

/** Heapsort of slots by arrival: close is rare, and this needs no extra memory. */
function sortBySeq(slots: usize, n: i32): void {
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(slots, i, n)
  for (let end = n - 1; end > 0; end--) {
    swap(slots, 0, end)
    siftDown(slots, 0, end)
  }
}

function siftDown(slots: usize, root: i32, n: i32): void {
  let i = root
  while (true) {
    let child = 2 * i + 1
    if (child >= n) return
    if (child + 1 < n && seqAt(slots, child + 1) > seqAt(slots, child)) child++
    if (seqAt(slots, i) >= seqAt(slots, child)) return
    swap(slots, i, child)
    i = child
  }
}

@inline function seqAt(slots: usize, i: i32): i64 {
  return orderSeq(load<i32>(slots + (<usize>i << 2)))
}

@inline function swap(slots: usize, i: i32, j: i32): void {
  const a = load<i32>(slots + (<usize>i << 2))
  store<i32>(slots + (<usize>i << 2), load<i32>(slots + (<usize>j << 2)))
  store<i32>(slots + (<usize>j << 2), a)
}

/** Takes a live order out of its level or the pending stops. */
function unbook(slot: i32): void {
  if (orderFlags(slot) & FLAG_PENDING) {
    stopsOf(slot).remove(slot)
    return
  }
  const level = orderLevel(slot)
  dequeue(level, slot)
  if (levelCount(level) == 0) sideOf(slot).remove(level)
}

/** A live order is done: out of the live table, its slot reused (its id stays seen). */
function finish(slot: i32): void {
  liveRemove(orderId(slot))
  freeOrder(slot)
}

@inline function crossesBest(opposite: BookSide, isSell: bool, price: i32): bool {
  const best = opposite.best()
  if (best == NIL) return false
  return isSell ? levelPrice(best) >= price : levelPrice(best) <= price
}

@inline function isPrice(value: i32): bool {
  return value >= 1 && value <= MAX_PRICE
}

@inline export function orderType(flags: i32): i32 {
  return (flags >> TYPE_SHIFT) & 3
}

@inline export function orderTif(flags: i32): i32 {
  return (flags >> TIF_SHIFT) & 3
}

@inline function sideOf(slot: i32): BookSide {
  return orderFlags(slot) & FLAG_SELL ? asks : bids
}

@inline function stopsOf(slot: i32): StopSide {
  return orderFlags(slot) & FLAG_SELL ? sellStops : buyStops
}
