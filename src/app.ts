// createApp(): the Worker's HTTP surface. Routes live in src/<domain>/routes.ts; every error
// leaves through one onError as RFC 9457 problem+json.
import { Hono } from 'hono'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { accountRoutes } from './accounts/routes.ts'
import { streamRoutes } from './accounts/stream-routes.ts'
import { adminRoutes } from './admin/routes.ts'
import { requestOrigin, withOrigin } from './audit/origin.ts'
import { signingKeys } from './auth/keys.ts'
import { requireAdmin, requireAuth } from './auth/middleware.ts'
import { authRoutes } from './auth/routes.ts'
import { complianceRoutes } from './compliance/routes.ts'
import { executionRoutes } from './execution/routes.ts'
import { marketDataRoutes } from './marketdata/routes.ts'
import { readiness } from './monitoring/readiness.ts'
import { monitoringRoutes } from './monitoring/routes.ts'
import { openApiDocument } from './openapi.ts'
import { DOCS_PAGE } from './docs-page.ts'
import { orderRoutes } from './orders/routes.ts'
import { settlementRoutes } from './settlement/routes.ts'
import type { AppEnv } from './context.ts'
import { withDb } from './db/middleware.ts'
import { settingsFrom } from './env.ts'
import { AppError, ServiceUnavailableError, problemBody } from './errors.ts'

export function problem(
  c: Context,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
) {
  const body = problemBody(status, code, detail, c.req.path, extra)
  if (status === 401) {
    // RFC 6750 §3: no error attribute when no token was sent
    const reason = extra.reason
    c.header(
      'WWW-Authenticate',
      reason === 'token_missing' || reason === undefined
        ? 'Bearer realm="bourse"'
        : 'Bearer realm="bourse", error="invalid_token"',
    )
  }
  if (typeof extra.retry_after === 'number') c.header('Retry-After', String(extra.retry_after))
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, {
    'Content-Type': 'application/problem+json',
  })
}

export const MAX_BODY_BYTES = 16 * 1024
/** a clearinghouse's confirmation file: ~50 bytes a line, so 100k accounts' obligations */
export const MAX_FILE_BYTES = 8 * 1024 * 1024
const FILE_UPLOAD = /^\/v1\/admin\/settlement\/[^/]+\/confirmations$/

export function createApp() {
  const app = new Hono<AppEnv>()

  app.use(async (c, next) => {
    try {
      c.set('settings', settingsFrom(c.env ?? {}))
    } catch (err) {
      throw new ServiceUnavailableError(`Bad configuration: ${(err as Error).message}`)
    }
    await next()
  })

  // one log line per request where the Worker runs for real (not in-process tests)
  const [logged, quiet] = [withOrigin(true), withOrigin(false)]
  app.use('/v1/*', (c, next) => (c.env?.ENVIRONMENT ? logged : quiet)(c, next))

  const limitBody = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) =>
        problem(c, 413, 'body_too_large', `Request bodies are limited to ${maxSize} bytes`),
    })
  const [jsonLimit, fileLimit] = [limitBody(MAX_BODY_BYTES), limitBody(MAX_FILE_BYTES)]
  app.use('/v1/*', (c, next) => (FILE_UPLOAD.test(c.req.path) ? fileLimit : jsonLimit)(c, next))

  app.get('/healthz', (c) => c.json({ status: 'ok' }))

  /** 200 ready or degraded (Redis down: caches fall back), 503 unready; each dependency's state. */
  app.get('/readyz', async (c) => {
    const ready = await readiness(c.env)
    c.header('Cache-Control', 'no-store')
    return c.json(ready, ready.status === 'unready' ? 503 : 200)
  })

  app.get('/.well-known/jwks.json', async (c) => {
    c.header('Cache-Control', 'public, max-age=300')
    return c.json((await signingKeys(c.env)).jwks)
  })

  app.route('/v1/auth', authRoutes)
  // admins only (the role is read from the database); anyone else gets 404, as for a route that
  // does not exist. Each domain brings its own admin routes.
  const admin = new Hono<AppEnv>().use(withDb, requireAuth, requireAdmin)
  admin.route('/', adminRoutes)
  admin.route('/', settlementRoutes)
  admin.route('/', complianceRoutes)
  admin.route('/', executionRoutes)
  admin.route('/', monitoringRoutes)
  app.route('/v1/admin', admin)
  app.route('/v1', accountRoutes)
  app.route('/v1', streamRoutes)
  app.route('/v1', marketDataRoutes)
  app.route('/v1', orderRoutes)

  // the API's own description, read off the routes above (src/openapi.ts), and a page of it
  let described: ReturnType<typeof openApiDocument> | undefined
  app.get('/openapi.json', (c) => c.json((described ??= openApiDocument(app))))
  app.get('/docs', (c) => c.html(DOCS_PAGE))

  app.notFound((c) => problem(c, 404, 'not_found', `No route for ${c.req.method} ${c.req.path}`))

  app.onError((err, c) => {
    if (err instanceof AppError) return problem(c, err.status, err.code, err.message, err.extra)
    if (err instanceof HTTPException) {
      // the validator's own 400s (malformed JSON, wrong content type) are invalid requests too
      const code = err.status === 400 ? 'invalid_request' : 'http_error'
      return problem(c, err.status, code, err.message, err.status === 400 ? { errors: [] } : {})
    }
    const stack = err instanceof Error ? err.stack : String(err)
    console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', request_id: requestOrigin()?.request_id, stack }))
    return problem(c, 500, 'internal', 'Internal server error')
  })

  return app
}
