// Where a request came from, for the audit trail and the logs: set once per request by middleware
// and read by every audit entry appended while serving it, so no service has to pass it along.
// Its request id follows an order from the gateway into the symbol's object and its audit entries
// in Postgres. Entries made outside a request (the drain, the Cron Trigger) have none.
import { AsyncLocalStorage } from 'node:async_hooks'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context.ts'

export interface Origin {
  /** the client's X-Request-Id when it sent a sane one, else ours; answered in X-Request-Id */
  request_id: string
  /** the client's address as Cloudflare saw it (CF-Connecting-IP), else X-Forwarded-For's first */
  ip: string | null
  user_agent: string | null
}

const current = new AsyncLocalStorage<Origin>()

export const requestOrigin = (): Origin | undefined => current.getStore()

/** Runs `fn` as serving a request from `origin` (one that crossed into a Durable Object). */
export const withOriginOf = <T>(origin: Origin | undefined, fn: () => T): T =>
  origin ? current.run(origin, fn) : fn()

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/

/**
 * Sets the request's origin; with `log`, writes one JSON line per request when it is answered
 * (method, path, status, time, user, request id).
 */
export const withOrigin = (log: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = Date.now()
    const given = c.req.header('x-request-id')
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
    const origin: Origin = {
      request_id: given && REQUEST_ID.test(given) ? given : crypto.randomUUID(),
      ip: (c.req.header('cf-connecting-ip') ?? forwarded ?? null)?.slice(0, 64) ?? null,
      user_agent: c.req.header('user-agent')?.slice(0, 256) ?? null,
    }
    await current.run(origin, next)
    c.header('X-Request-Id', origin.request_id)
    if (!log) return
    const line = {
      level: c.res.status >= 500 ? 'error' : 'info',
      msg: 'request',
      request_id: origin.request_id,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
      user_id: c.get('auth')?.userId ?? null,
    }
    console.log(JSON.stringify(line))
  })
