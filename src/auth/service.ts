// Registration, login (password + optional TOTP), refresh-token rotation, logout, 2FA setup.
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm'
import { appendAudit } from '../audit/chain.ts'
import type { Db } from '../db/client.ts'
import { UNIQUE_VIOLATION, pgErrorCode } from '../db/pg-errors.ts'
import { refreshTokens, users } from '../db/schema.ts'
import type { Env, Settings } from '../env.ts'
import {
  ConflictError,
  InvalidCredentialsError,
  InvalidOtpError,
  OtpRequiredError,
  RateLimitedError,
  UnauthorizedError,
} from '../errors.ts'
import { hashIterations, hashPassword, verifyPassword } from './password.ts'
import { MAX_LOCK_SECONDS, checkIp, recordIpFailure } from './throttle.ts'
import { issueAccessToken, newRefreshToken, sha256Hex } from './tokens.ts'
import { newTotpSecret, otpauthUri, verifyTotp } from './totp.ts'

export interface TokenPair {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  refresh_expires_in: number
}

export async function registerUser(
  db: Db,
  settings: Settings,
  input: { email: string; password: string; displayName?: string },
) {
  const passwordHash = await hashPassword(input.password, settings.pbkdf2Iterations)
  try {
    return await db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({
          email: input.email,
          displayName: input.displayName ?? input.email.split('@')[0],
          passwordHash,
        })
        .returning()
      await appendAudit(tx, user.id, 'user.registered', { email: input.email })
      return user
    })
  } catch (err) {
    if (pgErrorCode(err) === UNIQUE_VIOLATION) {
      throw new ConflictError('email_taken', 'An account with this email already exists')
    }
    throw err
  }
}

// Verified against when the email is unknown, so both failures take the same time. Values, not
// promises, are cached: a promise shared across requests is unsafe in workerd.
const dummyHashes = new Map<number, string>()
async function dummyHash(iterations: number) {
  let h = dummyHashes.get(iterations)
  if (!h) dummyHashes.set(iterations, (h = await hashPassword('not-a-real-password', iterations)))
  return h
}

async function startSession(
  db: Db,
  env: Env,
  settings: Settings,
  userId: number,
  mfa: boolean,
  familyId: string = crypto.randomUUID(),
): Promise<TokenPair> {
  const refresh = newRefreshToken()
  await db.insert(refreshTokens).values({
    userId,
    tokenHash: await sha256Hex(refresh),
    familyId,
    mfa,
    expiresAt: new Date(Date.now() + settings.refreshTtl * 1000),
  })
  return {
    access_token: await issueAccessToken(env, settings, userId, mfa ? ['pwd', 'otp'] : ['pwd']),
    token_type: 'Bearer',
    expires_in: settings.accessTtl,
    refresh_token: refresh,
    refresh_expires_in: settings.refreshTtl,
  }
}

/** Accepts a TOTP code once: the step is recorded only if newer than the last accepted one. */
async function consumeOtp(
  db: Db,
  user: { id: number; totpSecret: string | null; totpLastStep: number | null },
  code: string,
): Promise<boolean> {
  if (!user.totpSecret) return false
  const step = await verifyTotp(user.totpSecret, code, user.totpLastStep)
  if (step === undefined) return false
  const updated = await db
    .update(users)
    .set({ totpLastStep: step })
    .where(and(eq(users.id, user.id), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
    .returning({ id: users.id })
  return updated.length === 1
}

async function audit(db: Db, userId: number, action: string, data: Record<string, unknown>) {
  await db.transaction((tx) => appendAudit(tx, userId, action, data))
}

/** Seconds the account stays locked after its n-th consecutive failure (0: not locked). */
export function lockSeconds(settings: Settings, failures: number): number {
  const over = failures - settings.loginLockThreshold
  if (over < 0) return 0
  return Math.min(settings.loginLockSeconds * 2 ** Math.min(over, 30), MAX_LOCK_SECONDS)
}

/**
 * Counts a failed password or one-time code for the account (src/auth/throttle.ts): the
 * LOGIN_LOCK_THRESHOLD-th consecutive one locks the account for LOGIN_LOCK_SECONDS, and each
 * further failure (no successful login since) locks it again for twice as long, up to a day.
 * Also counts the failure for the caller's IP.
 */
async function recordFailure(
  db: Db,
  settings: Settings,
  userId: number,
  reason: string,
  ip: string,
) {
  await recordIpFailure(db, settings, ip)
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ failedLogins: sql`${users.failedLogins} + 1` })
      .where(eq(users.id, userId))
      .returning({ failedLogins: users.failedLogins })
    const seconds = lockSeconds(settings, row.failedLogins)
    if (seconds > 0) {
      await tx
        .update(users)
        .set({ lockedUntil: sql`now() + make_interval(secs => ${seconds})` })
        .where(eq(users.id, userId))
    }
    await appendAudit(tx, userId, 'auth.failed_attempt', {
      reason,
      failed_attempts: row.failedLogins,
      ...(seconds > 0 ? { locked_seconds: seconds } : {}),
    })
  })
}

