// The book's exports: numbers in, numbers out. Commands are written by the host into the command
// buffer and run in batches by `execute`; events, depth and snapshots are read back from linear
// memory at the addresses these functions return.

import { COMMAND_CAPACITY, COMMAND_WORDS, DEPTH_WORDS } from './abi'
import { asks, bids, executeCommand, resetBook } from './book'
import { allocateEvents, clearEvents, eventBase, eventCapacity, eventCount } from './events'
import { BookSide, levelCount, levelPrice, levelQty } from './levels'
import { liveOrders } from './orders'
import { output, reserveOutput, writeI32, writeI64 } from './output'
import * as snapshots from './snapshot'

const commands = heap.alloc(<usize>COMMAND_CAPACITY * COMMAND_WORDS << 2)
let input: usize = 0
let inputCapacity: i32 = 0

allocateEvents()
resetBook()

export function commandBuffer(): usize {
  return commands
}

/** Runs `count` command records from the command buffer; returns how many events they made. */
export function execute(count: i32): i32 {
  clearEvents()
  const n = min(count, COMMAND_CAPACITY)
  for (let i = 0; i < n; i++) executeCommand(commands + (<usize>i * COMMAND_WORDS << 2))
  return eventCount
}

/** Where the events are; it moves only when a batch made more events than the buffer held. */
export function eventBuffer(): usize {
  return eventBase
}

export function eventBufferCapacity(): i32 {
  return eventCapacity
}

/** Writes [bid levels, ask levels, then records best first] to the output buffer. */
export function depth(maxLevels: i32): usize {
  const nBids = min(bids.length, maxLevels)
  const nAsks = min(asks.length, maxLevels)
  reserveOutput((2 + (nBids + nAsks) * DEPTH_WORDS) << 2)
  writeI32(nBids)
  writeI32(nAsks)
  writeLevels(bids, nBids)
  writeLevels(asks, nAsks)
  return output()
}

function writeLevels(side: BookSide, count: i32): void {
  for (let i = side.length - 1; i >= side.length - count; i--) {
    const level = side.levelAt(i)
    writeI32(levelPrice(level))
    writeI32(levelCount(level))
    writeI64(levelQty(level))
  }
}

export function openOrders(): i32 {
  return liveOrders()
}

/** Writes a snapshot to the output buffer (see outputBuffer); returns its length. */
export function snapshot(): i32 {
  return snapshots.snapshot()
}

export function outputBuffer(): usize {
  return output()
}

/** A buffer of at least `size` bytes for the host to write a snapshot into before `restore`. */
export function inputBuffer(size: i32): usize {
  if (size > inputCapacity) {
    if (input != 0) heap.free(input)
    input = heap.alloc(size)
    inputCapacity = size
  }
  return input
}

/** Replaces the book with the snapshot in the input buffer; false (and an empty book) if malformed. */
export function restore(size: i32): bool {
  if (size <= inputCapacity) return snapshots.restore(input, size)
  resetBook()
  return false
}

export function stateHash(): i64 {
  return snapshots.stateHash()
}
