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
  UnauthorizedError,
} from '../errors.ts'
import { hashIterations, hashPassword, verifyPassword } from './password.ts'
import {
  clearAccountAttempts,
  lockSeconds,
  returnAccountAttempt,
  returnIpAttempt,
  takeAccountAttempt,
  takeIpAttempt,
} from './throttle.ts'
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

/** Audits a failed password or code; the attempt was counted before it was checked. */
async function auditFailure(
  db: Db,
  settings: Settings,
  userId: number,
  reason: string,
  attempts: number,
) {
  const seconds = lockSeconds(settings, attempts)
  await audit(db, userId, 'auth.failed_attempt', {
    reason,
    failed_attempts: attempts,
    ...(seconds > 0 ? { locked_seconds: seconds } : {}),
  })
}

/**
 * Runs one throttled attempt (src/auth/throttle.ts) for a signed-in user: counted for the IP and
 * the account before `check` runs, given back when it returns null, audited and thrown when it
 * returns the refusal.
 */
async function throttledCheck(
  db: Db,
  settings: Settings,
  userId: number,
  ip: string,
  reason: string,
  check: () => Promise<Error | null>,
) {
  await takeIpAttempt(db, settings, ip)
  const attempts = await takeAccountAttempt(db, settings, userId)
  const refusal = await check()
  if (refusal) {
    await auditFailure(db, settings, userId, reason, attempts)
    throw refusal
  }
  await clearAccountAttempts(db, userId)
  await returnIpAttempt(db, ip)
}

export async function login(
  db: Db,
  env: Env,
  settings: Settings,
  input: { email: string; password: string; otp?: string },
  ip: string,
): Promise<TokenPair> {
  await takeIpAttempt(db, settings, ip)
  const [user] = await db.select().from(users).where(eq(users.email, input.email))
  if (!user) {
    await verifyPassword(input.password, await dummyHash(settings.pbkdf2Iterations))
    throw new InvalidCredentialsError()
  }
  const attempts = await takeAccountAttempt(db, settings, user.id)
  if (!(await verifyPassword(input.password, user.passwordHash))) {
    await auditFailure(db, settings, user.id, 'password', attempts)
    throw new InvalidCredentialsError()
  }
  if (user.totpEnabled) {
    if (!input.otp) {
      // the right password and no code: nothing was guessed, the attempt is given back
      await returnAccountAttempt(db, settings, user.id)
      await returnIpAttempt(db, ip)
      throw new OtpRequiredError()
    }
    if (!(await consumeOtp(db, user, input.otp))) {
      await auditFailure(db, settings, user.id, 'otp', attempts)
      throw new InvalidOtpError()
    }
  }
  await clearAccountAttempts(db, user.id)
  await returnIpAttempt(db, ip)
  if (hashIterations(user.passwordHash) !== settings.pbkdf2Iterations) {
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(input.password, settings.pbkdf2Iterations) })
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
  const user = await userById(db, userId)
  if (user.totpEnabled) throw new ConflictError('2fa_enabled', 'Two-factor is already enabled')
  if (!user.totpSecret) {
    throw new ConflictError('2fa_not_enrolled', 'Call POST /v1/auth/totp/enroll first')
  }
  await throttledCheck(db, settings, userId, ip, 'totp_verify', async () =>
    (await consumeOtp(db, user, code)) ? null : new InvalidOtpError(),
  )
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
  const user = await userById(db, userId)
  if (!user.totpEnabled) throw new ConflictError('2fa_disabled', 'Two-factor is not enabled')
  await throttledCheck(db, settings, userId, ip, 'totp_disable', async () =>
    (await consumeOtp(db, user, code)) ? null : new InvalidOtpError(),
  )
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
  // a deleted user's token is 401 unknown_user, like on the other account routes (was a 500)
  await userById(db, userId)
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
  const user = await userById(db, userId)
  if (user.totpEnabled && !input.otp) throw new OtpRequiredError()
  await throttledCheck(db, settings, userId, ip, 'password_change', async () => {
    if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
      return new InvalidCredentialsError()
    }
    if (user.totpEnabled && !(await consumeOtp(db, user, input.otp!))) {
      return new InvalidOtpError()
    }
    return null
  })
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
