// /v1/orders: place (2FA), read, list, cancel (2FA), reduce (2FA). Each reaches the symbol's
// Durable Object through c.env.SYMBOL_BOOK.get(idFromName(symbol)).
import { Hono } from 'hono'
import type { Context } from 'hono'
import { endTime, setMetric, startTime, timing } from 'hono/timing'
import { requireAuth, requireTwoFactor } from '../auth/middleware.ts'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import type { fills } from '../db/schema.ts'
import type { Ack, OutboxFill } from '../engine/journal.ts'
import { formatCents } from '../lib/money.ts'
import { validate, validationError } from '../lib/validate.ts'
import type { AckOutcome } from './rules.ts'
import { AppError, problemBody } from '../errors.ts'
import {
  amendBody, batchBody, idempotencyHeader, listQuery, orderBody, orderIdParam,
} from './schema.ts'
import * as gateway from './service.ts'
import type { OrderRow, Span } from './service.ts'

const money = (cents: number | null) => (cents === null ? null : formatCents(cents))

/** the order's fields the client gave (and the collar the gateway added) */
const orderFields = (o: OrderRow) => ({
  id: o.id,
  client_order_id: o.clientOrderId,
  symbol: o.symbol,
  side: o.side,
  type: o.type,
  qty: o.qty,
  price: o.type === 'limit' || o.type === 'stop_limit' ? money(o.priceCents) : null,
  stop_price: money(o.stopPriceCents),
  /** market and stop orders: the worst price they may trade at */
  collar_price: o.type === 'market' || o.type === 'stop' ? money(o.priceCents) : null,
  time_in_force: o.timeInForce.toLowerCase(),
  post_only: o.postOnly,
})

const ackFillView = (orderId: number) => (f: OutboxFill) => ({
  fill_seq: f.fillSeq,
  qty: f.qty,
  price: formatCents(f.price),
  liquidity: f.taker === orderId ? 'taker' : 'maker',
  ts: new Date(f.ts).toISOString(),
})

/** POST's answer: the order as the book acked it (fills reach Postgres through the drain). */
export const ackView = (o: OrderRow, ack: Ack, out: AckOutcome) => ({
  ...orderFields(o),
  status: out.status,
  filled_qty: out.filledQty,
  open_qty: out.status === 'open' || out.status === 'partial' ? o.qty - out.filledQty : 0,
  avg_fill_price: money(out.avgPriceCents),
  fills: out.fills.map(ackFillView(o.id)),
  reason: out.reason,
  book_seq: ack.seq,
  created_at: o.createdAt.toISOString(),
  acked_at: new Date(ack.ts).toISOString(),
})

/** GET's answer: the order as Postgres has it (fills applied by the drain) */
export const orderView = (o: OrderRow, rows?: (typeof fills.$inferSelect)[]) => ({
  ...orderFields(o),
  status: o.status,
  filled_qty: o.filledQty,
  avg_fill_price: money(o.avgPriceCents),
  reserved_cash: formatCents(o.reservedCashCents),
  reserved_qty: o.reservedQty,
  reason: o.reason,
  ...(rows && {
    fills: rows.map((f) => ({
      fill_seq: f.seq,
      qty: f.qty,
      price: formatCents(f.priceCents),
      liquidity: f.taker ? 'taker' : 'maker',
      ts: f.ts.toISOString(),
    })),
  }),
  created_at: o.createdAt.toISOString(),
  updated_at: o.updatedAt.toISOString(),
  filled_at: o.filledAt?.toISOString() ?? null,
})

const books = (c: Context<AppEnv>) => gateway.bookClients(c.env.SYMBOL_BOOK)

/** Reports each stage of the order path in the Server-Timing header. */
const spans =
  (c: Context<AppEnv>): Span =>
  async (stage, fn) => {
    startTime(c, stage)
    try {
      return await fn()
    } finally {
      endTime(c, stage)
    }
  }

export const orderRoutes = new Hono<AppEnv>()

const serverTiming = timing({ totalDescription: 'order path' })
orderRoutes.use('/orders', serverTiming, withDb, requireAuth)
orderRoutes.use('/orders/*', serverTiming, withDb, requireAuth)

orderRoutes.post(
  '/orders',
  requireTwoFactor,
  validate('header', idempotencyHeader),
  validate('json', orderBody),
  async (c) => {
    const placed = await gateway.placeOrder(
      c.var.db,
      books(c),
      c.var.auth.userId,
      c.req.valid('json'),
      c.req.valid('header')['idempotency-key'],
      spans(c),
    )
    if (placed.ack.engineMs !== undefined) setMetric(c, 'engine', placed.ack.engineMs, undefined, 3)
    if (placed.replayed) c.header('Idempotent-Replayed', 'true')
    return c.json(ackView(placed.order, placed.ack, placed.outcome), 201)
  },
)

/** Each order's own result: 201 with the order as acked, or its problem. */
orderRoutes.post(
  '/orders/batch',
  requireTwoFactor,
  validate('header', idempotencyHeader),
  validate('json', batchBody),
  async (c) => {
    const bodies = c.req.valid('json').orders.map((o, i) => {
      const parsed = orderBody.safeParse(o)
      return parsed.success ? parsed.data : validationError(`Invalid order ${i}`, parsed.error)
    })
    const results = await gateway.placeBatch(
      c.var.db,
      books(c),
      c.var.auth.userId,
      bodies,
      c.req.valid('header')['idempotency-key'],
    )
    const views = results.map((r, index) =>
      r instanceof AppError
        ? { index, status: r.status, error: problemBody(r.status, r.code, r.message, c.req.path, r.extra) }
        : { index, status: 201, replayed: r.replayed, order: ackView(r.order, r.ack, r.outcome) },
    )
    return c.json({
      placed: views.filter((v) => v.status === 201).length,
      refused: views.filter((v) => v.status !== 201).length,
      results: views,
    })
  },
)

orderRoutes.get('/orders', validate('query', listQuery), async (c) => {
  const q = c.req.valid('query')
  const rows = await gateway.listOrders(c.var.db, c.var.auth.userId, q)
  return c.json({
    orders: rows.map((o) => orderView(o)),
    next_cursor: rows.length === q.limit ? rows[rows.length - 1].id : null,
  })
})

orderRoutes.get('/orders/:id', validate('param', orderIdParam), async (c) => {
  const order = await gateway.getOrder(c.var.db, c.var.auth.userId, c.req.valid('param').id)
  return c.json(orderView(order, await gateway.orderFills(c.var.db, order.id)))
})

orderRoutes.delete('/orders/:id', requireTwoFactor, validate('param', orderIdParam), async (c) => {
  const { order, canceledQty } = await gateway.cancelOrder(
    c.var.db,
    books(c),
    c.var.auth.userId,
    c.req.valid('param').id,
  )
  return c.json({ ...orderView(order), canceled_qty: canceledQty })
})

orderRoutes.patch(
  '/orders/:id',
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
