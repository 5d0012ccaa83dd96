import { Hono } from 'hono'
import type { AppEnv } from '../context.ts'
import { withDb } from '../db/middleware.ts'
import { validate } from '../lib/validate.ts'
import { requireAuth } from './middleware.ts'
import { loginBody, otpBody, passwordChangeBody, refreshBody, registerBody } from './schema.ts'
import * as auth from './service.ts'

export const authRoutes = new Hono<AppEnv>()

authRoutes.use(withDb)

authRoutes.post('/register', validate('json', registerBody), async (c) => {
  const body = c.req.valid('json')
  const user = await auth.registerUser(c.var.db, c.var.settings, {
    email: body.email,
    password: body.password,
    displayName: body.display_name,
  })
  return c.json({ id: user.id, email: user.email, display_name: user.displayName }, 201)
})

authRoutes.post('/login', validate('json', loginBody), async (c) => {
  const tokens = await auth.login(c.var.db, c.env, c.var.settings, c.req.valid('json'))
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
  await auth.changePassword(c.var.db, c.var.settings, c.var.auth.userId, {
    currentPassword: body.current_password,
    newPassword: body.new_password,
    otp: body.otp,
  })
  return c.body(null, 204)
})

authRoutes.post('/2fa/setup', requireAuth, async (c) => {
  c.header('Cache-Control', 'no-store')
  return c.json(await auth.setupTotp(c.var.db, c.var.auth.userId))
})

authRoutes.post('/2fa/enable', requireAuth, validate('json', otpBody), async (c) => {
  await auth.enableTotp(c.var.db, c.var.auth.userId, c.req.valid('json').otp)
  return c.json({ two_factor_enabled: true })
})

authRoutes.post('/2fa/disable', requireAuth, validate('json', otpBody), async (c) => {
  await auth.disableTotp(c.var.db, c.var.auth.userId, c.req.valid('json').otp)
  return c.json({ two_factor_enabled: false })
})
