// Where a request came from, for the audit trail: set once per request by middleware and read by
// every audit entry appended while serving it, so no service has to pass it along. Entries made
// outside a request (the drain, the Cron Trigger) have none.
import { AsyncLocalStorage } from 'node:async_hooks'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context.ts'

export interface Origin {
  /** the client's address as Cloudflare saw it (CF-Connecting-IP), else X-Forwarded-For's first */
  ip: string | null
  user_agent: string | null
}

const current = new AsyncLocalStorage<Origin>()

export const requestOrigin = (): Origin | undefined => current.getStore()

/** Runs `fn` as serving a request from `origin` (one that crossed into a Durable Object). */
export const withOriginOf = <T>(origin: Origin | undefined, fn: () => T): T =>
  origin ? current.run(origin, fn) : fn()

export const withOrigin = createMiddleware<AppEnv>((c, next) => {
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
  const origin = {
    ip: (c.req.header('cf-connecting-ip') ?? forwarded ?? null)?.slice(0, 64) ?? null,
    user_agent: c.req.header('user-agent')?.slice(0, 256) ?? null,
  }
  return current.run(origin, next)
})
