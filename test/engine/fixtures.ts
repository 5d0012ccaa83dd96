// Short builders for orders and events, so a scenario reads like the rule it checks.

import type {
  BookEvent,
  CancelReason,
  Command,
  NewOrder,
  RejectReason,
  Side,
} from '../../src/engine/types.ts'

/** The users the scenarios trade as. */
export const A = 1
export const B = 2
export const C = 3

/** The `new` command that submits an order. */
export const add = (o: NewOrder): Command => ({ op: 'new', ...o })

type Extra = Partial<NewOrder>

/** A GTC limit order unless `extra` says otherwise. */
export function limit(
  id: number,
  user: number,
  side: Side,
  qty: number,
  price: number,
  extra: Extra = {},
): NewOrder {
  return { id, user, side, type: 'limit', qty, price, tif: 'GTC', ...extra }
}

/** An IOC market order unless `extra` says otherwise. */
export function market(id: number, user: number, side: Side, qty: number, extra: Extra = {}) {
  return { id, user, side, type: 'market', qty, tif: 'IOC', ...extra } satisfies NewOrder
}

/** A GTC stop (market once triggered) unless `extra` says otherwise. */
export function stop(
  id: number,
  user: number,
  side: Side,
  qty: number,
  trigger: number,
  extra: Extra = {},
): NewOrder {
  return { id, user, side, type: 'stop', qty, stop: trigger, tif: 'GTC', ...extra }
}

/** A GTC stop_limit (limit at `price` once triggered) unless `extra` says otherwise. */
export function stopLimit(
  id: number,
  user: number,
  side: Side,
  qty: number,
  trigger: number,
  price: number,
  extra: Extra = {},
): NewOrder {
  return { id, user, side, type: 'stop_limit', qty, stop: trigger, price, tif: 'GTC', ...extra }
}

export function fill(taker: number, maker: number, side: Side, price: number, qty: number) {
  return { type: 'fill', taker, maker, side, price, qty } satisfies BookEvent
}

export const rested = (id: number, price: number, qty: number) =>
  ({ type: 'rested', id, price, qty }) satisfies BookEvent

export const pending = (id: number, trigger: number, qty: number) =>
  ({ type: 'pending', id, stop: trigger, qty }) satisfies BookEvent

export const canceled = (id: number, qty: number, reason: CancelReason) =>
  ({ type: 'canceled', id, qty, reason }) satisfies BookEvent

export const rejected = (id: number, reason: RejectReason) =>
  ({ type: 'rejected', id, reason }) satisfies BookEvent

export const amended = (id: number, qty: number) =>
  ({ type: 'amended', id, qty }) satisfies BookEvent

export const triggered = (id: number) => ({ type: 'triggered', id }) satisfies BookEvent

export const expired = (id: number, qty: number) =>
  ({ type: 'expired', id, qty }) satisfies BookEvent
