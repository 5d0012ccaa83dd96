// /v1/orders: place (2FA), read, list, cancel (2FA), reduce (2FA). Each reaches the symbol's
// Durable Object through c.env.SYMBOL_BOOK.get(idFromName(symbol)).
import { Hono } from 'hono'
import type { Context } from 'hono'
import { endTime, setMetric, startTime, timing } from 'hono/timing'
import { requestOrigin } from '../audit/origin.ts'
import { requireAuth, requireTwoFactor } from '../auth/middleware.ts'
import { rateLimit } from '../auth/rate-limit.ts'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import { validate, validationError } from '../lib/validate.ts'
import { fromProblem, toProblem } from './desk.ts'
import type { DeskItem, DeskResult } from './desk.ts'
import type { SymbolBook } from '../do/symbol-book.ts'
import { listedSymbol, marketOpen } from './listed.ts'
import { marketClosed, unknownSymbol } from './rules.ts'
import { tradingHours } from '../settlement/calendar.ts'
import { AppError, problemBody } from '../errors.ts'
import {
  amendBody, batchBody, idempotencyHeader, listQuery, orderBody, orderIdParam,
} from './schema.ts'
import * as gateway from './service.ts'
import { ackView, orderView } from './views.ts'

/**
 * The symbol is listed (else throws unknown_symbol, 422) and trading now: its market hours
 * (extended hours if it has them), unless MARKET_ALWAYS_OPEN. Returns market_closed as a problem
 * for the object, which refuses with it unless the request repeats an order placed already.
 */
async function closedProblem(c: Context<AppEnv>, symbol: string) {
  const listed = await listedSymbol(c.env, symbol)
  if (!listed) throw unknownSymbol(symbol)
  if (c.get('settings').marketAlwaysOpen) return undefined
  const hours = tradingHours(Date.now(), listed.extendedHours)
  return hours.open ? undefined : toProblem(marketClosed(symbol, hours.opens!))
}

const books = (c: Context<AppEnv>) => gateway.bookClients(c.env.SYMBOL_BOOK)

/** The symbol's Durable Object, as the order routes use it (RPC). */
const desk = (c: Context<AppEnv>, symbol: string) =>
  c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol)) as unknown as Pick<
    SymbolBook,
    'place' | 'placeMany' | 'placeClosed' | 'placeManyClosed'
  >

/**
 * The object's answer, or 503 book_unavailable when it gave none: whatever it did (an order may
 * have been reserved and left pending) a retry with the same key resolves.
 */
async function reached<T>(symbol: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    console.error(`symbol book ${symbol} did not answer`, err)
    throw new AppError(
      503,
      'book_unavailable',
      `The ${symbol} book did not answer: retry with the same Idempotency-Key or client_order_id`,
      { retry_after: 1 },
    )
  }
}

export const orderRoutes = new Hono<AppEnv>()

const serverTiming = timing({ totalDescription: 'order path' })
orderRoutes.use('/orders', serverTiming, requireAuth)
orderRoutes.use('/orders/*', serverTiming, requireAuth)
// '/orders/*' matches /orders too
orderRoutes.on(['POST', 'PATCH', 'DELETE'], '/orders/*', rateLimit('orders'))
orderRoutes.on('GET', '/orders/*', rateLimit('reads'))

/**
 * Placing goes straight to the symbol's Durable Object, which reserves in Postgres on the
 * connections it keeps, matches and records (desk.ts); the Worker authenticates and validates.
 */
orderRoutes.post(
  '/orders',
  requireTwoFactor,
  validate('header', idempotencyHeader),
  validate('json', orderBody),
  async (c) => {
    const body = c.req.valid('json')
    const closed = await closedProblem(c, body.symbol)
    const idempotencyKey = c.req.valid('header')['idempotency-key']
    // without a key the request repeats nothing: refused here, the object not bothered
    if (closed && !idempotencyKey && !body.client_order_id) throw fromProblem(closed)
    startTime(c, 'desk', 'the symbol object, all of it')
    const item = { body, idempotencyKey, origin: requestOrigin(), closed }
    const book = desk(c, body.symbol)
    const reply = await reached(body.symbol, () =>
      closed ? book.placeClosed(c.var.auth.userId, item) : book.place(c.var.auth.userId, item),
    )
    endTime(c, 'desk')
    for (const [stage, ms] of Object.entries(reply.timings)) setMetric(c, stage, ms)
    if (!reply.ok) throw fromProblem(reply.problem)
    const { order, ack, outcome, replayed } = reply.placed
    if (ack.engineMs !== undefined) setMetric(c, 'engine', ack.engineMs, undefined, 3)
    if (replayed) c.header('Idempotent-Replayed', 'true')
    return c.json(ackView(order, ack, outcome), 201)
  },
)

