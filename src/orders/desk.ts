// The order desk: placing orders where the symbol's book is, inside its Durable Object, on
// Postgres connections the object keeps open across requests. A Worker request cannot use a
// connection another request opened, so placing from the Worker paid a new connection (WebSocket,
// Postgres handshake) per order; an object's connections stay open, which leaves the order path
// its two round trips of reservation and one of recording (BENCHMARKS.md).
//
// The desk runs the same gateway code (service.ts) with the object's own book as the "book
// client", and returns refusals as values: an RPC carries an Error's message, not its class, so
// the Worker rebuilds the AppError from the problem and renders it as any other.
import { withOriginOf } from '../audit/origin.ts'
import type { Origin } from '../audit/origin.ts'
import type { Db } from '../db/client.ts'
import type { Ack, OutboxFill } from '../engine/journal.ts'
import type { NewOrder } from '../engine/types.ts'
import { AppError } from '../errors.ts'
import type { OrderBody } from './schema.ts'
import { inFlight, placeBatch, placeOrder } from './service.ts'
import type { PlaceRequest, Placed, Span, Submitter } from './service.ts'
import type { MarketQuote } from './rules.ts'

/** An AppError as plain data (what crosses the RPC boundary). */
export interface Problem {
  status: number
  code: string
  message: string
  extra: Record<string, unknown>
}

export type DeskResult = { ok: true; placed: Placed } | { ok: false; problem: Problem }

/** ms spent in each stage of placing, as the object measured them (Server-Timing). */
export type Timings = Partial<Record<'risk' | 'book' | 'record', number>>

export interface DeskItem {
  body: OrderBody
  idempotencyKey?: string
  /** where the request came from: the Worker's request context does not cross into the object */
  origin?: Origin
  /** market_closed, as the Worker found it: refuses a new order (a repeat gets its first answer) */
  closed?: Problem
}

/** what the gateway places for a desk item */
const placeRequest = ({ body, idempotencyKey, closed }: DeskItem): PlaceRequest => ({
  body,
  idempotencyKey,
  closed: closed && fromProblem(closed),
})

/** The book the desk sits next to: synchronous, in the same object. */
export interface LocalBook {
  submit(order: NewOrder): Ack
  submitBatch(orders: NewOrder[]): Ack[]
  refuseUnseen(orders: NewOrder[]): Ack[]
  pendingFills(limit?: number): OutboxFill[]
}

export const toProblem = (e: AppError): Problem => ({
  status: e.status,
  code: e.code,
  message: e.message,
  extra: e.extra,
})

export const fromProblem = (p: Problem) => new AppError(p.status, p.code, p.message, p.extra)

export class OrderDesk {
  private readonly client: Submitter
  /** each user's last placement here: the next one waits for it (see inTurn) */
  private readonly turns = new Map<number, Promise<unknown>>()
  /** the Idempotency-Keys and client_order_ids of placements under way here, by user */
  private readonly keysInFlight = new Set<string>()

  constructor(
    private readonly db: () => Db,
    book: LocalBook,
    /** the venues' prices now, for market orders' collars */
    private readonly market: () => MarketQuote | undefined = () => undefined,
  ) {
    this.client = {
      submit: async (order) => book.submit(order),
      submitBatch: async (orders) => book.submitBatch(orders),
      refuseUnseen: async (orders) => book.refuseUnseen(orders),
      pendingFills: async (limit) => book.pendingFills(limit),
    }
  }

  async place(userId: number, item: DeskItem): Promise<DeskResult & { timings: Timings }> {
    const timings: Timings = {}
    const span: Span = async (stage, fn) => {
      const started = Date.now()
      try {
        return await fn()
      } finally {
        timings[stage] = Date.now() - started
      }
    }
    const keys = this.claimKeys(userId, item)
    if (!keys) return { ok: false, problem: toProblem(inFlight()), timings }
    try {
      const result = await withOriginOf(item.origin, () =>
        this.inTurn(userId, () =>
          settle(() =>
            placeOrder(this.db(), () => this.client, userId, placeRequest(item), span, this.market()),
          ),
        ),
      )
      return { ...result, timings }
    } finally {
      for (const key of keys) this.keysInFlight.delete(key)
    }
  }

  /** Orders of one batch for this symbol, each with its own result, in one call. */
  async placeMany(userId: number, items: DeskItem[]): Promise<DeskResult[]> {
    // each order's keys on their own: one under way refuses that order, not the batch
    const claims = items.map((item) => this.claimKeys(userId, item))
    const claimed = items.filter((_, i) => claims[i])
    try {
      // one request's orders: one origin
      const results = await withOriginOf(items[0]?.origin, () =>
        this.inTurn(userId, () =>
          placeBatch(this.db(), this.client, userId, claimed.map(placeRequest), this.market()),
        ),
      )
      let next = 0
      return claims.map((claim): DeskResult => {
        if (!claim) return { ok: false, problem: toProblem(inFlight()) }
        const r = results[next++]
        return r instanceof AppError ? { ok: false, problem: toProblem(r) } : { ok: true, placed: r }
      })
    } finally {
      for (const key of claims.flat()) if (key) this.keysInFlight.delete(key)
    }
  }

  /**
   * Marks the item's keys as under way; undefined when one already is. A request repeated while
   * its first is still being placed gets 409 at once: waiting its turn, it would come back as a
   * replay of an answer its client has not seen yet.
   */
  private claimKeys(userId: number, { idempotencyKey, body }: DeskItem): string[] | undefined {
    const keys = [
      ...(idempotencyKey ? [`${userId} key ${idempotencyKey}`] : []),
      ...(body.client_order_id ? [`${userId} client ${body.client_order_id}`] : []),
    ]
    if (keys.some((key) => this.keysInFlight.has(key))) return undefined
    for (const key of keys) this.keysInFlight.add(key)
    return keys
  }

  /**
   * Runs a user's placements on this symbol one after the other, in the order they arrived: the
   * book gets them in the order the user sent them, and they never race for the account's row
   * (a reservation that finds the row moved reads it again: src/orders/service.ts). Placements
   * of the same user on other symbols still may, in their own objects.
   */
  private inTurn<T>(userId: number, place: () => Promise<T>): Promise<T> {
    const placed = (this.turns.get(userId) ?? Promise.resolve()).then(place)
    const done = placed.catch(() => {})
    this.turns.set(userId, done)
    void done.then(() => this.turns.get(userId) === done && this.turns.delete(userId))
    return placed
  }
}

async function settle(fn: () => Promise<Placed>): Promise<DeskResult> {
  try {
    return { ok: true, placed: await fn() }
  } catch (err) {
    if (err instanceof AppError) return { ok: false, problem: toProblem(err) }
    throw err
  }
}