/** 429 while the account is locked by failed attempts. */
function assertNotLocked(user: { lockedUntil: Date | null }) {
  const lockedMs = (user.lockedUntil?.getTime() ?? 0) - Date.now()
  if (lockedMs > 0) throw new RateLimitedError(Math.ceil(lockedMs / 1000), 'account')
}

/** Checks a one-time code for an account that is not locked, counting a failure. */
async function checkOtp(
  db: Db,
  settings: Settings,
  user: typeof users.$inferSelect,
  code: string,
  ip: string,
  reason: string,
) {
  if (!(await consumeOtp(db, user, code))) {
    await recordFailure(db, settings, user.id, reason, ip)
    throw new InvalidOtpError()
  }
}

export async function login(
  db: Db,
  env: Env,
  settings: Settings,
  input: { email: string; password: string; otp?: string },
  ip: string,
): Promise<TokenPair> {
  await checkIp(db, settings, ip)
  const [user] = await db.select().from(users).where(eq(users.email, input.email))
  if (!user) {
    await verifyPassword(input.password, await dummyHash(settings.pbkdf2Iterations))
    await recordIpFailure(db, settings, ip)
    throw new InvalidCredentialsError()
  }
  assertNotLocked(user)
  if (!(await verifyPassword(input.password, user.passwordHash))) {
    await recordFailure(db, settings, user.id, 'password', ip)
    throw new InvalidCredentialsError()
  }
  if (user.totpEnabled) {
    if (!input.otp) throw new OtpRequiredError()
    await checkOtp(db, settings, user, input.otp, ip, 'otp')
  }
  const rehash = hashIterations(user.passwordHash) !== settings.pbkdf2Iterations
  if (rehash || user.failedLogins > 0 || user.lockedUntil) {
    await db
      .update(users)
      .set({
        failedLogins: 0,
        lockedUntil: null,
        ...(rehash
          ? { passwordHash: await hashPassword(input.password, settings.pbkdf2Iterations) }
          : {}),
      })
      .where(eq(users.id, user.id))
  }
  const tokens = await startSession(db, env, settings, user.id, user.totpEnabled)
  await audit(db, user.id, 'auth.login', { mfa: user.totpEnabled })
  return tokens
}

/**
 * Rotation: each refresh token works once and yields a new pair in the same family. Presenting a
 * used or revoked token means it leaked (or a client bug): the whole family is revoked.
 */
export async function refresh(
  db: Db,
  env: Env,
  settings: Settings,
  token: string,
): Promise<TokenPair> {
  const tokenHash = await sha256Hex(token)
  const [row] = await db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash))
  if (!row) throw new UnauthorizedError('invalid_refresh_token', 'Unknown refresh token')
  if (row.expiresAt.getTime() <= Date.now() && !row.usedAt && !row.revokedAt) {
    throw new UnauthorizedError('invalid_refresh_token', 'The refresh token has expired')
  }
  const claimed = await db
    .update(refreshTokens)
    .set({ usedAt: sql`now()` })
    .where(
      and(
        eq(refreshTokens.id, row.id),
        isNull(refreshTokens.usedAt),
        isNull(refreshTokens.revokedAt),
        sql`${refreshTokens.expiresAt} > now()`,
      ),
    )
    .returning({ id: refreshTokens.id })
  if (claimed.length === 0) {
    await revokeFamily(db, row.familyId)
    await audit(db, row.userId, 'auth.refresh_reuse', { family: row.familyId })
    throw new UnauthorizedError('invalid_refresh_token', 'Refresh token already used or revoked')
  }
  return startSession(db, env, settings, row.userId, row.mfa, row.familyId)
}

