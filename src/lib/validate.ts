// zod validation for route inputs; failures become ValidationError (problem+json 400).
import { zValidator } from '@hono/zod-validator'
import type { ValidationTargets } from 'hono'
import type { ZodType, core } from 'zod'
import { ValidationError } from '../errors.ts'

/** The failure as a ValidationError: an unknown field under its own path, like any other. */
export function validationError(what: string, error: core.$ZodError): ValidationError {
  const errors = error.issues.flatMap((i) => {
    const path = i.path.map(String)
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: [...path, k].join('.'), message: 'unknown field' }))
    }
    return [{ path: path.join('.'), message: i.message }]
  })
  return new ValidationError(what, errors)
}

/** The path of the first string holding a NUL: Postgres text cannot store one. */
function nulAt(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') : undefined
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, v] of Object.entries(value)) {
    const found = nulAt(v, [...path, key])
    if (found !== undefined) return found
  }
}

/** Each validator middleware's target and schema: the OpenAPI document reads them (src/openapi.ts). */
export const validators = new WeakMap<object, { target: keyof ValidationTargets; schema: ZodType }>()

/** What each target is called in a problem's detail. */
const TARGET_NAMES: Partial<Record<keyof ValidationTargets, string>> = {
  json: 'request body',
  query: 'query parameters',
  param: 'path parameters',
  header: 'headers',
  form: 'form body',
}

export function validate<T extends ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  const what = `Invalid ${TARGET_NAMES[target] ?? target}`
  const middleware = zValidator(target, schema, (result) => {
    if (!result.success) throw validationError(what, result.error)
    const path = nulAt(result.data)
    if (path !== undefined) {
      throw new ValidationError(what, [{ path, message: 'must not contain NUL (\\u0000)' }])
    }
  })
  validators.set(middleware, { target, schema })
  return middleware
}
