// Price levels. Each level is a FIFO queue of orders (a doubly linked list through the order
// slab) with its total open quantity. Each side keeps its levels in an array sorted from worst to
// best price, so the best level is the last element: matching pops from the end, and new levels,
// which mostly arrive near the touch, are inserted with a short move. Keys are the price for bids
// and the negated price for asks, so both sides sort ascending by key.

import {
  NIL, orderNext, orderPrev, orderQty, setOrderLevel, setOrderNext, setOrderPrev,
} from './orders'

const L_QTY = 0 // i64: total open quantity
const L_PRICE = 8
const L_COUNT = 12
const L_HEAD = 16 // oldest order
const L_TAIL = 20 // newest order
const L_KEY = 24 // the side's key of its price (see BookSide.key); 0 while the slot is free
const LEVEL_SIZE = 32
const CACHE_ENTRIES = 256

let levels: usize = 0
let levelCapacity: i32 = 0
let levelsUsed: i32 = 0
let freeLevel: i32 = NIL

/** One side of the book: level indexes and their keys, sorted ascending by key. */
export class BookSide {
  keys: usize = 0
  ids: usize = 0
  length: i32 = 0
  capacity: i32 = 0

  /** Recently used levels by price (direct-mapped): most orders join a level that exists. */
  cache: usize = 0

  constructor(public isSell: bool) {
    this.cache = heap.alloc(CACHE_ENTRIES << 2)
    memory.fill(this.cache, 0xff, CACHE_ENTRIES << 2)
    this.capacity = 256
    this.keys = heap.alloc(<usize>this.capacity << 2)
    this.ids = heap.alloc(<usize>this.capacity << 2)
  }

  @inline key(price: i32): i32 {
    return this.isSell ? -price : price
  }

  @inline levelAt(index: i32): i32 {
    return load<i32>(this.ids + (<usize>index << 2))
  }

  /** The best level, or NIL for an empty side. */
  @inline best(): i32 {
    return this.length == 0 ? NIL : this.levelAt(this.length - 1)
  }

  /** The level at `price`, created (empty) when there is none. */
  levelFor(price: i32): i32 {
    const key = this.key(price)
    const entry = this.cache + (<usize>(price & (CACHE_ENTRIES - 1)) << 2)
    const cached = load<i32>(entry)
    if (cached != NIL && load<i32>(lv(cached), L_KEY) == key) return cached
    const level = this.find(key, price)
    store<i32>(entry, level)
    return level
  }

