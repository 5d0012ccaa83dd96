// Request bodies of /v1/auth. Strict objects: an unknown field is a 400 like any invalid one.
import { z } from 'zod'

export const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((s) => s.toLowerCase())

export const password = z.string().min(10).max(200)
export const otp = z.string().regex(/^\d{6}$/, 'a 6-digit code')

export const registerBody = z.strictObject({
  email,
  password,
  /** optional; defaults to the part of the email before @ */
  display_name: z.string().trim().min(1).max(100).optional(),
})

export const loginBody = z.strictObject({
  email,
  password: z.string().min(1).max(200),
  otp: otp.optional(),
})

export const refreshBody = z.strictObject({ refresh_token: z.string().min(10).max(200) })
export const codeBody = z.strictObject({ code: otp })

export const passwordChangeBody = z.strictObject({
  current_password: z.string().min(1).max(200),
  new_password: password,
  otp: otp.optional(),
})
