// Every order id the book has ever seen, mapped to its slot while the order is live and to DONE
// afterwards: O(1) cancel by id, and duplicate ids refused for the book's whole life.
// Open addressing with linear probing, at most half full; ids are >= 1, so key 0 marks empty.

export const DONE: i32 = -1
export const ABSENT: i32 = -2

let keys: usize = 0 // i64 per entry
let values: usize = 0 // i32 per entry
let mask: i32 = 0
let count: i32 = 0

export function resetIds(): void {
  if (keys == 0) allocate(1 << 12)
  memory.fill(keys, 0, (<usize>mask + 1) << 3)
  count = 0
}

/** The slot of a live order, DONE for a finished one, ABSENT for an id never seen. */
export function idLookup(id: i64): i32 {
  const entry = find(id)
  return load<i64>(keys + (<usize>entry << 3)) == 0 ? ABSENT : load<i32>(values + (<usize>entry << 2))
}

/** Records a new id with `value`; false (and nothing changed) when the id was seen before. */
export function idInsert(id: i64, value: i32): bool {
  let entry = find(id)
  if (load<i64>(keys + (<usize>entry << 3)) != 0) return false
  if ((count + 1) << 1 > mask + 1) {
    grow()
    entry = find(id)
  }
  store<i64>(keys + (<usize>entry << 3), id)
  store<i32>(values + (<usize>entry << 2), value)
  count++
  return true
}

/** Points a known id at a new value (a slot, or DONE). */
export function idSet(id: i64, value: i32): void {
  store<i32>(values + (<usize>find(id) << 2), value)
}

/** The i-th table entry's key (0 when empty), for snapshots. */
export function idKeyAt(entry: i32): i64 {
  return load<i64>(keys + (<usize>entry << 3))
}

export function idTableSize(): i32 {
  return mask + 1
}

/**
 * The entry holding `id`, or the empty entry where it would go. The hash is the id itself: ids
 * come from the gateway's sequence, so a book's ids are increasing and fall into neighbouring
 * entries, which keeps inserts and lookups in cache (a scrambling hash costs a cache miss per
 * order, halving throughput, and guards against nothing here: no outsider chooses ids).
 */
@inline function find(id: i64): i32 {
  let entry = <i32>id & mask
  while (true) {
    const key = load<i64>(keys + (<usize>entry << 3))
    if (key == id || key == 0) return entry
    entry = (entry + 1) & mask
  }
  return entry
}

function allocate(size: i32): void {
  keys = heap.alloc(<usize>size << 3)
  values = heap.alloc(<usize>size << 2)
  memory.fill(keys, 0, <usize>size << 3)
  mask = size - 1
}

function grow(): void {
  const oldKeys = keys
  const oldValues = values
  const oldSize = mask + 1
  allocate(oldSize << 1)
  for (let i = 0; i < oldSize; i++) {
    const key = load<i64>(oldKeys + (<usize>i << 3))
    if (key == 0) continue
    const entry = find(key)
    store<i64>(keys + (<usize>entry << 3), key)
    store<i32>(values + (<usize>entry << 2), load<i32>(oldValues + (<usize>i << 2)))
  }
  heap.free(oldKeys)
  heap.free(oldValues)
}
