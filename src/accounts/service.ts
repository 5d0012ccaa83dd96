// Cash and holdings. Every cash change locks the user's row, checks, updates the balance,
// appends to cash_ledger (with the balances after it) and to the audit chain: one transaction.
import { and, asc, desc, eq, lt } from 'drizzle-orm'
import { verifyAuditChain } from '../audit/chain.ts'
import type { Db, Tx } from '../db/client.ts'
import { auditLog, cashLedger, instruments, positions, users } from '../db/schema.ts'
import { postCash } from './ledger.ts'
import {
  AppError,
  ConflictError,
  InsufficientFundsError,
  NotFoundError,
  UnauthorizedError,
} from '../errors.ts'

export type CashKind = 'deposit' | 'withdrawal'
export type LedgerEntry = typeof cashLedger.$inferSelect

export async function getAccount(db: Db, userId: number) {
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  if (!user) throw new UnauthorizedError('invalid_token', 'Unknown user')
  return user
}

export async function updateProfile(db: Db, userId: number, displayName: string) {
  const [user] = await db.update(users).set({ displayName }).where(eq(users.id, userId)).returning()
  if (!user) throw new UnauthorizedError('invalid_token', 'Unknown user')
  return user
}

async function lockUser(tx: Tx, userId: number) {
  const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update')
  if (!user) throw new UnauthorizedError('invalid_token', 'Unknown user')
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
): Promise<{ entry: LedgerEntry; replayed: boolean }> {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) {
    throw new AppError(400, 'validation', 'amount must be positive')
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
    const posted = await postCash(tx, {
      userId,
      kind,
      cashDelta: kind === 'deposit' ? amountCents : -amountCents,
      idempotencyKey,
    })
    if (!posted.ok) {
      if (kind === 'withdrawal') {
        throw new InsufficientFundsError(user.cashCents - user.reservedCashCents)
      }
      throw new AppError(422, 'limit_exceeded', 'Balance would exceed the supported range')
    }
    const entry = posted.entry
    return { entry, replayed: false }
  })
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

export async function listPositions(db: Db, userId: number) {
  return db
    .select()
    .from(positions)
    .where(eq(positions.userId, userId))
    .orderBy(asc(positions.symbol))
}

export async function getPosition(db: Db, userId: number, symbol: string) {
  const [row] = await db
    .select()
    .from(positions)
    .where(and(eq(positions.userId, userId), eq(positions.symbol, symbol)))
  if (!row) throw new NotFoundError(`No position in ${symbol}`)
  return row
}

export async function listInstruments(db: Db) {
  return db.select().from(instruments).orderBy(asc(instruments.symbol))
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
