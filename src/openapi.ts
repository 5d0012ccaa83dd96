// The OpenAPI 3.1 document of the HTTP API, read off the app itself: every route Hono has, the
// zod schemas its validators check (src/lib/validate.ts keeps them) and the auth middleware in
// front of it. A route or a field added to the code is in the document; none can be documented
// that the code does not have.
import { z } from 'zod'
import type { ZodType } from 'zod'
import { requireAdmin, requireAuth, requireTwoFactor } from './auth/middleware.ts'
import { validators } from './lib/validate.ts'

type JsonSchema = Record<string, unknown>

const jsonSchema = (schema: ZodType): JsonSchema => {
  // the input side: what a client sends (transforms turn decimal strings into cents afterwards)
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })
  return rest
}

const PROBLEM: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is the stable machine code',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
  },
  required: ['type', 'title', 'status', 'detail', 'instance', 'code'],
}

/** '/v1/orders/:id' → '/v1/orders/{id}' */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}')

/** Whether a middleware registered for `pattern` (with * wildcards) runs for `path`. */
function covers(pattern: string, path: string): boolean {
  if (pattern === path || pattern === '*' || pattern === '/*') return true
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`)
  // Hono's '/x/*' also matches '/x'
  return re.test(path) || (pattern.endsWith('/*') && pattern.slice(0, -2) === path)
}

interface Operation {
  method: string
  path: string
  handlers: unknown[]
}

/** What Hono lists of an app: each route and middleware with its handler. */
export interface RouteTable {
  routes: { method: string; path: string; handler: unknown }[]
}

/** The app's operations, each with every handler and middleware that runs for it, in order. */
function operations(app: RouteTable): Operation[] {
  const ops = new Map<string, Operation>()
  const routes = app.routes
  for (const r of routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue
    const key = `${r.method} ${r.path}`
    if (!ops.has(key)) {
      const handlers = routes
        .filter((m) => (m.method === 'ALL' || m.method === r.method) && covers(m.path, r.path))
        .map((m) => m.handler)
      ops.set(key, { method: r.method.toLowerCase(), path: r.path, handlers })
    }
  }
  return [...ops.values()]
}

const tagOf = (path: string) => {
  const [, first, second] = path.split('/')
  return first === 'v1' ? (second === 'admin' ? 'admin' : (second ?? 'v1')) : 'service'
}

export function openApiDocument(app: RouteTable) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of operations(app)) {
    const checks = op.handlers.flatMap((h) => {
      const v = validators.get(h as object)
      return v ? [v] : []
    })
    const parameters: unknown[] = []
    let requestBody: unknown
    for (const { target, schema } of checks) {
      const s = jsonSchema(schema)
      if (target === 'json') {
        requestBody = { required: true, content: { 'application/json': { schema: s } } }
        continue
      }
      const where = target === 'param' ? 'path' : target
      if (!['path', 'query', 'header'].includes(where)) continue
      const props = (s.properties ?? {}) as Record<string, JsonSchema>
      const required = new Set((s.required as string[] | undefined) ?? [])
      for (const [name, p] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: p })
      }
    }
    // path parameters no validator names are strings
    for (const [, name] of op.path.matchAll(/:(\w+)/g)) {
      if (!parameters.some((p) => (p as { name: string }).name === name)) {
        parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } })
      }
    }
    const has = (m: unknown) => op.handlers.includes(m)
    const auth = has(requireAuth)
    const notes = [has(requireTwoFactor) && 'needs a token from a two-factor login', has(requireAdmin) && 'admins only (404 for anyone else)']
    paths[openApiPath(op.path)] ??= {}
    paths[openApiPath(op.path)][op.method] = {
      tags: [tagOf(op.path)],
      operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(notes.some(Boolean) && { description: notes.filter(Boolean).join('; ') }),
      ...(auth && { security: [{ bearer: [] }] }),
      ...(parameters.length > 0 && { parameters }),
      ...(requestBody !== undefined && { requestBody }),
      responses: {
        '2XX': { description: 'Success (README, "API", has each response)' },
        default: { description: 'A problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bourse API',
      version: '1',
      description: 'Retail stock trading at the edge. Money is a decimal string, quantities whole shares.',
    },
    paths,
    components: {
      schemas: { Problem: PROBLEM },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (ES256)' } },
    },
  }
}
