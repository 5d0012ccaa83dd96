// Every order id the book has ever seen, so a duplicate is refused for the book's whole life, in
// a roaring bitmap: ids are grouped by their high bits into containers of 65,536; a container
// holds its low 16 bits as a sorted array of u16 while it has at most 4,096 of them (2 bytes an
// id, however sparse: a book sees only its own symbol's share of the gateway's ids) and as a
// plain 8 KB bitmap beyond (under 2 bytes an id). Containers are kept sorted by key, with the
// last one used cached, since ids mostly arrive in increasing order.

const ARRAY_MAX: i32 = 4096
const BITMAP_BYTES: i32 = 8192

// The container directory: parallel arrays sorted by key (id >> 16).
let keys: usize = 0 // i64
let data: usize = 0 // usize: the container's memory
let sizes: usize = 0 // i32: cardinality
let capacities: usize = 0 // i32: u16 values an array container has room for (0: a bitmap)
let count: i32 = 0
let dirCapacity: i32 = 0
let cached: i32 = -1

export function resetSeen(): void {
  for (let i = 0; i < count; i++) heap.free(dataAt(i))
  if (keys == 0) {
    dirCapacity = 16
    keys = heap.alloc(<usize>dirCapacity << 3)
    data = heap.alloc(<usize>dirCapacity << 2)
    sizes = heap.alloc(<usize>dirCapacity << 2)
    capacities = heap.alloc(<usize>dirCapacity << 2)
  }
  count = 0
  cached = -1
}

/** Marks `id` (>= 1) seen; false when it had been seen before. */
export function markSeen(id: i64): bool {
  const c = containerFor(id >> 16)
  const low = <i32>id & 0xffff
  if (capacityAt(c) == 0) return setBit(c, low)
  // Array container: ids mostly arrive in order, so try the end before searching.
  const n = sizeAt(c)
  const values = dataAt(c)
  let at = n
  if (n > 0 && low <= <i32>load<u16>(values + (<usize>(n - 1) << 1))) {
    at = lowerBound(values, n, low)
    if (at < n && <i32>load<u16>(values + (<usize>at << 1)) == low) return false
  }
  if (n == ARRAY_MAX) {
    toBitmap(c)
    return setBit(c, low)
  }
  insertValue(c, at, low)
  return true
}

export function seenContainerCount(): i32 {
  return count
}

// ---- snapshots: [key i64, size i32, values] per container in key order; values are `size`
// u16s padded to 4 bytes for an array container (size <= ARRAY_MAX), else the 8 KB bitmap.

export function seenContainerKey(i: i32): i64 {
  return load<i64>(keys + (<usize>i << 3))
}

export function seenContainerSize(i: i32): i32 {
  return sizeAt(i)
}

export function seenContainerData(i: i32): usize {
  return dataAt(i)
}

export function seenContainerBytes(size: i32): i32 {
  return size > ARRAY_MAX ? BITMAP_BYTES : ((size << 1) + 3) & ~3
}

/** Appends a container from a snapshot; false if out of key order or malformed. */
export function restoreContainer(key: i64, size: i32, from: usize): bool {
  if (key < 0 || size < 1 || size > 65536) return false
  if (count > 0 && load<i64>(keys + (<usize>(count - 1) << 3)) >= key) return false
  const c = insertContainer(count, key)
  if (size > ARRAY_MAX) {
    toBitmap(c)
    memory.copy(dataAt(c), from, BITMAP_BYTES)
    store<i32>(sizes + (<usize>c << 2), size)
    return popCount(dataAt(c)) == size
  }
  reserveValues(c, size)
  memory.copy(dataAt(c), from, <usize>size << 1)
  store<i32>(sizes + (<usize>c << 2), size)
  for (let i = 1; i < size; i++) {
    if (load<u16>(from + (<usize>i << 1)) <= load<u16>(from + (<usize>(i - 1) << 1))) return false
  }
  return true
}

/** Whether `id` is in the set (a restore checks that every live order's id is). */
export function isSeen(id: i64): bool {
  const c = find(id >> 16)
  if (c < 0) return false
  const low = <i32>id & 0xffff
  if (capacityAt(c) == 0) return (<i32>load<u8>(dataAt(c) + (low >> 3)) & (1 << (low & 7))) != 0
  const at = lowerBound(dataAt(c), sizeAt(c), low)
  return at < sizeAt(c) && <i32>load<u16>(dataAt(c) + (<usize>at << 1)) == low
}

