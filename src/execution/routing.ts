// Where an order goes on a symbol that routes (issue 7), decided in the symbol's object from the
// NBBO it holds. Pure: the object passes the order, its routing mode and the quotes.
//
//   internal  every order matches in our book only (the default).
//   both      internal first, within the NBBO: an order marketable against the venues' best
//             price matches our book only at prices at least as good as that price (an IOC
//             capped at it); what is left goes to the routable venue with the best price, as a
//             limit at the order's own price (a market order's is its collar), with the
//             order's time in force: an IOC's remainder ends there, a DAY or GTC order's rests
//             there (a cancel goes after it, as OrderCancelRequest).
//   external  no internal matching: every order goes whole to the routable venue with the best
//             price on the side it takes (or, with none there, one quoting the other side), with
//             its own time in force (FOK included). Stops and post-only orders are refused
//             (`not_routable`: a stop would wait for trades our book no longer makes), as is an
//             order no routable venue quotes (`no_venue`).
//
// In `both`, FOK orders, post-only orders and stops stay internal (an all-or-nothing fill across two
// markets cannot be promised; a post-only order never takes; a stop routes nothing until it
// triggers, inside the book). Without a fresh quote on the side it would take, or with a crossed
// NBBO, an order stays internal.
import type { NewOrder, TimeInForce } from '../engine/types.ts'
import type { BestPrice, Nbbo } from './nbbo.ts'

export const ROUTING_MODES = ['internal', 'both', 'external'] as const
export type RoutingMode = (typeof ROUTING_MODES)[number]

/** What the NBBO was when the route was decided: the best-execution record keeps it. */
export interface NbboAtDecision {
  bid: BestPrice | null
  ask: BestPrice | null
  ts: number
}

export interface RoutePlan {
  venue: string
  /**
   * the internal leg: the order first matches our book as an IOC at this price (the NBBO);
   * undefined when it does not match here at all (external)
   */
  internalCap?: number
  /** the child order's limit (the order's own) and its time in force */
  price: number
  tif: TimeInForce
  nbbo: NbboAtDecision
}


/** Where the order goes: undefined, our book alone; a plan; or refused (external). */
export type RouteDecision = RoutePlan | { refused: 'no_venue' | 'not_routable' } | undefined

/**
 * `national`: the NBBO over every venue; `routable`: over the venues we have a session with.
 */
export function planRoute(order: NewOrder, mode: RoutingMode, national: Nbbo, routable: Nbbo): RouteDecision {
  if (mode === 'internal') return
  const buy = order.side === 'buy'
  const nbbo = { bid: national.bid, ask: national.ask, ts: national.ts }
  const far = buy ? routable.ask : routable.bid
  if (mode === 'external') {
    if (order.type !== 'limit' || order.postOnly) return { refused: 'not_routable' }
    const venue = far?.venue ?? (buy ? routable.bid : routable.ask)?.venue
    return venue ? { venue, price: order.price!, tif: order.tif, nbbo } : { refused: 'no_venue' }
  }
  if (order.type !== 'limit' || order.postOnly || order.tif === 'FOK') return
  const best = buy ? national.ask : national.bid
  if (!far || !best || national.crossed) return
  const price = order.price!
  if (buy ? price < best.price : price > best.price) return // not marketable: it rests here
  return { venue: far.venue, internalCap: best.price, price, tif: order.tif, nbbo }
}
