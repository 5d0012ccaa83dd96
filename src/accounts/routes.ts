import { Hono } from 'hono'
import { requireAuth } from '../auth/middleware.ts'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import type { auditLog, instruments, positions, users } from '../db/schema.ts'
import { formatCents } from '../lib/money.ts'
import { validate } from '../lib/validate.ts'
import {
  auditQuery,
  idempotencyHeader,
  ledgerQuery,
  profileBody,
  symbolParam,
  transferBody,
} from './schema.ts'
import * as accounts from './service.ts'
import type { CashKind, LedgerEntry } from './service.ts'

type User = typeof users.$inferSelect

export const accountView = (u: User) => ({
  id: u.id,
  email: u.email,
  display_name: u.displayName,
  cash: formatCents(u.cashCents),
  reserved_cash: formatCents(u.reservedCashCents),
  available_cash: formatCents(u.cashCents - u.reservedCashCents),
  two_factor_enabled: u.totpEnabled,
  created_at: u.createdAt.toISOString(),
})

export const ledgerView = (e: LedgerEntry) => ({
  id: e.id,
  kind: e.kind,
  amount: formatCents(e.amountCents),
  reserved_delta: formatCents(e.reservedDeltaCents),
  cash_after: formatCents(e.cashAfterCents),
  reserved_after: formatCents(e.reservedAfterCents),
  ref_type: e.refType,
  ref_id: e.refId,
  idempotency_key: e.idempotencyKey,
  created_at: e.createdAt.toISOString(),
})

const positionView = (p: typeof positions.$inferSelect) => ({
  symbol: p.symbol,
  qty: p.qty,
  reserved_qty: p.reservedQty,
  available_qty: p.qty - p.reservedQty,
  cost_basis: formatCents(p.costCents),
  updated_at: p.updatedAt.toISOString(),
})

const instrumentView = (i: typeof instruments.$inferSelect) => ({
  symbol: i.symbol,
  name: i.name,
  tick: formatCents(i.tickCents),
  active: i.active,
})

const auditView = (a: typeof auditLog.$inferSelect) => ({
  seq: a.seq,
  action: a.action,
  data: a.data,
  prev_hash: a.prevHash,
  hash: a.hash,
  created_at: a.createdAt.toISOString(),
})

export const accountRoutes = new Hono<AppEnv>()

accountRoutes.use(withDb)

accountRoutes.get('/instruments', async (c) => {
  return c.json({ instruments: (await accounts.listInstruments(c.var.db)).map(instrumentView) })
})

accountRoutes.use('/account/*', requireAuth)
accountRoutes.use('/account', requireAuth)
accountRoutes.use('/positions/*', requireAuth)
accountRoutes.use('/positions', requireAuth)

accountRoutes.get('/account', async (c) => {
  return c.json(accountView(await accounts.getAccount(c.var.db, c.var.auth.userId)))
})

accountRoutes.patch('/account', validate('json', profileBody), async (c) => {
  const user = await accounts.updateProfile(
    c.var.db,
    c.var.auth.userId,
    c.req.valid('json').display_name,
  )
  return c.json(accountView(user))
})

for (const [path, kind] of [
  ['/account/deposits', 'deposit'],
  ['/account/withdrawals', 'withdrawal'],
] as const satisfies [string, CashKind][]) {
  accountRoutes.post(
    path,
    validate('header', idempotencyHeader),
    validate('json', transferBody),
    async (c) => {
      const key = c.req.valid('header')['idempotency-key']
      const { entry, replayed } = await accounts.moveCash(
        c.var.db,
        c.var.auth.userId,
        kind,
        c.req.valid('json').amount,
        key,
      )
      if (replayed) c.header('Idempotent-Replayed', 'true')
      return c.json(ledgerView(entry), replayed ? 200 : 201)
    },
  )
}

accountRoutes.get('/account/ledger', validate('query', ledgerQuery), async (c) => {
  const { limit, before } = c.req.valid('query')
  const rows = await accounts.listLedger(c.var.db, c.var.auth.userId, limit, before)
  return c.json({
    entries: rows.map(ledgerView),
    next_before: rows.length === limit ? rows[rows.length - 1].id : null,
  })
})

accountRoutes.get('/account/audit', validate('query', auditQuery), async (c) => {
  const { limit, before, verify } = c.req.valid('query')
  const { chain, entries } = await accounts.auditTrail(c.var.db, c.var.auth.userId, {
    limit,
    beforeSeq: before,
    verify,
  })
  return c.json({
    entries: entries.map(auditView),
    next_before: entries.length === limit ? entries[entries.length - 1].seq : null,
    ...(chain && {
      chain: {
        valid: chain.valid,
        length: chain.length,
        head: chain.head,
        broken_at: chain.brokenAt ?? null,
      },
    }),
  })
})

accountRoutes.get('/positions', async (c) => {
  const rows = await accounts.listPositions(c.var.db, c.var.auth.userId)
  return c.json({ positions: rows.map(positionView) })
})

accountRoutes.get('/positions/:symbol', validate('param', symbolParam), async (c) => {
  const row = await accounts.getPosition(c.var.db, c.var.auth.userId, c.req.valid('param').symbol)
  return c.json(positionView(row))
})