async function revokeFamily(db: Db, familyId: string) {
  await db
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
}

/** Revokes the session (the token's family). Unknown tokens are ignored: logout is idempotent. */
export async function logout(db: Db, token: string): Promise<void> {
  const [row] = await db
    .select({ familyId: refreshTokens.familyId, userId: refreshTokens.userId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, await sha256Hex(token)))
  if (!row) return
  await revokeFamily(db, row.familyId)
  await audit(db, row.userId, 'auth.logout', { family: row.familyId })
}

async function userById(db: Db, userId: number) {
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  if (!user) throw new UnauthorizedError('unknown_user', 'The token names no user')
  return user
}

/** A new secret (not active until /totp/verify confirms a code from it). */
export async function enrollTotp(db: Db, userId: number) {
  const user = await userById(db, userId)
  if (user.totpEnabled) throw new ConflictError('2fa_enabled', 'Two-factor is already enabled')
  const secret = newTotpSecret()
  await db.update(users).set({ totpSecret: secret, totpLastStep: null }).where(eq(users.id, userId))
  return { secret, otpauth_uri: otpauthUri(secret, user.email) }
}

export async function verifyTotpEnrollment(
  db: Db,
  settings: Settings,
  userId: number,
  code: string,
  ip: string,
) {
  await checkIp(db, settings, ip)
  const user = await userById(db, userId)
  assertNotLocked(user)
  if (user.totpEnabled) throw new ConflictError('2fa_enabled', 'Two-factor is already enabled')
  if (!user.totpSecret) {
    throw new ConflictError('2fa_not_enrolled', 'Call POST /v1/auth/totp/enroll first')
  }
  await checkOtp(db, settings, user, code, ip, 'totp_verify')
  await db.transaction(async (tx) => {
    await tx.update(users).set({ totpEnabled: true }).where(eq(users.id, userId))
    await appendAudit(tx, userId, 'auth.2fa_enabled', {})
  })
}

export async function disableTotp(
  db: Db,
  settings: Settings,
  userId: number,
  code: string,
  ip: string,
) {
  await checkIp(db, settings, ip)
  const user = await userById(db, userId)
  assertNotLocked(user)
  if (!user.totpEnabled) throw new ConflictError('2fa_disabled', 'Two-factor is not enabled')
  await checkOtp(db, settings, user, code, ip, 'totp_disable')
  await db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ totpEnabled: false, totpSecret: null, totpLastStep: null })
      .where(eq(users.id, userId))
    await appendAudit(tx, userId, 'auth.2fa_disabled', {})
  })
}

/** Revokes every session of the user (all refresh-token families). */
export async function logoutEverywhere(db: Db, userId: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(refreshTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)))
    await appendAudit(tx, userId, 'auth.logout_all', {})
  })
}

/**
 * Needs the current password (and a TOTP code when 2FA is on); signs every session out, so the
 * caller logs in again with the new password.
 */
export async function changePassword(
  db: Db,
  settings: Settings,
  userId: number,
  input: { currentPassword: string; newPassword: string; otp?: string },
  ip: string,
): Promise<void> {
  await checkIp(db, settings, ip)
  const user = await userById(db, userId)
  assertNotLocked(user)
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
    await recordFailure(db, settings, user.id, 'password_change', ip)
    throw new InvalidCredentialsError()
  }
  if (user.totpEnabled) {
    if (!input.otp) throw new OtpRequiredError()
    await checkOtp(db, settings, user, input.otp, ip, 'password_change_otp')
  }
  const passwordHash = await hashPassword(input.newPassword, settings.pbkdf2Iterations)
  await db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ passwordHash, failedLogins: 0, lockedUntil: null })
      .where(eq(users.id, userId))
    await tx
      .update(refreshTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)))
    await appendAudit(tx, userId, 'auth.password_changed', {})
  })
}
