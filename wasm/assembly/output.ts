// One growable output buffer for results the host copies out right away (depth, snapshots).

let base: usize = 0
let capacity: i32 = 0
let length: i32 = 0

/** Empties the buffer and makes room for at least `bytes`. */
export function reserveOutput(bytes: i32): void {
  length = 0
  ensure(bytes)
}

export function output(): usize {
  return base
}

export function outputLength(): i32 {
  return length
}

export function writeI32(value: i32): void {
  ensure(length + 4)
  store<i32>(base + length, value)
  length += 4
}

export function writeI64(value: i64): void {
  ensure(length + 8)
  store<i64>(base + length, value)
  length += 8
}

function ensure(bytes: i32): void {
  if (bytes <= capacity) return
  let size = max(capacity, 4096)
  while (size < bytes) size <<= 1
  base = base == 0 ? heap.alloc(size) : heap.realloc(base, size)
  capacity = size
}

export function writeBytes(from: usize, bytes: i32): void {
  ensure(length + bytes)
  memory.copy(base + length, from, bytes)
  length += bytes
}

export function writeZeros(bytes: i32): void {
  ensure(length + bytes)
  memory.fill(base + length, 0, bytes)
  length += bytes
}
