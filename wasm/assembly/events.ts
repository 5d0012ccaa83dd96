// The event buffer the host reads after each batch: EVENT_WORDS i32 words per event, growing
// (and possibly moving: the host asks for its address again) when a batch produces more events
// than it holds.

import {
  EVENT_WORDS, EV_AMENDED, EV_CANCELED, EV_EXPIRED, EV_FILL, EV_PENDING, EV_REJECTED, EV_RESTED,
  EV_TRIGGERED,
} from './abi'

const EVENT_SIZE: usize = <usize>EVENT_WORDS << 2

export let eventBase: usize = 0
export let eventCapacity: i32 = 0
export let eventCount: i32 = 0

export function allocateEvents(): void {
  eventCapacity = 8192
  eventBase = heap.alloc(<usize>eventCapacity * EVENT_SIZE)
}

export function clearEvents(): void {
  eventCount = 0
}

@inline function next(): usize {
  if (eventCount == eventCapacity) {
    eventCapacity <<= 1
    eventBase = heap.realloc(eventBase, <usize>eventCapacity * EVENT_SIZE)
  }
  return eventBase + <usize>(eventCount++) * EVENT_SIZE
}

@inline function write(type: i32, aux: i32, id: i64, other: i64, qty: i32, price: i32): void {
  const p = next()
  store<i32>(p, type, 0)
  store<i32>(p, aux, 4)
  store<i64>(p, id, 8)
  store<i64>(p, other, 16)
  store<i32>(p, qty, 24)
  store<i32>(p, price, 28)
}

export function emitFill(taker: i64, maker: i64, takerIsSell: bool, price: i32, qty: i32): void {
  write(EV_FILL, <i32>takerIsSell, taker, maker, qty, price)
}

export function emitRested(id: i64, price: i32, qty: i32): void {
  write(EV_RESTED, 0, id, 0, qty, price)
}

export function emitPending(id: i64, stop: i32, qty: i32): void {
  write(EV_PENDING, 0, id, 0, qty, stop)
}

export function emitCanceled(id: i64, qty: i32, reason: i32): void {
  write(EV_CANCELED, reason, id, 0, qty, 0)
}

export function emitRejected(id: i64, reason: i32): void {
  write(EV_REJECTED, reason, id, 0, 0, 0)
}

export function emitAmended(id: i64, qty: i32): void {
  write(EV_AMENDED, 0, id, 0, qty, 0)
}

export function emitTriggered(id: i64): void {
  write(EV_TRIGGERED, 0, id, 0, 0, 0)
}

export function emitExpired(id: i64, qty: i32): void {
  write(EV_EXPIRED, 0, id, 0, qty, 0)
}
