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

  /** Appends in snapshot order, which is already sorted. */
  push(slot: i32): void {
    this.insertAt(this.length, slot)
  }

  remove(slot: i32): void {
    let i = this.length - 1
    while (this.at(i) != slot) i--
    memory.copy(this.slots + (<usize>i << 2), this.slots + (<usize>(i + 1) << 2), <usize>(this.length - 1 - i) << 2)
    this.length--
  }

  /** Of the stops that trigger at `lastPrice`, the earliest submitted; NIL when none does. */
  earliestTriggered(lastPrice: i32): i32 {
    const threshold = this.isSell ? -lastPrice : lastPrice
    let found = NIL
    for (let i = this.length - 1; i >= 0; i--) {
      const slot = this.at(i)
      if (this.key(slot) > threshold) break
      if (found == NIL || orderSeq(slot) < orderSeq(found)) found = slot
    }
    return found
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
