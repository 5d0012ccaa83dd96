// "Turn on two-factor, then log in with the next code", the one copy of it: the user's second
// factor turned on through the API with the typed client, as an authenticator app would (enroll,
// confirm with this step's code), and the code a login right after takes. Plain TypeScript (no
// bun:test), so the screenshot script and the benchmarks under Node use it too.
import { currentStep, totpAt } from '../../src/auth/totp.ts'
import { createClient } from '../../src/client/index.ts'
import type { Client } from '../../src/client/index.ts'
import { DEMO_PASSWORD } from '../../src/db/seed.ts'

/** Turns on the second factor of the client's user; returns the TOTP secret. */
export async function turnOnTwoFactor(user: Client): Promise<string> {
  const { secret } = await user.enrollTotp()
  await user.verifyTotp(await totpAt(secret, currentStep()))
  return secret
}

/** the code for a login after turnOnTwoFactor: each code works once, and this step's is spent (±1 step accepted) */
export const nextCode = (secret: string) => totpAt(secret, currentStep() + 1)

/** Logs in with the password and turns the second factor on; returns the TOTP secret. */
export async function enableTwoFactor(base: string, email: string, password = DEMO_PASSWORD) {
  const { access_token } = await createClient(base).login({ email, password })
  return turnOnTwoFactor(createClient(base, { token: access_token }))
}
