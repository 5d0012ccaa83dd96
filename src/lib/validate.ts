// zod validation for route inputs; failures become ValidationError (problem+json 400).
import { zValidator } from '@hono/zod-validator'
import type { ValidationTargets } from 'hono'
import type { ZodType } from 'zod'
import { ValidationError } from '../errors.ts'

export function validate<T extends ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      // an unknown field is reported under its own path, like any other offending field
      const errors = result.error.issues.flatMap((i) => {
        const path = i.path.map(String)
        if (i.code === 'unrecognized_keys') {
          return i.keys.map((k) => ({ path: [...path, k].join('.'), message: 'unknown field' }))
        }
        return [{ path: path.join('.'), message: i.message }]
      })
      throw new ValidationError(`Invalid ${target}`, errors)
    }
  })
}
