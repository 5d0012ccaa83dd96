// Access tokens: short-lived ES256 JWTs (sub = user id, amr = how the user authenticated).
// Refresh tokens: 32 random bytes, base64url; only their SHA-256 is stored.
//
// Verification pins the algorithm (so `alg: none` and an HS256 token "signed" with our public
// key are refused before any key is used), resolves `kid` only in our fixed key set, checks
// iss/aud/typ, and requires exp (jose checks exp only when present unless requiredClaims names
// it). Every failure is a 401 `unauthorized` whose `reason` names the check.
import { SignJWT, base64url, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose'
import type { Env, Settings } from '../env.ts'
import { UnauthorizedError } from '../errors.ts'
import { JWT_ALG, signingKeys } from './keys.ts'

export interface AccessClaims {
  userId: number
  /** authentication methods: ['pwd'] or ['pwd', 'otp'] */
  amr: string[]
  exp: number
}

export const ACCESS_TOKEN_TYP = 'at+jwt'
const REQUIRED_CLAIMS = ['sub', 'iss', 'aud', 'exp', 'iat', 'jti']

export async function issueAccessToken(
  env: Env,
  settings: Settings,
  userId: number,
  amr: string[],
): Promise<string> {
  const keys = await signingKeys(env)
  return new SignJWT({ amr })
    .setProtectedHeader({ alg: JWT_ALG, kid: keys.kid, typ: ACCESS_TOKEN_TYP })
    .setSubject(String(userId))
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + settings.accessTtl)
    .setJti(crypto.randomUUID())
    .sign(keys.privateKey)
}

const MESSAGES: Record<string, string> = {
  token_malformed: 'The access token is not a well-formed JWT',
  alg_not_allowed: `Access tokens are signed with ${JWT_ALG} only`,
  unknown_kid: 'The access token names no key of ours (kid)',
  bad_signature: 'The access token signature does not verify',
  token_expired: 'The access token has expired: refresh it',
  token_not_yet_valid: 'The access token is not valid yet (nbf)',
  wrong_issuer: 'The access token was issued by someone else (iss)',
  wrong_audience: 'The access token is not meant for this API (aud)',
  wrong_type: 'Not an access token (typ)',
  missing_claim: 'The access token lacks a required claim',
  invalid_claims: 'The access token claims are not valid',
}

function reject(reason: string, detail?: string): never {
  throw new UnauthorizedError(reason, detail ?? MESSAGES[reason] ?? 'The access token is not valid')
}

function reasonFor(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token_expired'
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return 'missing_claim'
    if (err.claim === 'nbf') return 'token_not_yet_valid'
    if (err.claim === 'iss') return 'wrong_issuer'
    if (err.claim === 'aud') return 'wrong_audience'
    if (err.claim === 'typ') return 'wrong_type'
    return 'invalid_claims'
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_not_allowed'
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'unknown_kid'
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature'
  return 'token_malformed'
}

/**
 * Access tokens this isolate has verified, per key set, until they expire. A client sends the
 * same token with every request, and verifying ES256 is the largest single cost of a request
 * (BENCHMARKS.md); the same bytes verify the same way under the same keys and settings. Rotating
 * keys is a new key set: nothing verified under the old one is reused.
 */
const verified = new WeakMap<object, Map<string, AccessClaims>>()
const VERIFIED_MAX = 10_000

export async function verifyAccessToken(
  env: Env,
  settings: Settings,
  token: string,
): Promise<AccessClaims> {
  const keys = await signingKeys(env)
  let seen = verified.get(keys)
  if (!seen) verified.set(keys, (seen = new Map()))
  const key = `${settings.issuer}\n${settings.audience}\n${token}`
  const hit = seen.get(key)
  if (hit && hit.exp > Date.now() / 1000) return hit
  if (hit) seen.delete(key)
  const claims = await verifyUncached(keys, settings, token)
  if (seen.size >= VERIFIED_MAX) seen.delete(seen.keys().next().value!)
  seen.set(key, claims)
  return claims
}

async function verifyUncached(
  keys: Awaited<ReturnType<typeof signingKeys>>,
  settings: Settings,
  token: string,
): Promise<AccessClaims> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(token)
  } catch {
    reject('token_malformed')
  }
  if (header.alg !== JWT_ALG) reject('alg_not_allowed')
  if (typeof header.kid !== 'string') reject('unknown_kid', 'The access token has no kid')
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
  try {
    ;({ payload } = await jwtVerify(token, keys.verifyKey, {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: [JWT_ALG],
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: REQUIRED_CLAIMS,
    }))
  } catch (err) {
    const reason = reasonFor(err)
    if (reason === 'missing_claim' && err instanceof joseErrors.JWTClaimValidationFailed) {
      reject(reason, `The access token has no "${err.claim}" claim`)
    }
    reject(reason)
  }
  const userId = Number(payload.sub)
  if (!Number.isSafeInteger(userId) || userId <= 0) reject('invalid_claims', 'Bad subject (sub)')
  const amr = Array.isArray(payload.amr) ? payload.amr.map(String) : []
  return { userId, amr, exp: payload.exp as number }
}

export function newRefreshToken(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)))
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}
