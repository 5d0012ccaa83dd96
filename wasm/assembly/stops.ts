// Pending stops of one side, sorted so that the stops nearest to triggering are at the end.
// A buy stop triggers when last >= stop, a sell stop when last <= stop; with key = stop for buys
// and -stop for sells, both trigger when key <= the side's threshold, and sorting by key
// descending makes the triggering stops a suffix of the array.

import { NIL, orderSeq, orderStop } from './orders'

export class StopSide {
  slots: usize = 0
  length: i32 = 0
  capacity: i32 = 0

  constructor(public isSell: bool) {
    this.capacity = 64
    this.slots = heap.alloc(<usize>this.capacity << 2)
  }

  @inline at(index: i32): i32 {
    return load<i32>(this.slots + (<usize>index << 2))
  }

  @inline key(slot: i32): i32 {
    return this.isSell ? -orderStop(slot) : orderStop(slot)
  }

  /** Inserts after every stop whose key is >= this one's, so equal keys keep arrival order. */
  add(slot: i32): void {
    const key = this.key(slot)
    let lo = 0
    let hi = this.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.key(this.at(mid)) >= key) lo = mid + 1
      else hi = mid
    }
    this.insertAt(lo, slot)
  }

  remove(slot: i32): void {
    let i = this.length - 1
    while (this.at(i) != slot) i--
    memory.copy(this.slots + (<usize>i << 2), this.slots + (<usize>(i + 1) << 2), <usize>(this.length - 1 - i) << 2)
    this.length--
  }

  /** Moves every stop that triggers at `lastPrice` (a suffix) into `queue`. */
  drainTriggered(lastPrice: i32, queue: TriggerQueue): void {
    const threshold = this.isSell ? -lastPrice : lastPrice
    while (this.length > 0 && this.key(this.at(this.length - 1)) <= threshold) {
      queue.push(this.at(this.length - 1))
      this.length--
    }
  }

  /** Whether the stop in `slot` (of this side) triggers at `lastPrice`. */
  @inline triggers(slot: i32, lastPrice: i32): bool {
    return this.key(slot) <= (this.isSell ? -lastPrice : lastPrice)
  }

  clear(): void {
    this.length = 0
  }

  private insertAt(index: i32, slot: i32): void {
    if (this.length == this.capacity) {
      this.capacity <<= 1
      this.slots = heap.realloc(this.slots, <usize>this.capacity << 2)
    }
    memory.copy(this.slots + (<usize>(index + 1) << 2), this.slots + (<usize>index << 2), <usize>(this.length - index) << 2)
    store<i32>(this.slots + (<usize>index << 2), slot)
    this.length++
  }
}

/**
 * Triggered stops waiting to fire, earliest submitted first: a binary min-heap on arrival, so a
 * cascade of n stops costs O(n log n) rather than a rescan per stop.
 */
export class TriggerQueue {
  slots: usize = 0
  length: i32 = 0
  capacity: i32 = 64

  constructor() {
    this.slots = heap.alloc(<usize>this.capacity << 2)
  }

  push(slot: i32): void {
    if (this.length == this.capacity) {
      this.capacity <<= 1
      this.slots = heap.realloc(this.slots, <usize>this.capacity << 2)
    }
    let i = this.length++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (orderSeq(this.at(parent)) <= orderSeq(slot)) break
      this.set(i, this.at(parent))
      i = parent
    }
    this.set(i, slot)
  }

  /** Removes and returns the earliest submitted stop, or NIL when empty. */
  popEarliest(): i32 {
    if (this.length == 0) return NIL
    const first = this.at(0)
    const last = this.at(--this.length)
    let i = 0
    while (true) {
      let child = 2 * i + 1
      if (child >= this.length) break
      if (child + 1 < this.length && orderSeq(this.at(child + 1)) < orderSeq(this.at(child))) child++
      if (orderSeq(last) <= orderSeq(this.at(child))) break
      this.set(i, this.at(child))
      i = child
    }
    if (this.length > 0) this.set(i, last)
    return first
  }

  @inline private at(i: i32): i32 {
    return load<i32>(this.slots + (<usize>i << 2))
  }

  @inline private set(i: i32, slot: i32): void {
    store<i32>(this.slots + (<usize>i << 2), slot)
  }
}
