import { z } from 'zod'

export const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((s) => s.toLowerCase())

export const password = z.string().min(10).max(200)
export const otp = z.string().regex(/^\d{6}$/, 'a 6-digit code')

export const registerBody = z.object({
  email,
  password,
  display_name: z.string().trim().min(1).max(100),
})

export const loginBody = z.object({
  email,
  password: z.string().min(1).max(200),
  otp: otp.optional(),
})

export const refreshBody = z.object({ refresh_token: z.string().min(10).max(200) })
export const otpBody = z.object({ otp })

export const passwordChangeBody = z.object({
  current_password: z.string().min(1).max(200),
  new_password: password,
  otp: otp.optional(),
})
