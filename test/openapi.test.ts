// The OpenAPI document is read off the app: every route is in it, with the schemas its validators
// check and the auth in front of it; /docs shows it.
import { describe, expect, test } from 'bun:test'
import { createApp } from '../src/app.ts'

type Json = Record<string, any>

const app = createApp()
const doc = (await (await app.request('/openapi.json')).json()) as Json
const operation = (method: string, path: string) => doc.paths[path]?.[method]

describe('/openapi.json', () => {
  test('every route the app has, and only those', () => {
    const routes = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods as Json).map((m) => `${m} ${path}`)),
    )
    expect([...documented].sort()).toEqual([...routes].sort())
    expect(documented.size).toBeGreaterThan(50)
    expect(doc.openapi).toBe('3.1.0')
  })

  test('request bodies, parameters and auth come from the validators and middleware', () => {
    const place = operation('post', '/v1/orders')
    const body = place.requestBody.content['application/json'].schema
    expect(body.properties.side.enum).toEqual(['buy', 'sell'])
    expect(body.required).toEqual(expect.arrayContaining(['symbol', 'side', 'type', 'qty', 'time_in_force']))
    expect(body.additionalProperties).toBe(false) // unknown fields are refused
    expect(place.security).toEqual([{ bearer: [] }])
    expect(place.description).toContain('two-factor')
    expect(place.parameters).toEqual([expect.objectContaining({ name: 'idempotency-key', in: 'header' })])

    const list = operation('get', '/v1/orders')
    expect(list.parameters.map((p: Json) => p.name)).toEqual(expect.arrayContaining(['status', 'symbol', 'limit', 'cursor']))
    const cancel = operation('delete', '/v1/orders/{id}')
    expect(cancel.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path', required: true }))
    expect(operation('post', '/v1/admin/symbols').description).toContain('admins only')
    expect(operation('get', '/v1/symbols').security).toBeUndefined()
    expect(operation('post', '/v1/auth/login').requestBody).toBeDefined()
    expect(doc.components.schemas.Problem.required).toContain('code')
  })
})

describe('/docs', () => {
  test('a page of the document that needs nothing from outside', async () => {
    const res = await app.request('/docs')
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    expect(html).toContain("fetch('/openapi.json')")
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/)
  })
})
