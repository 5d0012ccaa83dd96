import { Hono } from 'hono'
import { requireAuth } from '../auth/middleware.ts'
import { rateLimit } from '../auth/rate-limit.ts'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import type { auditLog, symbols } from '../db/schema.ts'
import { activityRoutes } from './activity-routes.ts'
import { formatCents } from '../lib/money.ts'
import { validate } from '../lib/validate.ts'
import {
  auditQuery,
  idParam,
  idempotencyHeader,
  ledgerQuery,
  profileBody,
  shareTransferBody,
  symbolParam,
  transferBody,
} from './schema.ts'
import * as accounts from './service.ts'
import type { AccountSummary, CashKind, LedgerEntry, MarkedPosition } from './service.ts'

/**
 * GET /v1/account. buying_power = cash − reserved cash (no margin yet, retail and pro alike);
 * equity = cash + positions at their symbols' reference prices; two_factor: disabled, pending
 * (enrolled, not verified) or enabled.
 */
export const accountView = ({ user: u, positionsValueCents, unsettledCents }: AccountSummary) => ({
  id: u.id,
  email: u.email,
  display_name: u.displayName,
  tier: u.tier,
  role: u.role,
  short_limit: u.shortLimitQty,
  cash: formatCents(u.cashCents),
  reserved_cash: formatCents(u.reservedCashCents),
  buying_power: formatCents(u.cashCents - u.reservedCashCents),
  /** same as buying_power; kept for clients of the first version */
  available_cash: formatCents(u.cashCents - u.reservedCashCents),
  /** sale proceeds not settled yet (T+N): in buying power, not withdrawable */
  unsettled_proceeds: formatCents(unsettledCents),
  withdrawable: formatCents(Math.max(0, u.cashCents - u.reservedCashCents - unsettledCents)),
  equity: formatCents(u.cashCents + positionsValueCents),
  two_factor: u.totpEnabled ? 'enabled' : u.totpSecret ? 'pending' : 'disabled',
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
  symbol: e.symbol,
  qty: e.qty,
  ref_type: e.refType,
  ref_id: e.refId,
  idempotency_key: e.idempotencyKey,
  created_at: e.createdAt.toISOString(),
})

export const positionView = (p: MarkedPosition) => ({
  symbol: p.symbol,
  qty: p.qty,
  reserved_qty: p.reservedQty,
  available_qty: p.qty - p.reservedQty,
  /** total cost of the shares held */
  cost_basis: formatCents(p.costCents),
  /** average cost per share, rounded to the cent (null without shares) */
  avg_cost: p.avgCostCents === null ? null : formatCents(p.avgCostCents),
  /** the symbol's last trade, or its reference price before any */
  last_price: formatCents(p.markCents),
  market_value: formatCents(p.qty * p.markCents),
  unrealized_pnl: formatCents(p.qty * p.markCents - p.costCents),
  updated_at: p.updatedAt.toISOString(),
})

export const symbolView = (s: typeof symbols.$inferSelect) => ({
  symbol: s.symbol,
  name: s.name,
  tick_size: formatCents(s.tickCents),
  status: s.status,
  reference_price: formatCents(s.referencePriceCents),
  extended_hours: s.extendedHours,
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

// Scoped to this module's paths: a bare use() here would also run for /v1/auth/* and
// /v1/admin/* (mounted under the same /v1 prefix) and open a second Pool for them.
for (const path of ['/symbols', '/account', '/account/*', '/positions', '/positions/*']) {
  accountRoutes.use(path, withDb)
}

accountRoutes.get('/symbols', async (c) => {
  return c.json({ symbols: (await accounts.listSymbols(c.var.db)).map(symbolView) })
})

accountRoutes.use('/account/*', requireAuth)
accountRoutes.use('/account', requireAuth)
accountRoutes.use('/positions/*', requireAuth)
accountRoutes.use('/positions', requireAuth)
// '/account/*' matches /account too
accountRoutes.on('GET', ['/account/*', '/positions/*'], rateLimit('reads'))

accountRoutes.get('/account', async (c) => {
  return c.json(accountView(await accounts.getOwnAccount(c.var.db, c.var.auth.userId)))
})

accountRoutes.patch('/account', validate('json', profileBody), async (c) => {
  const userId = c.var.auth.userId
  await accounts.updateProfile(c.var.db, userId, c.req.valid('json').display_name)
  return c.json(accountView(await accounts.getOwnAccount(c.var.db, userId)))
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
      const userId = c.var.auth.userId
      await accounts.assertFundingAllowed(c.var.db, c.var.settings, userId)
      const key = c.req.valid('header')['idempotency-key']
      const { entry, replayed } = await accounts.moveCash(
        c.var.db,
        userId,
        kind,
        c.req.valid('json').amount,
        key,
      )
      if (replayed) c.header('Idempotent-Replayed', 'true')
      return c.json(ledgerView(entry), replayed ? 200 : 201)
    },
  )
}

accountRoutes.post(
  '/account/transfers',
  validate('header', idempotencyHeader),
  validate('json', shareTransferBody),
  async (c) => {
    const userId = c.var.auth.userId
    await accounts.assertFundingAllowed(c.var.db, c.var.settings, userId)
    const body = c.req.valid('json')
    const { entry, replayed } = await accounts.transferIn(
      c.var.db,
      userId,
      { symbol: body.symbol, qty: body.qty, costBasisCents: body.cost_basis },
      c.req.valid('header')['idempotency-key'],
    )
    if (replayed) c.header('Idempotent-Replayed', 'true')
    const position = await accounts.getPosition(c.var.db, userId, body.symbol)
    return c.json(
      { entry: ledgerView(entry), position: positionView(position) },
      replayed ? 200 : 201,
    )
  },
)

accountRoutes.get('/account/ledger', validate('query', ledgerQuery), async (c) => {
  const { limit, before } = c.req.valid('query')
  const rows = await accounts.listLedger(c.var.db, c.var.auth.userId, limit, before)
  return c.json({
    entries: rows.map(ledgerView),
    next_before: rows.length === limit ? rows[rows.length - 1].id : null,
  })
})

accountRoutes.get('/account/ledger/:id', validate('param', idParam), async (c) => {
  const entry = await accounts.getLedgerEntry(c.var.db, c.var.auth.userId, c.req.valid('param').id)
  return c.json(ledgerView(entry))
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

// behind the '/account/*' middleware above
accountRoutes.route('/', activityRoutes)
