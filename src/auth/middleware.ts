import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context.ts'
import { UnauthorizedError } from '../errors.ts'
import { verifyAccessToken } from './tokens.ts'

/** Requires `Authorization: Bearer <access token>`; sets c.var.auth. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? ''
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  if (!match) throw new UnauthorizedError('unauthorized', 'Send Authorization: Bearer <token>')
  c.set('auth', await verifyAccessToken(c.env, c.get('settings'), match[1]))
  await next()
})
