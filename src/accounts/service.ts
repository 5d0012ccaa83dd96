// Cash and holdings. Every cash change locks the user's row, checks, updates the balance,
// appends to cash_ledger (with the balances after it) and to the audit chain: one transaction.
import { and, asc, desc, eq, getTableColumns, lt, sql } from 'drizzle-orm'
import { appendAudit, verifyAuditChain } from '../audit/chain.ts'
import type { Db, Tx } from '../db/client.ts'
import {
  auditLog,
  cashLedger,
  fills,
  positions,
  settlementObligations,
  symbols,
  users,
} from '../db/schema.ts'
import type { Settings } from '../env.ts'
import { formatCents } from '../lib/money.ts'
import { postCash } from './ledger.ts'
import type { LedgerEntry } from './ledger.ts'
import {
  AppError,
  ConflictError,
  ForbiddenError,
  InsufficientBuyingPowerError,
  NotFoundError,
  UnauthorizedError,
} from '../errors.ts'

export type CashKind = 'deposit' | 'withdrawal'
export type { LedgerEntry }
export type User = typeof users.$inferSelect

export interface AccountSummary {
  user: User
  /** Σ qty × mark price over the user's positions, cents */
  positionsValueCents: number
  /** sale proceeds not settled yet: spendable on buys, not withdrawable */
  unsettledCents: number
}

/**
 * The price a position is marked at: its symbol's last trade (the newest fill in Postgres), or the
 * symbol's reference price before any trade.
 */
const markPriceCents = sql<number>`coalesce(
  (select ${fills.priceCents} from ${fills} where ${fills.symbol} = ${positions.symbol}
   order by ${fills.seq} desc limit 1),
  ${symbols.referencePriceCents})`.mapWith(Number)

export type MarkedPosition = typeof positions.$inferSelect & { markCents: number }

/** The user and the value of their positions at their mark prices. */
export async function getAccountSummary(
  db: Db,
  userId: number,
  /** what a missing user is: 404 for an id in a path, 401 for the caller's own token */
  missing: () => Error = () => new NotFoundError('No such account'),
): Promise<AccountSummary> {
  const [[user], positionsValueCents, unsettledCents] = await Promise.all([
    db.select().from(users).where(eq(users.id, userId)),
    positionsValue(db, userId),
    unsettledProceeds(db, userId),
  ])
  if (!user) throw missing()
  return { user, positionsValueCents, unsettledCents }
}

/**
 * The user's sale proceeds not settled yet: usable for buying, not for withdrawing — the broker
 * rule users expect. A sale settles when the clearinghouse confirms the obligation its fill was
 * submitted in (src/settlement/confirmations.ts); a fill not submitted yet is unsettled too.
 */
export async function unsettledProceeds(db: Db | Tx, userId: number): Promise<number> {
  // one statement, one snapshot: a submission committing between two reads would move fills
  // from the second sum into the first unseen
  const [row] = await db.execute<{ cents: string }>(sql`
    SELECT (SELECT coalesce(sum(${settlementObligations.proceedsCents}), 0)
            FROM ${settlementObligations}
            WHERE ${settlementObligations.userId} = ${userId}
              AND ${settlementObligations.status} IN ('pending', 'disputed'))
         + (SELECT coalesce(sum(${fills.qty} * ${fills.priceCents}), 0)
            FROM ${fills}
            WHERE ${fills.userId} = ${userId} AND ${fills.clearingDate} IS NULL
              AND ${fills.side} = 'sell') AS cents`).then((r) => r.rows)
  return Number(row.cents)
}

/** Σ qty × mark price over the user's positions, cents. */
export async function positionsValue(db: Db | Tx, userId: number): Promise<number> {
  const [value] = await db
    .select({
      cents: sql<number>`coalesce(sum(${positions.qty} * ${markPriceCents}), 0)::bigint`.mapWith(Number),
    })
    .from(positions)
    .innerJoin(symbols, eq(symbols.symbol, positions.symbol))
    .where(eq(positions.userId, userId))
  return value?.cents ?? 0
}

/**
 * Sandbox funding (deposits, withdrawals, share transfers-in) simulates the bank and transfer
 * rails, like a paper-trading account. With ENVIRONMENT=production only an admin may do it.
 */
export async function assertFundingAllowed(db: Db, settings: Settings, actorId: number) {
  if (!settings.production) return
  const [actor] = await db.select({ role: users.role }).from(users).where(eq(users.id, actorId))
  if (actor?.role !== 'admin') {
    throw new ForbiddenError(
      'sandbox_only',
      'Deposits, withdrawals and transfers are simulated: in production only an admin does them',
    )
  }
}

/** the caller's own account: a token whose user is gone is a 401 */
export function getOwnAccount(db: Db, userId: number) {
  return getAccountSummary(
    db,
    userId,
    () => new UnauthorizedError('unknown_user', 'The token names no user'),
  )
}

