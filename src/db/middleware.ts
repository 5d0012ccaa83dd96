// Opens a Pool for the request and ends it after the response (waitUntil in workerd).
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context.ts'
import { openDb } from './client.ts'

export const withDb = createMiddleware<AppEnv>(async (c, next) => {
  const handle = openDb(c.env)
  c.set('db', handle.db)
  try {
    await next()
  } finally {
    const ended = handle.end().catch((err) => console.error('pool.end failed', err))
    let ctx: ExecutionContext | undefined
    try {
      ctx = c.executionCtx
    } catch {
      // no ExecutionContext (app.request in a test): wait here instead
    }
    if (ctx) ctx.waitUntil(ended)
    else await ended
  }
})
