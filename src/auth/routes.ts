import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import { validate } from '../lib/validate.ts'
import { requireAuth } from './middleware.ts'
import { codeBody, loginBody, passwordChangeBody, refreshBody, registerBody } from './schema.ts'
import * as auth from './service.ts'
import { clientIp } from './throttle.ts'

export const authRoutes = new Hono<AppEnv>()

authRoutes.use(withDb)

authRoutes.post('/register', validate('json', registerBody), async (c) => {
  const body = c.req.valid('json')
  const user = await auth.registerUser(c.var.db, c.var.settings, {
    email: body.email,
    password: body.password,
    displayName: body.display_name,
  })
  return c.json(
    {
      id: user.id,
      email: user.email,
      display_name: user.displayName,
      tier: user.tier,
      role: user.role,
      created_at: user.createdAt.toISOString(),
    },
    201,
  )
})

authRoutes.post('/login', validate('json', loginBody), async (c) => {
  const tokens = await auth.login(c.var.db, c.env, c.var.settings, c.req.valid('json'), clientIp(c))
  c.header('Cache-Control', 'no-store')
  return c.json(tokens)
})

authRoutes.post('/refresh', validate('json', refreshBody), async (c) => {
  const { refresh_token } = c.req.valid('json')
  const tokens = await auth.refresh(c.var.db, c.env, c.var.settings, refresh_token)
  c.header('Cache-Control', 'no-store')
  return c.json(tokens)
})

authRoutes.post('/logout', validate('json', refreshBody), async (c) => {
  await auth.logout(c.var.db, c.req.valid('json').refresh_token)
  return c.body(null, 204)
})

authRoutes.post('/logout-all', requireAuth, async (c) => {
  await auth.logoutEverywhere(c.var.db, c.var.auth.userId)
  return c.body(null, 204)
})

authRoutes.post('/password', requireAuth, validate('json', passwordChangeBody), async (c) => {
  const body = c.req.valid('json')
  await auth.changePassword(
    c.var.db,
    c.var.settings,
    c.var.auth.userId,
    {
      currentPassword: body.current_password,
      newPassword: body.new_password,
      otp: body.otp,
    },
    clientIp(c),
  )
  return c.body(null, 204)
})

// Two-factor (RFC 6238 TOTP): enroll → a secret and otpauth:// URI for an authenticator app;
// verify {code} → on. From then on a login needs "otp", and only such logins may trade.
authRoutes.post('/totp/enroll', requireAuth, async (c) => {
  c.header('Cache-Control', 'no-store')
  return c.json(await auth.enrollTotp(c.var.db, c.var.auth.userId))
})

authRoutes.post('/totp/verify', requireAuth, validate('json', codeBody), async (c) => {
  const { code } = c.req.valid('json')
  await auth.verifyTotpEnrollment(c.var.db, c.var.settings, c.var.auth.userId, code, clientIp(c))
  return c.json({ two_factor_enabled: true })
})

authRoutes.post('/totp/disable', requireAuth, validate('json', codeBody), async (c) => {
  const { code } = c.req.valid('json')
  await auth.disableTotp(c.var.db, c.var.settings, c.var.auth.userId, code, clientIp(c))
  return c.json({ two_factor_enabled: false })
})