export async function updateProfile(db: Db, userId: number, displayName: string) {
  const [user] = await db.update(users).set({ displayName }).where(eq(users.id, userId)).returning()
  if (!user) throw new UnauthorizedError('unknown_user', 'The token names no user')
  return user
}

async function lockUser(tx: Tx, userId: number) {
  const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update')
  if (!user) throw new NotFoundError('No such account')
  return user
}

/**
 * Deposit (amountCents > 0 credited) or withdrawal (debited, only from available cash =
 * cash - reserved). With an idempotency key, a retry returns the first entry (replayed: true);
 * the same key with a different request is a 409.
 */
export async function moveCash(
  db: Db,
  userId: number,
  kind: CashKind,
  amountCents: number,
  idempotencyKey?: string,
  /** who did it, when not the account owner (an admin): recorded in the audit entry */
  actorId?: number,
): Promise<{ entry: LedgerEntry; replayed: boolean }> {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new AppError(400, 'invalid_request', 'amount must be positive')
  }
  return db.transaction(async (tx) => {
    const user = await lockUser(tx, userId)
    if (idempotencyKey) {
      const [prior] = await tx
        .select()
        .from(cashLedger)
        .where(and(eq(cashLedger.userId, userId), eq(cashLedger.idempotencyKey, idempotencyKey)))
      if (prior) {
        const delta = kind === 'deposit' ? amountCents : -amountCents
        if (prior.kind !== kind || prior.amountCents !== delta) {
          throw new ConflictError(
            'idempotency_key_reused',
            'This Idempotency-Key was used for a different request',
          )
        }
        return { entry: prior, replayed: true }
      }
    }
    if (kind === 'withdrawal') await checkSettled(tx, user, amountCents)
    const posted = await postCash(tx, {
      userId,
      kind,
      cashDelta: kind === 'deposit' ? amountCents : -amountCents,
      idempotencyKey,
      ...(actorId !== undefined && actorId !== userId && { data: { by: actorId } }),
    })
    if (!posted.ok) {
      if (kind === 'withdrawal') {
        throw new InsufficientBuyingPowerError(user.cashCents - user.reservedCashCents)
      }
      throw new AppError(422, 'limit_exceeded', 'Balance would exceed the supported range')
    }
    const entry = posted.entry
    return { entry, replayed: false }
  })
}

/** A withdrawal within the available cash, but into sale proceeds not settled yet: refused. */
async function checkSettled(tx: Tx, user: User, amountCents: number) {
  const available = user.cashCents - user.reservedCashCents
  if (amountCents > available) return // postCash refuses it: insufficient funds
  const unsettled = await unsettledProceeds(tx, user.id)
  const withdrawable = Math.max(0, available - unsettled)
  if (amountCents > withdrawable) {
    const message = 'Part of this cash is sale proceeds not settled yet'
    throw new AppError(422, 'unsettled_funds', message, {
      withdrawable: formatCents(withdrawable),
      unsettled_proceeds: formatCents(unsettled),
    })
  }
}

export async function listLedger(db: Db, userId: number, limit: number, before?: number) {
  return db
    .select()
    .from(cashLedger)
    .where(
      before === undefined
        ? eq(cashLedger.userId, userId)
        : and(eq(cashLedger.userId, userId), lt(cashLedger.id, before)),
    )
    .orderBy(desc(cashLedger.id))
    .limit(limit)
}

const markedPositions = (db: Db) =>
  db
    .select({ ...getTableColumns(positions), markCents: markPriceCents })
    .from(positions)
    .innerJoin(symbols, eq(symbols.symbol, positions.symbol))

export async function listPositions(db: Db, userId: number): Promise<MarkedPosition[]> {
  return markedPositions(db).where(eq(positions.userId, userId)).orderBy(asc(positions.symbol))
}

export async function getPosition(db: Db, userId: number, symbol: string): Promise<MarkedPosition> {
  const [row] = await markedPositions(db).where(
    and(eq(positions.userId, userId), eq(positions.symbol, symbol)),
  )
  if (!row) throw new NotFoundError(`No position in ${symbol}`)
  return row
}

export async function getLedgerEntry(db: Db, userId: number, id: number) {
  // scoped by user: someone else's entry is indistinguishable from a missing one (404)
  const [row] = await db
    .select()
    .from(cashLedger)
    .where(and(eq(cashLedger.id, id), eq(cashLedger.userId, userId)))
  if (!row) throw new NotFoundError(`No ledger entry ${id}`)
  return row
}

/**
 * Share transfer-in (sandbox): adds qty shares at a total cost basis to the position, and a
 * transfer_in ledger entry (amount 0: no cash moves) with the symbol and quantity. Same
 * Idempotency-Key rules as moveCash.
 */