@inline function dataAt(c: i32): usize { return load<usize>(data + (<usize>c << 2)) }
@inline function sizeAt(c: i32): i32 { return load<i32>(sizes + (<usize>c << 2)) }
@inline function capacityAt(c: i32): i32 { return load<i32>(capacities + (<usize>c << 2)) }

function setBit(c: i32, low: i32): bool {
  const byte = dataAt(c) + (low >> 3)
  const bit = 1 << (low & 7)
  const old = <i32>load<u8>(byte)
  if (old & bit) return false
  store<u8>(byte, <u8>(old | bit))
  store<i32>(sizes + (<usize>c << 2), sizeAt(c) + 1)
  return true
}

function insertValue(c: i32, at: i32, low: i32): void {
  const n = sizeAt(c)
  reserveValues(c, n + 1)
  const values = dataAt(c)
  memory.copy(values + (<usize>(at + 1) << 1), values + (<usize>at << 1), <usize>(n - at) << 1)
  store<u16>(values + (<usize>at << 1), <u16>low)
  store<i32>(sizes + (<usize>c << 2), n + 1)
}

function reserveValues(c: i32, needed: i32): void {
  let capacity = capacityAt(c)
  if (needed <= capacity) return
  while (capacity < needed) capacity = min(capacity << 1, ARRAY_MAX)
  store<usize>(data + (<usize>c << 2), heap.realloc(dataAt(c), <usize>capacity << 1))
  store<i32>(capacities + (<usize>c << 2), capacity)
}

function toBitmap(c: i32): void {
  const bitmap = heap.alloc(BITMAP_BYTES)
  memory.fill(bitmap, 0, BITMAP_BYTES)
  const values = dataAt(c)
  for (let i = 0; i < sizeAt(c); i++) {
    const low = <i32>load<u16>(values + (<usize>i << 1))
    const byte = bitmap + (low >> 3)
    store<u8>(byte, <u8>(<i32>load<u8>(byte) | (1 << (low & 7))))
  }
  heap.free(values)
  store<usize>(data + (<usize>c << 2), bitmap)
  store<i32>(capacities + (<usize>c << 2), 0)
}

function popCount(bitmap: usize): i32 {
  let n = 0
  for (let i = 0; i < BITMAP_BYTES; i += 8) n += <i32>popcnt(load<u64>(bitmap + i))
  return n
}

/** The container for `key`, created empty when there is none. */
function containerFor(key: i64): i32 {
  if (cached >= 0 && load<i64>(keys + (<usize>cached << 3)) == key) return cached
  let c = find(key)
  if (c < 0) c = insertContainer(~c, key)
  cached = c
  return c
}

/** The index of `key`, or ~(where it would be inserted). */
function find(key: i64): i32 {
  let lo = 0
  let hi = count
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const k = load<i64>(keys + (<usize>mid << 3))
    if (k == key) return mid
    if (k < key) lo = mid + 1
    else hi = mid
  }
  return ~lo
}

function insertContainer(at: i32, key: i64): i32 {
  if (count == dirCapacity) {
    dirCapacity <<= 1
    keys = heap.realloc(keys, <usize>dirCapacity << 3)
    data = heap.realloc(data, <usize>dirCapacity << 2)
    sizes = heap.realloc(sizes, <usize>dirCapacity << 2)
    capacities = heap.realloc(capacities, <usize>dirCapacity << 2)
  }
  const tail = count - at
  memory.copy(keys + (<usize>(at + 1) << 3), keys + (<usize>at << 3), <usize>tail << 3)
  memory.copy(data + (<usize>(at + 1) << 2), data + (<usize>at << 2), <usize>tail << 2)
  memory.copy(sizes + (<usize>(at + 1) << 2), sizes + (<usize>at << 2), <usize>tail << 2)
  memory.copy(capacities + (<usize>(at + 1) << 2), capacities + (<usize>at << 2), <usize>tail << 2)
  store<i64>(keys + (<usize>at << 3), key)
  store<usize>(data + (<usize>at << 2), heap.alloc(8 << 1))
  store<i32>(sizes + (<usize>at << 2), 0)
  store<i32>(capacities + (<usize>at << 2), 8)
  count++
  if (cached >= at) cached++
  return at
}

function lowerBound(values: usize, n: i32, low: i32): i32 {
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (<i32>load<u16>(values + (<usize>mid << 1)) < low) lo = mid + 1
    else hi = mid
  }
  return lo
}
