// Snapshot, restore and the state hash. A snapshot is canonical (the same state always gives the
// same bytes, whatever the history): a header, the resting orders level by level (worst to best
// price, FIFO within a level, so a restore appends), the pending stops in trigger order, and the
// pages of seen ids in ascending order, so duplicates are still refused after a restore. The
// state hash is FNV-1a over those bytes.

import { FLAG_PENDING, FLAG_SELL } from './abi'
import { asks, bids, buyStops, lastPrice, nextSeq, resetBook, sellStops, setCounters } from './book'
import { BookSide, enqueue, levelHead } from './levels'
import { liveInsert } from './live'
import {
  NIL, allocOrder, orderFlags, orderId, orderNext, orderPrice, orderQty, orderSeq, orderStop,
  orderUser,
} from './orders'
import { output, outputLength, reserveOutput, writeBytes, writeI32, writeI64 } from './output'
import { pageBytes, pageFor, seenPageCount, sortedPageKeys } from './seen'
import { StopSide } from './stops'

const MAGIC: i32 = 0x31534b42 // "BKS1"
const VERSION: i32 = 1
const HEADER_SIZE: i32 = 32
const ORDER_RECORD_SIZE: i32 = 36

/** Writes the snapshot to the output buffer; returns its length in bytes. */
export function snapshot(): i32 {
  reserveOutput(HEADER_SIZE)
  writeI32(MAGIC)
  writeI32(VERSION)
  writeI64(nextSeq)
  writeI32(lastPrice)
  writeI32(0) // resting orders, pending stops and id pages, counted below
  writeI32(0)
  writeI32(0)
  const orders = writeSide(bids) + writeSide(asks)
  const stops = writeStops(buyStops) + writeStops(sellStops)
  const pages = writePages()
  store<i32>(output(), orders, 20)
  store<i32>(output(), stops, 24)
  store<i32>(output(), pages, 28)
  return outputLength()
}

export function stateHash(): i64 {
  const length = snapshot()
  const base = output()
  let hash: u64 = 0xcbf29ce484222325
  for (let i = 0; i < length; i++) hash = (hash ^ <u64>load<u8>(base + i)) * 0x100000001b3
  return <i64>hash
}

/** Rebuilds the book from `length` bytes at `input`; false (and an empty book) when malformed. */
export function restore(input: usize, length: i32): bool {
  resetBook()
  if (length < HEADER_SIZE || load<i32>(input) != MAGIC || load<i32>(input, 4) != VERSION) return false
  const orders = load<i32>(input, 20)
  const stops = load<i32>(input, 24)
  const pages = load<i32>(input, 28)
  const pageRecord = 8 + pageBytes()
  const expected = <i64>HEADER_SIZE + <i64>(orders + stops) * ORDER_RECORD_SIZE + <i64>pages * pageRecord
  if (orders < 0 || stops < 0 || pages < 0 || <i64>length != expected) return false
  setCounters(load<i64>(input, 8), load<i32>(input, 16))
  let p = input + HEADER_SIZE
  for (let i = 0; i < orders + stops; i++, p += ORDER_RECORD_SIZE) {
    if (!restoreOrder(p)) return fail()
  }
  for (let i = 0; i < pages; i++, p += pageRecord) {
    const key = load<i64>(p)
    if (key < 1 || pageFor(key, false) != 0) return fail()
    memory.copy(pageFor(key, true), p + 8, pageBytes())
  }
  return true
}

function fail(): bool {
  resetBook()
  return false
}

function restoreOrder(p: usize): bool {
  const id = load<i64>(p)
  const qty = load<i32>(p, 20)
  const price = load<i32>(p, 24)
  const flags = load<i32>(p, 32)
  if (id < 1 || qty < 1) return false
  const slot = allocOrder(id, load<i64>(p, 8), load<i32>(p, 16), qty, price, load<i32>(p, 28), flags)
  liveInsert(id, slot)
  const isSell = (flags & FLAG_SELL) != 0
  if (flags & FLAG_PENDING) (isSell ? sellStops : buyStops).push(slot)
  else enqueue((isSell ? asks : bids).levelFor(price), slot)
  return true
}

function writeSide(side: BookSide): i32 {
  let count = 0
  for (let i = 0; i < side.length; i++) {
    for (let slot = levelHead(side.levelAt(i)); slot != NIL; slot = orderNext(slot)) {
      writeOrder(slot)
      count++
    }
  }
  return count
}

function writeStops(stops: StopSide): i32 {
  for (let i = 0; i < stops.length; i++) writeOrder(stops.at(i))
  return stops.length
}

function writeOrder(slot: i32): void {
  writeI64(orderId(slot))
  writeI64(orderSeq(slot))
  writeI32(orderUser(slot))
  writeI32(orderQty(slot))
  writeI32(orderPrice(slot))
  writeI32(orderStop(slot))
  writeI32(orderFlags(slot))
}

function writePages(): i32 {
  const count = seenPageCount()
  const keys = heap.alloc(<usize>max(count, 1) << 3)
  sortedPageKeys(keys)
  for (let i = 0; i < count; i++) {
    const key = load<i64>(keys + (<usize>i << 3))
    writeI64(key)
    writeBytes(pageFor(key, false), pageBytes())
  }
  heap.free(keys)
  return count
}
