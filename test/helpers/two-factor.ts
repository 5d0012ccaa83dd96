// Turning on a user's second factor through the API with the typed client, as an authenticator
// app would: enroll, then confirm with this step's code. Plain TypeScript (no bun:test), so the
// screenshot script under Node uses it too.
import { currentStep, totpAt } from '../../src/auth/totp.ts'
import { createClient } from '../../src/client/index.ts'
import { DEMO_PASSWORD } from '../../src/db/seed.ts'

/** Returns the TOTP secret; this step's code is spent, so a login next uses the next step's. */
export async function enableTwoFactor(base: string, email: string, password = DEMO_PASSWORD) {
  const { access_token } = await createClient(base).login({ email, password })
  const user = createClient(base, { token: access_token })
  const { secret } = await user.enrollTotp()
  await user.verifyTotp(await totpAt(secret, currentStep()))
  return secret
}
