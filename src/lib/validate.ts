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
      const errors = result.error.issues.map((i) => ({
        path: i.path.map(String).join('.'),
        message: i.message,
      }))
      throw new ValidationError(`Invalid ${target}`, errors)
    }
  })
}