  private find(key: i32, price: i32): i32 {
    // Most prices are a few levels from the touch, at the end of the array: look there first.
    let hi = this.length
    const stop = max(hi - 8, 0)
    for (let i = hi - 1; i >= stop; i--) {
      const k = load<i32>(this.keys + (<usize>i << 2))
      if (k == key) return this.levelAt(i)
      if (k < key) return this.insertAt(i + 1, key, price)
    }
    hi = stop
    let lo = 0
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = load<i32>(this.keys + (<usize>mid << 2))
      if (k == key) return this.levelAt(mid)
      if (k < key) lo = mid + 1
      else hi = mid
    }
    return this.insertAt(lo, key, price)
  }

  /** Removes an emptied level (the best one, usually). */
  remove(level: i32): void {
    let i = this.length - 1
    if (this.levelAt(i) != level) i = this.indexOf(levelPrice(level))
    const tail = <usize>(this.length - 1 - i) << 2
    memory.copy(this.keys + (<usize>i << 2), this.keys + (<usize>(i + 1) << 2), tail)
    memory.copy(this.ids + (<usize>i << 2), this.ids + (<usize>(i + 1) << 2), tail)
    this.length--
    freeLevelSlot(level)
  }

  clear(): void {
    this.length = 0
    memory.fill(this.cache, 0xff, CACHE_ENTRIES << 2)
  }

  private indexOf(price: i32): i32 {
    const key = this.key(price)
    let lo = 0
    let hi = this.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (load<i32>(this.keys + (<usize>mid << 2)) < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private insertAt(index: i32, key: i32, price: i32): i32 {
    if (this.length == this.capacity) {
      this.capacity <<= 1
      this.keys = heap.realloc(this.keys, <usize>this.capacity << 2)
      this.ids = heap.realloc(this.ids, <usize>this.capacity << 2)
    }
    const tail = <usize>(this.length - index) << 2
    memory.copy(this.keys + (<usize>(index + 1) << 2), this.keys + (<usize>index << 2), tail)
    memory.copy(this.ids + (<usize>(index + 1) << 2), this.ids + (<usize>index << 2), tail)
    const level = newLevel(price, key)
    store<i32>(this.keys + (<usize>index << 2), key)
    store<i32>(this.ids + (<usize>index << 2), level)
    this.length++
    return level
  }
}

export function resetLevels(): void {
  if (levels == 0) {
    levelCapacity = 512
    levels = heap.alloc(<usize>levelCapacity * LEVEL_SIZE)
  }
  levelsUsed = 0
  freeLevel = NIL
}

@inline function lv(level: i32): usize {
  return levels + <usize>level * LEVEL_SIZE
}

@inline export function levelQty(level: i32): i64 { return load<i64>(lv(level), L_QTY) }
@inline export function levelPrice(level: i32): i32 { return load<i32>(lv(level), L_PRICE) }
@inline export function levelCount(level: i32): i32 { return load<i32>(lv(level), L_COUNT) }
@inline export function levelHead(level: i32): i32 { return load<i32>(lv(level), L_HEAD) }

/** Adds `delta` (negative when filled, canceled or amended down) to the level's open quantity. */
@inline export function addLevelQty(level: i32, delta: i64): void {
  store<i64>(lv(level), load<i64>(lv(level), L_QTY) + delta, L_QTY)
}

/** Queues an order at the tail of a level. */
export function enqueue(level: i32, slot: i32): void {
  const p = lv(level)
  const tail = load<i32>(p, L_TAIL)
  setOrderPrev(slot, tail)
  setOrderNext(slot, NIL)
  setOrderLevel(slot, level)
  if (tail == NIL) store<i32>(p, slot, L_HEAD)
  else setOrderNext(tail, slot)
  store<i32>(p, slot, L_TAIL)
  store<i32>(p, load<i32>(p, L_COUNT) + 1, L_COUNT)
  store<i64>(p, load<i64>(p, L_QTY) + orderQty(slot), L_QTY)
}

/** Unlinks an order from its level, taking its open quantity off the level's total. */
export function dequeue(level: i32, slot: i32): void {
  const p = lv(level)
  const prev = orderPrev(slot)
  const next = orderNext(slot)
  if (prev == NIL) store<i32>(p, next, L_HEAD)
  else setOrderNext(prev, next)
  if (next == NIL) store<i32>(p, prev, L_TAIL)
  else setOrderPrev(next, prev)
  store<i32>(p, load<i32>(p, L_COUNT) - 1, L_COUNT)
  store<i64>(p, load<i64>(p, L_QTY) - orderQty(slot), L_QTY)
}

function newLevel(price: i32, key: i32): i32 {
  let level = freeLevel
  if (level != NIL) {
    freeLevel = load<i32>(lv(level), L_HEAD)
  } else {
    if (levelsUsed == levelCapacity) {
      levelCapacity <<= 1
      levels = heap.realloc(levels, <usize>levelCapacity * LEVEL_SIZE)
    }
    level = levelsUsed++
  }
  const p = lv(level)
  store<i64>(p, 0, L_QTY)
  store<i32>(p, price, L_PRICE)
  store<i32>(p, key, L_KEY)
  store<i32>(p, 0, L_COUNT)
  store<i32>(p, NIL, L_HEAD)
  store<i32>(p, NIL, L_TAIL)
  return level
}

function freeLevelSlot(level: i32): void {
  store<i32>(lv(level), 0, L_KEY)
  store<i32>(lv(level), freeLevel, L_HEAD)
  freeLevel = level
}
