// Access tokens: short-lived ES256 JWTs (sub = user id, amr = how the user authenticated).
// Refresh tokens: 32 random bytes, base64url; only their SHA-256 is stored.
import { SignJWT, base64url, errors as joseErrors, jwtVerify } from 'jose'
import type { Env, Settings } from '../env.ts'
import { UnauthorizedError } from '../errors.ts'
import { JWT_ALG, signingKeys } from './keys.ts'

export interface AccessClaims {
  userId: number
  /** authentication methods: ['pwd'] or ['pwd', 'otp'] */
  amr: string[]
  exp: number
}

export async function issueAccessToken(
  env: Env,
  settings: Settings,
  userId: number,
  amr: string[],
): Promise<string> {
  const keys = await signingKeys(env)
  return new SignJWT({ amr })
    .setProtectedHeader({ alg: JWT_ALG, kid: keys.kid, typ: 'at+jwt' })
    .setSubject(String(userId))
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + settings.accessTtl)
    .setJti(crypto.randomUUID())
    .sign(keys.privateKey)
}

export async function verifyAccessToken(
  env: Env,
  settings: Settings,
  token: string,
): Promise<AccessClaims> {
  const keys = await signingKeys(env)
  try {
    const { payload } = await jwtVerify(token, keys.verifyKey, {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: [JWT_ALG],
      typ: 'at+jwt',
    })
    const userId = Number(payload.sub)
    if (!Number.isSafeInteger(userId) || userId <= 0) throw new UnauthorizedError('invalid_token')
    const amr = Array.isArray(payload.amr) ? payload.amr.map(String) : []
    return { userId, amr, exp: payload.exp ?? 0 }
  } catch (err) {
    if (err instanceof UnauthorizedError) throw err
    if (err instanceof joseErrors.JWTExpired) {
      throw new UnauthorizedError('token_expired', 'The access token has expired: refresh it')
    }
    throw new UnauthorizedError('invalid_token', 'The access token is not valid')
  }
}

export function newRefreshToken(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)))
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}
