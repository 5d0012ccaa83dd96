// The order slab: one 48-byte record per live order, in a block that only grows, with a free
// list threaded through the `next` field. Slots are reused, so placing and removing orders
// allocates nothing once the slab has reached the book's working size.

export const NIL: i32 = -1

const O_ID = 0 // i64: the host's order id
const O_SEQ = 8 // i64: arrival order of the `new` command
const O_USER = 16
const O_QTY = 20 // open quantity
const O_PRICE = 24 // limit price (0 for market and stop)
const O_STOP = 28 // trigger price (0 unless stop or stop_limit)
const O_FLAGS = 32 // abi.ts order flags
const O_PREV = 36 // neighbours in the price level's FIFO queue
const O_NEXT = 40
const O_LEVEL = 44 // the price level it rests at
const ORDER_SIZE = 48

let base: usize = 0
let capacity: i32 = 0
let used: i32 = 0 // slots handed out at least once
let freeHead: i32 = NIL
let live: i32 = 0

export function resetOrders(): void {
  if (base == 0) {
    capacity = 1024
    base = heap.alloc(<usize>capacity * ORDER_SIZE)
  }
  used = 0
  freeHead = NIL
  live = 0
}

export function liveOrders(): i32 {
  return live
}

export function allocOrder(id: i64, seq: i64, user: i32, qty: i32, price: i32, stop: i32, flags: i32): i32 {
  let slot = freeHead
  if (slot != NIL) {
    freeHead = orderNext(slot)
  } else {
    if (used == capacity) {
      capacity <<= 1
      base = heap.realloc(base, <usize>capacity * ORDER_SIZE)
    }
    slot = used++
  }
  live++
  const p = at(slot)
  store<i64>(p, id, O_ID)
  store<i64>(p, seq, O_SEQ)
  store<i32>(p, user, O_USER)
  store<i32>(p, qty, O_QTY)
  store<i32>(p, price, O_PRICE)
  store<i32>(p, stop, O_STOP)
  store<i32>(p, flags, O_FLAGS)
  store<i32>(p, NIL, O_PREV)
  store<i32>(p, NIL, O_NEXT)
  store<i32>(p, NIL, O_LEVEL)
  return slot
}

export function freeOrder(slot: i32): void {
  store<i32>(at(slot), 0, O_QTY)
  store<i32>(at(slot), freeHead, O_NEXT)
  freeHead = slot
  live--
}

@inline function at(slot: i32): usize {
  return base + <usize>slot * ORDER_SIZE
}

@inline export function orderId(slot: i32): i64 { return load<i64>(at(slot), O_ID) }
@inline export function orderSeq(slot: i32): i64 { return load<i64>(at(slot), O_SEQ) }
@inline export function orderUser(slot: i32): i32 { return load<i32>(at(slot), O_USER) }
@inline export function orderQty(slot: i32): i32 { return load<i32>(at(slot), O_QTY) }
@inline export function orderPrice(slot: i32): i32 { return load<i32>(at(slot), O_PRICE) }
@inline export function orderStop(slot: i32): i32 { return load<i32>(at(slot), O_STOP) }
@inline export function orderFlags(slot: i32): i32 { return load<i32>(at(slot), O_FLAGS) }
@inline export function orderPrev(slot: i32): i32 { return load<i32>(at(slot), O_PREV) }
@inline export function orderNext(slot: i32): i32 { return load<i32>(at(slot), O_NEXT) }
@inline export function orderLevel(slot: i32): i32 { return load<i32>(at(slot), O_LEVEL) }

@inline export function setOrderQty(slot: i32, qty: i32): void { store<i32>(at(slot), qty, O_QTY) }
@inline export function setOrderFlags(slot: i32, flags: i32): void { store<i32>(at(slot), flags, O_FLAGS) }
@inline export function setOrderPrev(slot: i32, prev: i32): void { store<i32>(at(slot), prev, O_PREV) }
@inline export function setOrderNext(slot: i32, next: i32): void { store<i32>(at(slot), next, O_NEXT) }
@inline export function setOrderLevel(slot: i32, level: i32): void { store<i32>(at(slot), level, O_LEVEL) }