/**
 * Each order's own result: 201 with the order as acked, or its problem. One call per symbol to
 * its object; an Idempotency-Key applies to every order as `<key>#<index>`.
 */
orderRoutes.post(
  '/orders/batch',
  requireTwoFactor,
  validate('header', idempotencyHeader),
  validate('json', batchBody),
  async (c) => {
    const key = c.req.valid('header')['idempotency-key']
    const results: DeskResult[] = []
    const bySymbol = new Map<string, { index: number; item: DeskItem }[]>()
    for (const [index, raw] of c.req.valid('json').orders.entries()) {
      const parsed = orderBody.safeParse(raw)
      if (!parsed.success) {
        results[index] = { ok: false, problem: toProblem(validationError(`Invalid order ${index}`, parsed.error)) }
        continue
      }
      const item = { body: parsed.data, idempotencyKey: key && `${key}#${index}`, origin: requestOrigin() }
      bySymbol.set(parsed.data.symbol, [...(bySymbol.get(parsed.data.symbol) ?? []), { index, item }])
    }
    await Promise.all(
      [...bySymbol].map(async ([symbol, group]) => {
        const refuse = (e: AppError) => group.map((): DeskResult => ({ ok: false, problem: toProblem(e) }))
        const replies = await closedProblem(c, symbol).then(
          (closed) => {
            const [book, items] = [desk(c, symbol), group.map((g) => ({ ...g.item, closed }))]
            return reached(symbol, () =>
              closed
                ? book.placeManyClosed(c.var.auth.userId, items)
                : book.placeMany(c.var.auth.userId, items),
            ).catch(refuse)
          },
          refuse,
        )
        group.forEach((g, i) => (results[g.index] = replies[i]))
      }),
    )
    const views = results.map((r, index) =>
      r.ok
        ? { index, status: 201, replayed: r.placed.replayed, order: ackView(r.placed.order, r.placed.ack, r.placed.outcome) }
        : { index, status: r.problem.status, error: problemBody(r.problem.status, r.problem.code, r.problem.message, c.req.path, r.problem.extra) },
    )
    return c.json({
      placed: views.filter((v) => v.status === 201).length,
      refused: views.filter((v) => v.status !== 201).length,
      results: views,
    })
  },
)

orderRoutes.get('/orders', withDb, validate('query', listQuery), async (c) => {
  const q = c.req.valid('query')
  const rows = await gateway.listOrders(c.var.db, c.var.auth.userId, q)
  return c.json({
    orders: rows.map((o) => orderView(o)),
    next_cursor: rows.length === q.limit ? rows[rows.length - 1].id : null,
  })
})

orderRoutes.get('/orders/:id', withDb, validate('param', orderIdParam), async (c) => {
  const order = await gateway.getOrder(c.var.db, c.var.auth.userId, c.req.valid('param').id)
  return c.json(orderView(order, await gateway.orderFills(c.var.db, order.id)))
})

orderRoutes.delete(
  '/orders/:id',
  withDb,
  requireTwoFactor,
  validate('param', orderIdParam),
  async (c) => {
    const { order, canceledQty, pending } = await gateway.cancelOrder(
      c.var.db,
      books(c),
      c.var.auth.userId,
      c.req.valid('param').id,
      (symbol) => marketOpen(c.env, symbol),
    )
    // 202: the order is at a venue, which cancels it (the user's stream and GET show when)
    if (pending) return c.json({ ...orderView(order), canceled_qty: 0, cancel_pending: true }, 202)
    return c.json({ ...orderView(order), canceled_qty: canceledQty })
  },
)

orderRoutes.patch(
  '/orders/:id',
  withDb,
  requireTwoFactor,
  validate('param', orderIdParam),
  validate('json', amendBody),
  async (c) => {
    const { order, cut } = await gateway.amendOrder(
      c.var.db,
      books(c),
      c.var.auth.userId,
      c.req.valid('param').id,
      c.req.valid('json').qty,
    )
    return c.json({ ...orderView(order), open_qty: c.req.valid('json').qty, reduced_by: cut })
  },
)