export async function transferIn(
  db: Db,
  userId: number,
  input: { symbol: string; qty: number; costBasisCents: number },
  idempotencyKey?: string,
  actorId?: number,
): Promise<{ entry: LedgerEntry; replayed: boolean }> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    const [symbol] = await tx.select().from(symbols).where(eq(symbols.symbol, input.symbol))
    if (!symbol || symbol.status === 'delisted') {
      throw new AppError(422, 'unknown_symbol', `${input.symbol} is not a listed symbol`)
    }
    if (idempotencyKey) {
      const [prior] = await tx
        .select()
        .from(cashLedger)
        .where(and(eq(cashLedger.userId, userId), eq(cashLedger.idempotencyKey, idempotencyKey)))
      if (prior) {
        if (
          prior.kind !== 'transfer_in' ||
          prior.symbol !== input.symbol ||
          prior.qty !== input.qty
        ) {
          throw new ConflictError(
            'idempotency_key_reused',
            'This Idempotency-Key was used for a different request',
          )
        }
        return { entry: prior, replayed: true }
      }
    }
    const [position] = await tx
      .insert(positions)
      .values({ userId, symbol: input.symbol, qty: input.qty, costCents: input.costBasisCents })
      .onConflictDoUpdate({
        target: [positions.userId, positions.symbol],
        set: {
          qty: sql`${positions.qty} + ${input.qty}`,
          costCents: sql`${positions.costCents} + ${input.costBasisCents}`,
          updatedAt: sql`now()`,
        },
      })
      .returning()
    const posted = await postCash(tx, {
      userId,
      kind: 'transfer_in',
      cashDelta: 0,
      symbol: input.symbol,
      qty: input.qty,
      idempotencyKey,
      action: 'position.transfer_in',
      data: {
        symbol: input.symbol,
        qty: input.qty,
        cost_basis_cents: input.costBasisCents,
        position_qty: position.qty,
        position_cost_cents: position.costCents,
        ...(actorId !== undefined && actorId !== userId && { by: actorId }),
      },
    })
    if (!posted.ok) throw new Error('a zero cash change cannot be refused')
    return { entry: posted.entry, replayed: false }
  })
}

export async function listSymbols(db: Db) {
  return db.select().from(symbols).orderBy(asc(symbols.symbol))
}

/** The newest audit entries (before `beforeSeq`), and the whole chain re-verified if asked. */
export async function auditTrail(
  db: Db,
  userId: number,
  opts: { limit: number; beforeSeq?: number; verify: boolean },
) {
  const [chain, entries] = await Promise.all([
    opts.verify ? verifyAuditChain(db, userId) : undefined,
    db
      .select()
      .from(auditLog)
      .where(
        opts.beforeSeq === undefined
          ? eq(auditLog.userId, userId)
          : and(eq(auditLog.userId, userId), lt(auditLog.seq, opts.beforeSeq)),
      )
      .orderBy(desc(auditLog.seq))
      .limit(opts.limit),
  ])
  return { chain, entries }
}

/**
 * An admin's change of a user's tier, role or short limit. Only a market maker may have a short
 * limit (leaving the role drops it), and a limit cannot go below a short position already open.
 */
export async function updateUser(
  db: Db,
  adminId: number,
  id: number,
  change: { tier?: User['tier']; role?: User['role']; short_limit?: number },
) {
  await db.transaction(async (tx) => {
    const [before] = await tx.select().from(users).where(eq(users.id, id)).for('update')
    if (!before) throw new NotFoundError(`No user ${id}`)
    const role = change.role ?? before.role
    const shortLimit = change.short_limit ?? (role === 'market_maker' ? before.shortLimitQty : 0)
    if (shortLimit > 0 && role !== 'market_maker') {
      throw new AppError(422, 'short_limit_not_allowed', 'Only market_maker accounts may sell short', {
        role,
        short_limit: shortLimit,
      })
    }
    const [{ lowest }] = await tx
      .select({ lowest: sql<number>`coalesce(min(${positions.qty} - ${positions.reservedQty}), 0)`.mapWith(Number) })
      .from(positions)
      .where(eq(positions.userId, id))
    if (lowest < -shortLimit) {
      throw new ConflictError(
        'short_position_open',
        `The account is short ${-lowest} shares (open sells included): cover before lowering its limit`,
      )
    }
    await tx
      .update(users)
      .set({ tier: change.tier ?? before.tier, role, shortLimitQty: shortLimit })
      .where(eq(users.id, id))
    const changed = Object.entries({
      tier: [before.tier, change.tier ?? before.tier],
      role: [before.role, role],
      short_limit: [before.shortLimitQty, shortLimit],
    }).filter(([, [from, to]]) => from !== to)
    await appendAudit(tx, id, 'admin.user_updated', {
      by: adminId,
      ...Object.fromEntries(changed.map(([k, [from, to]]) => [k, { from, to }])),
    })
  })
}
