// Snapshot, restore and the state hash. A snapshot is canonical (the same state always gives the
// same bytes, whatever the history): a header, the resting orders level by level (worst to best
// price, FIFO within a level), the pending stops in trigger order, and the seen-id containers in
// key order. The state hash is FNV-1a over those bytes. A restore checks every field, then that
// the book it built snapshots back to exactly the input, so a malformed snapshot is refused
// rather than half-loaded.

import { FLAG_PENDING, FLAG_POST_ONLY, FLAG_SELL, MAX_PRICE, TIF_DAY, TYPE_STOP } from './abi'
import {
  asks, bids, buyStops, isValid, lastPrice, nextSeq, orderTif, orderType, resetBook, sellStops,
  setCounters,
} from './book'
import { BookSide, enqueue, levelHead, levelPrice } from './levels'
import { liveInsert, liveLookup } from './live'
import {
  NIL, allocOrder, orderFlags, orderId, orderNext, orderPrice, orderQty, orderSeq, orderStop,
  orderUser,
} from './orders'
import { output, outputLength, reserveOutput, writeBytes, writeI32, writeI64, writeZeros } from './output'
import {
  isSeen, restoreContainer, seenContainerBytes, seenContainerCount, seenContainerData,
  seenContainerKey, seenContainerSize,
} from './seen'
import { StopSide } from './stops'

const MAGIC: i32 = 0x31534b42 // "BKS1"
const VERSION: i32 = 2
const HEADER_SIZE: i32 = 32
const ORDER_RECORD_SIZE: i32 = 36
const CONTAINER_HEADER_SIZE: i32 = 12

/** Writes the snapshot to the output buffer; returns its length in bytes. */
export function snapshot(): i32 {
  reserveOutput(HEADER_SIZE)
  writeI32(MAGIC)
  writeI32(VERSION)
  writeI64(nextSeq)
  writeI32(lastPrice)
  writeI32(0) // resting orders, pending stops and id containers, counted below
  writeI32(0)
  writeI32(0)
  const orders = writeSide(bids) + writeSide(asks)
  const stops = writeStops(buyStops) + writeStops(sellStops)
  const containers = writeSeen()
  store<i32>(output(), orders, 20)
  store<i32>(output(), stops, 24)
  store<i32>(output(), containers, 28)
  return outputLength()
}

export function stateHash(): i64 {
  const length = snapshot()
  const base = output()
  let hash: u64 = 0xcbf29ce484222325
  for (let i = 0; i < length; i++) hash = (hash ^ <u64>load<u8>(base + i)) * 0x100000001b3
  return <i64>hash
}

/** Rebuilds the book from `length` bytes at `input`; false (and an empty book) if malformed. */
export function restore(input: usize, length: i32): bool {
  resetBook()
  if (length < HEADER_SIZE || load<i32>(input) != MAGIC || load<i32>(input, 4) != VERSION) return false
  const seq = load<i64>(input, 8)
  const price = load<i32>(input, 16)
  const orders = <i64>load<i32>(input, 20) + <i64>load<i32>(input, 24)
  const containers = load<i32>(input, 28)
  if (seq < 1 || price < 0 || price > MAX_PRICE || containers < 0) return fail()
  if (<i64>HEADER_SIZE + orders * ORDER_RECORD_SIZE > <i64>length) return fail()
  setCounters(seq, price)
  const end = input + length
  let p = input + HEADER_SIZE
  for (let i: i64 = 0; i < orders; i++, p += ORDER_RECORD_SIZE) {
    if (!restoreOrder(p)) return fail()
  }
  for (let i = 0; i < containers; i++) {
    if (p + CONTAINER_HEADER_SIZE > end) return fail()
    const size = load<i32>(p, 8)
    const bytes = size >= 1 ? seenContainerBytes(size) : 0
    if (p + CONTAINER_HEADER_SIZE + bytes > end) return fail()
    if (!restoreContainer(load<i64>(p), size, p + CONTAINER_HEADER_SIZE)) return fail()
    p += CONTAINER_HEADER_SIZE + bytes
  }
  if (p != end || !liveIdsSeen() || crossed()) return fail()
  // Order and padding: a canonical snapshot is the one this book writes back.
  return snapshot() == length && memory.compare(output(), input, length) == 0 ? true : fail()
}

function fail(): bool {
  resetBook()
  return false
}

function restoreOrder(p: usize): bool {
  const id = load<i64>(p)
  const seq = load<i64>(p, 8)
  const user = load<i32>(p, 16)
  const qty = load<i32>(p, 20)
  const price = load<i32>(p, 24)
  const stop = load<i32>(p, 28)
  const flags = load<i32>(p, 32)
  if (id < 1 || user < 1 || seq < 1 || seq >= nextSeq || (flags & ~(FLAG_PENDING * 2 - 1)) != 0) return false
  if (!isValid(flags & (FLAG_PENDING - 1), qty, price, stop) || liveLookup(id) != NIL) return false
  const pending = (flags & FLAG_PENDING) != 0
  const type = orderType(flags)
  // A pending order is a stop; a resting one a limit (or triggered stop_limit) that may rest.
  if (pending ? type < TYPE_STOP : (price == 0 || orderTif(flags) > TIF_DAY)) return false
  if (flags & FLAG_POST_ONLY && pending) return false
  const slot = allocOrder(id, seq, user, qty, price, stop, flags)
  liveInsert(id, slot)
  const isSell = (flags & FLAG_SELL) != 0
  if (pending) (isSell ? sellStops : buyStops).add(slot)
  else enqueue((isSell ? asks : bids).levelFor(price), slot)
  return true
}

function liveIdsSeen(): bool {
  for (let side = 0; side < 2; side++) {
    const book = side == 0 ? bids : asks
    for (let i = 0; i < book.length; i++) {
      for (let slot = levelHead(book.levelAt(i)); slot != NIL; slot = orderNext(slot)) {
        if (!isSeen(orderId(slot))) return false
      }
    }
    const stops = side == 0 ? buyStops : sellStops
    for (let i = 0; i < stops.length; i++) if (!isSeen(orderId(stops.at(i)))) return false
  }
  return true
}

function crossed(): bool {
  const bid = bids.best()
  const ask = asks.best()
  return bid != NIL && ask != NIL && levelPrice(bid) >= levelPrice(ask)
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

function writeSeen(): i32 {
  const count = seenContainerCount()
  for (let i = 0; i < count; i++) {
    const size = seenContainerSize(i)
    const bytes = seenContainerBytes(size)
    const used = min(bytes, size << 1) // the array's values, or the whole bitmap
    writeI64(seenContainerKey(i))
    writeI32(size)
    writeBytes(seenContainerData(i), used)
    writeZeros(bytes - used)
  }
  return count
}
