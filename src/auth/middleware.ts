import { eq } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context.ts'
import { users } from '../db/schema.ts'
import { NotFoundError, TwoFactorRequiredError, UnauthorizedError } from '../errors.ts'
import { verifyAccessToken } from './tokens.ts'

/** Requires `Authorization: Bearer <access token>`; sets c.var.auth. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization')
  if (!header) throw new UnauthorizedError('token_missing', 'Send Authorization: Bearer <token>')
  const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(header.trim())
  if (!match) {
    throw new UnauthorizedError('token_malformed', 'Authorization must be "Bearer <token>"')
  }
  c.set('auth', await verifyAccessToken(c.env, c.get('settings'), match[1]))
  await next()
})

/**
 * For trading endpoints (placing, amending, canceling orders): the token must come from a login
 * that verified a one-time code (amr contains "otp"); else 403 two_factor_required. After
 * requireAuth.
 */
export const requireTwoFactor = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.auth.amr.includes('otp')) throw new TwoFactorRequiredError()
  await next()
})

/**
 * /v1/admin/*: the caller's role is read from the database on every request (a demotion takes
 * effect at once, not when the token expires). Anyone else gets 404, as if the route did not
 * exist. After requireAuth and withDb.
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const [user] = await c.var.db
    .select({ role: users.role })
    .from(users)
    .where(eq(users.id, c.var.auth.userId))
  if (user?.role !== 'admin') throw new NotFoundError(`No route for ${c.req.method} ${c.req.path}`)
  await next()
})
