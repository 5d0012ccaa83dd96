// The live orders (resting or pending stops) by id, for O(1) cancel and amend. Only live orders
// are here, so the table stays as small as the book, and in cache. Open addressing with linear
// probing, at most a quarter full, Fibonacci hashing (consecutive ids would otherwise form one
// long probe run that every delete walks) and backward-shift deletion (no tombstones).

import { NIL } from './orders'

let keys: usize = 0 // i64 per entry, 0 when empty (ids are >= 1)
let slots: usize = 0 // i32 per entry
let mask: i32 = 0
let shift: u64 = 0 // 64 - log2(table size)
let count: i32 = 0

export function resetLive(): void {
  if (keys == 0) allocate(10)
  else memory.fill(keys, 0, (<usize>mask + 1) << 3)
  count = 0
}

/** The slot of the live order `id`, or NIL. */
export function liveLookup(id: i64): i32 {
  if (id <= 0) return NIL
  let entry = home(id)
  while (true) {
    const key = load<i64>(keys + (<usize>entry << 3))
    if (key == id) return load<i32>(slots + (<usize>entry << 2))
    if (key == 0) return NIL
    entry = (entry + 1) & mask
  }
}

/** Adds a live order; the caller guarantees `id` (>= 1) is not in the table. */
export function liveInsert(id: i64, slot: i32): void {
  if ((count + 1) << 2 > mask + 1) grow()
  put(id, slot)
  count++
}

export function liveRemove(id: i64): void {
  let hole = home(id)
  while (load<i64>(keys + (<usize>hole << 3)) != id) hole = (hole + 1) & mask
  // Backward shift: move later entries of the same probe run into the hole, so lookups never
  // stop early at it.
  let entry = hole
  while (true) {
    entry = (entry + 1) & mask
    const key = load<i64>(keys + (<usize>entry << 3))
    if (key == 0) break
    // The entry may move back to the hole only if its home is not inside (hole, entry].
    if (((entry - home(key)) & mask) >= ((entry - hole) & mask)) {
      store<i64>(keys + (<usize>hole << 3), key)
      store<i32>(slots + (<usize>hole << 2), load<i32>(slots + (<usize>entry << 2)))
      hole = entry
    }
  }
  store<i64>(keys + (<usize>hole << 3), 0)
  count--
}

@inline function home(id: i64): i32 {
  return <i32>((<u64>id * 0x9E3779B97F4A7C15) >> shift)
}

@inline function put(id: i64, slot: i32): void {
  let entry = home(id)
  while (load<i64>(keys + (<usize>entry << 3)) != 0) entry = (entry + 1) & mask
  store<i64>(keys + (<usize>entry << 3), id)
  store<i32>(slots + (<usize>entry << 2), slot)
}

function allocate(bits: i32): void {
  const size = 1 << bits
  keys = heap.alloc(<usize>size << 3)
  slots = heap.alloc(<usize>size << 2)
  memory.fill(keys, 0, <usize>size << 3)
  mask = size - 1
  shift = <u64>(64 - bits)
}

function grow(): void {
  const oldKeys = keys
  const oldSlots = slots
  const oldSize = mask + 1
  allocate(65 - <i32>shift)
  for (let i = 0; i < oldSize; i++) {
    const key = load<i64>(oldKeys + (<usize>i << 3))
    if (key != 0) put(key, load<i32>(oldSlots + (<usize>i << 2)))
  }
  heap.free(oldKeys)
  heap.free(oldSlots)
}
