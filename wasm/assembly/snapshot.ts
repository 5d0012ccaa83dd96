// Snapshot, restore and the state hash. A snapshot lists the resting orders level by level
// (worst to best price, FIFO within a level, so a restore appends), the pending stops in trigger
// order, and every finished id, so duplicates are still refused after a restore. The hash covers
// the same canonical content; finished ids enter it as an order-independent sum, because the id
// table's layout depends on its history.

import { FLAG_PENDING, FLAG_SELL } from './abi'
import { asks, bids, buyStops, lastPrice, nextSeq, resetBook, sellStops, setCounters } from './book'
import { DONE, idInsert, idKeyAt, idLookup, idTableSize } from './ids'
import { BookSide, enqueue, levelHead } from './levels'
import {
  NIL, allocOrder, orderFlags, orderId, orderNext, orderPrice, orderQty, orderSeq, orderStop,
  orderUser,
} from './orders'
import { StopSide } from './stops'
import { output, outputLength, reserveOutput, writeI32, writeI64 } from './output'

const MAGIC: i32 = 0x31534b42 // "BKS1"
const VERSION: i32 = 1
const HEADER_SIZE: i32 = 32
const ORDER_RECORD_SIZE: i32 = 36

/** Writes the snapshot to the output buffer; returns its length in bytes. */
export function snapshot(): i32 {
  const canonical = writeCanonical()
  let done = 0
  const tableSize = idTableSize()
  for (let i = 0; i < tableSize; i++) {
    const id = idKeyAt(i)
    if (id != 0 && idLookup(id) == DONE) {
      writeI64(id)
      done++
    }
  }
  store<i32>(output(), done, 28)
  return canonical + done * 8
}

/** FNV-1a over the canonical part, mixed with the sum of the finished ids' hashes. */
export function stateHash(): i64 {
  const length = writeCanonical()
  let hash: u64 = 0xcbf29ce484222325
  const base = output()
  for (let i = 0; i < length; i++) {
    hash = (hash ^ <u64>load<u8>(base + i)) * 0x100000001b3
  }
  let ids: u64 = 0
  const tableSize = idTableSize()
  for (let i = 0; i < tableSize; i++) {
    const id = idKeyAt(i)
    if (id != 0 && idLookup(id) == DONE) ids += mix(<u64>id)
  }
  return <i64>mix(hash ^ ids)
}

/** Rebuilds the book from `length` bytes at `input`; false (book emptied) when malformed. */
export function restore(input: usize, length: i32): bool {
  resetBook()
  if (length < HEADER_SIZE || load<i32>(input) != MAGIC || load<i32>(input, 4) != VERSION) return false
  const orders = load<i32>(input, 20)
  const stops = load<i32>(input, 24)
  const done = load<i32>(input, 28)
  if (orders < 0 || stops < 0 || done < 0) return false
  if (<i64>length != HEADER_SIZE + <i64>(orders + stops) * ORDER_RECORD_SIZE + <i64>done * 8) return false
  setCounters(load<i64>(input, 8), load<i32>(input, 16))
  let p = input + HEADER_SIZE
  for (let i = 0; i < orders + stops; i++) {
    if (!restoreOrder(p)) {
      resetBook()
      return false
    }
    p += ORDER_RECORD_SIZE
  }
  for (let i = 0; i < done; i++) {
    if (!idInsert(load<i64>(p), DONE)) {
      resetBook()
      return false
    }
    p += 8
  }
  return true
}

function restoreOrder(p: usize): bool {
  const id = load<i64>(p)
  const flags = load<i32>(p, 32)
  const price = load<i32>(p, 24)
  const slot = allocOrder(id, load<i64>(p, 8), load<i32>(p, 16), load<i32>(p, 20), price, load<i32>(p, 28), flags)
  if (id <= 0 || orderQty(slot) <= 0 || !idInsert(id, slot)) return false
  const isSell = (flags & FLAG_SELL) != 0
  if (flags & FLAG_PENDING) (isSell ? sellStops : buyStops).push(slot)
  else enqueue((isSell ? asks : bids).levelFor(price), slot)
  return true
}

function writeCanonical(): i32 {
  reserveOutput(HEADER_SIZE)
  writeI32(MAGIC)
  writeI32(VERSION)
  writeI64(nextSeq)
  writeI32(lastPrice)
  writeI32(0) // resting orders, stops and finished ids: counted below
  writeI32(0)
  writeI32(0)
  const orderCount = writeSide(bids) + writeSide(asks)
  const stopCount = writeStops(buyStops) + writeStops(sellStops)
  store<i32>(output(), orderCount, 20)
  store<i32>(output(), stopCount, 24)
  return outputLength()
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

/** splitmix64's finalizer: spreads every input bit over the whole word. */
function mix(value: u64): u64 {
  let z = value + 0x9e3779b97f4a7c15
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb
  return z ^ (z >> 31)
}
