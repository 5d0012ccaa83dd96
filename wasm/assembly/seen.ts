// Every order id the book has ever seen, so a duplicate is refused for the book's whole life.
// Ids come from the gateway's sequence, so a book's ids are dense and mostly increasing: a sparse
// bitmap of 4096-id pages holds them in one bit each, found through a small page directory, with
// the last page used cached (consecutive ids share it).

const PAGE_BITS = 12
const PAGE_BYTES: usize = (1 << PAGE_BITS) >> 3

let keys: usize = 0 // i64 per entry: page number + 1 (0 marks an empty entry)
let pages: usize = 0 // usize per entry: the page's bitmap
let mask: i32 = 0
let count: i32 = 0
let lastKey: i64 = 0
let lastPage: usize = 0

export function resetSeen(): void {
  if (keys != 0) {
    for (let i = 0; i <= mask; i++) {
      const page = load<usize>(pages + (<usize>i << 2))
      if (load<i64>(keys + (<usize>i << 3)) != 0) heap.free(page)
    }
    heap.free(keys)
    heap.free(pages)
  }
  allocate(64)
  count = 0
  lastKey = 0
}

/** Marks `id` seen; false when it had been seen before. */
export function markSeen(id: i64): bool {
  const page = pageFor((id >> PAGE_BITS) + 1, true)
  const byte = page + <usize>((<i32>id & ((1 << PAGE_BITS) - 1)) >> 3)
  const bit = 1 << (<i32>id & 7)
  const old = <i32>load<u8>(byte)
  if (old & bit) return false
  store<u8>(byte, <u8>(old | bit))
  return true
}

export function seenPageCount(): i32 {
  return count
}

/** The pages' keys in ascending order into `out` (count i64s), for a canonical snapshot. */
export function sortedPageKeys(out: usize): void {
  let n = 0
  for (let i = 0; i <= mask; i++) {
    const key = load<i64>(keys + (<usize>i << 3))
    if (key == 0) continue
    // Insertion sort: pages arrive almost in order, and there are few of them.
    let j = n++
    while (j > 0 && load<i64>(out + (<usize>(j - 1) << 3)) > key) {
      store<i64>(out + (<usize>j << 3), load<i64>(out + (<usize>(j - 1) << 3)))
      j--
    }
    store<i64>(out + (<usize>j << 3), key)
  }
}

/** The bitmap of the page with `key` (PAGE_BYTES bytes), created empty if `create`. */
export function pageFor(key: i64, create: bool): usize {
  if (key == lastKey) return lastPage
  let entry = <i32>key & mask
  while (true) {
    const k = load<i64>(keys + (<usize>entry << 3))
    if (k == key) break
    if (k == 0) {
      if (!create) return 0
      return remember(key, insert(entry, key))
    }
    entry = (entry + 1) & mask
  }
  return remember(key, load<usize>(pages + (<usize>entry << 2)))
}

export function pageBytes(): i32 {
  return <i32>PAGE_BYTES
}

@inline function remember(key: i64, page: usize): usize {
  lastKey = key
  lastPage = page
  return page
}

function insert(entry: i32, key: i64): usize {
  const page = heap.alloc(PAGE_BYTES)
  memory.fill(page, 0, PAGE_BYTES)
  store<i64>(keys + (<usize>entry << 3), key)
  store<usize>(pages + (<usize>entry << 2), page)
  if (++count << 1 > mask + 1) grow()
  return page
}

function allocate(size: i32): void {
  keys = heap.alloc(<usize>size << 3)
  pages = heap.alloc(<usize>size << 2)
  memory.fill(keys, 0, <usize>size << 3)
  mask = size - 1
}

function grow(): void {
  const oldKeys = keys
  const oldPages = pages
  const oldSize = mask + 1
  allocate(oldSize << 1)
  for (let i = 0; i < oldSize; i++) {
    const key = load<i64>(oldKeys + (<usize>i << 3))
    if (key == 0) continue
    let entry = <i32>key & mask
    while (load<i64>(keys + (<usize>entry << 3)) != 0) entry = (entry + 1) & mask
    store<i64>(keys + (<usize>entry << 3), key)
    store<usize>(pages + (<usize>entry << 2), load<usize>(oldPages + (<usize>i << 2)))
  }
  heap.free(oldKeys)
  heap.free(oldPages)
}
