// /v1/admin/*: symbols, users' tier and role, any account (and sandbox funding of it). Mounted
// behind the admin check (src/app.ts).
import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { forgetTier } from '../accounts/tier.ts'
import { accountView, ledgerView, positionView, symbolView } from '../accounts/routes.ts'
import {
  idParam,
  idempotencyHeader,
  shareTransferBody,
  symbolParam,
  transferBody,
} from '../accounts/schema.ts'
import { recentRuns, reconcilePositions } from '../accounts/reconciliation.ts'
import type { ReconciliationRun } from '../accounts/reconciliation.ts'
import * as accounts from '../accounts/service.ts'
import { appendAudit } from '../audit/chain.ts'
import type { AppEnv } from '../context.ts'
import { UNIQUE_VIOLATION, pgErrorCode } from '../db/pg-errors.ts'
import { symbols } from '../db/schema.ts'
import { ConflictError, NotFoundError } from '../errors.ts'
import { validate } from '../lib/validate.ts'
import { createSymbolBody, reconciliationQuery, updateSymbolBody, updateUserBody } from './schema.ts'

export const adminRoutes = new Hono<AppEnv>()

adminRoutes.post('/symbols', validate('json', createSymbolBody), async (c) => {
  const b = c.req.valid('json')
  try {
    const row = await c.var.db.transaction(async (tx) => {
      const [listed] = await tx
        .insert(symbols)
        .values({
          symbol: b.symbol,
          name: b.name,
          referencePriceCents: b.reference_price,
          ...(b.tick_size !== undefined && { tickCents: b.tick_size }),
          ...(b.status !== undefined && { status: b.status }),
          ...(b.extended_hours !== undefined && { extendedHours: b.extended_hours }),
        })
        .returning()
      await appendAudit(tx, c.var.auth.userId, 'admin.symbol_listed', symbolView(listed))
      return listed
    })
    return c.json(symbolView(row), 201)
  } catch (err) {
    if (pgErrorCode(err) === UNIQUE_VIOLATION) {
      throw new ConflictError('symbol_exists', `${b.symbol} is already listed`)
    }
    throw err
  }
})

adminRoutes.patch(
  '/symbols/:symbol',
  validate('param', symbolParam),
  validate('json', updateSymbolBody),
  async (c) => {
    const b = c.req.valid('json')
    const symbol = c.req.valid('param').symbol
    const row = await c.var.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(symbols)
        .set({
          ...(b.name !== undefined && { name: b.name }),
          ...(b.tick_size !== undefined && { tickCents: b.tick_size }),
          ...(b.reference_price !== undefined && { referencePriceCents: b.reference_price }),
          ...(b.status !== undefined && { status: b.status }),
          ...(b.extended_hours !== undefined && { extendedHours: b.extended_hours }),
        })
        .where(eq(symbols.symbol, symbol))
        .returning()
      if (!updated) throw new NotFoundError(`No symbol ${symbol}`)
      await appendAudit(tx, c.var.auth.userId, 'admin.symbol_updated', {
        fields: Object.keys(b),
        after: symbolView(updated),
      })
      return updated
    })
    return c.json(symbolView(row))
  },
)

/** Sets a user's tier, role and/or short limit; recorded in that user's audit chain. */
adminRoutes.patch(
  '/users/:id',
  validate('param', idParam),
  validate('json', updateUserBody),
  async (c) => {
    const id = c.req.valid('param').id
    await accounts.updateUser(c.var.db, c.var.auth.userId, id, c.req.valid('json'))
    forgetTier(id)
    return c.json(accountView(await accounts.getAccountSummary(c.var.db, id)))
  },
)

/**
 * A symbol's book as its Durable Object has it: last command, fill count, state hash, fills not
 * yet in Postgres. Read-only; to check a book against a replay of its log (test/e2e/crash.test.ts).
 */
adminRoutes.get('/books/:symbol', validate('param', symbolParam), async (c) => {
  const symbol = c.req.valid('param').symbol
  const [listed] = await c.var.db
    .select({ symbol: symbols.symbol })
    .from(symbols)
    .where(eq(symbols.symbol, symbol))
  if (!listed) throw new NotFoundError(`No symbol ${symbol}`)
  const state = await c.env.SYMBOL_BOOK.get(c.env.SYMBOL_BOOK.idFromName(symbol)).state()
  return c.json({
    symbol,
    seq: state.seq,
    fill_seq: state.fillSeq,
    hash: state.hash,
    outbox: state.outbox,
  })
})

/** Any account: the same view its owner gets, with positions. */
adminRoutes.get('/accounts/:id', validate('param', idParam), async (c) => {
  const id = c.req.valid('param').id
  const summary = await accounts.getAccountSummary(c.var.db, id)
  const positions = await accounts.listPositions(c.var.db, id)
  return c.json({ ...accountView(summary), positions: positions.map(positionView) })
})

adminRoutes.post(
  '/accounts/:id/deposits',
  validate('param', idParam),
  validate('header', idempotencyHeader),
  validate('json', transferBody),
  async (c) => {
    const { entry, replayed } = await accounts.moveCash(
      c.var.db,
      c.req.valid('param').id,
      'deposit',
      c.req.valid('json').amount,
      c.req.valid('header')['idempotency-key'],
      c.var.auth.userId,
    )
    return c.json(ledgerView(entry), replayed ? 200 : 201)
  },
)

adminRoutes.post(
  '/accounts/:id/transfers',
  validate('param', idParam),
  validate('header', idempotencyHeader),
  validate('json', shareTransferBody),
  async (c) => {
    const id = c.req.valid('param').id
    const b = c.req.valid('json')
    const { entry, replayed } = await accounts.transferIn(
      c.var.db,
      id,
      { symbol: b.symbol, qty: b.qty, costBasisCents: b.cost_basis },
      c.req.valid('header')['idempotency-key'],
      c.var.auth.userId,
    )
    const position = await accounts.getPosition(c.var.db, id, b.symbol)
    return c.json(
      { entry: ledgerView(entry), position: positionView(position) },
      replayed ? 200 : 201,
    )
  },
)

const reconciliationView = (r: ReconciliationRun) => ({
  id: r.id,
  trigger: r.trigger,
  accounts: r.accounts,
  positions: r.positions,
  differences: r.differences,
  details: r.details,
  created_at: r.createdAt.toISOString(),
})

/**
 * Position reconciliation now (the Cron Trigger runs it after each end of day): balances and
 * positions recomputed from the ledger, fills and orders against the stored ones.
 */
adminRoutes.post('/reconciliation', async (c) => {
  const run = await reconcilePositions(c.var.db, `admin:${c.var.auth.userId}`)
  return c.json(reconciliationView(run), 201)
})

adminRoutes.get('/reconciliation', validate('query', reconciliationQuery), async (c) => {
  const runs = await recentRuns(c.var.db, c.req.valid('query').limit)
  return c.json({ runs: runs.map(reconciliationView) })
})

