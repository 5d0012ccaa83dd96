// JWT signing keys. JWT_PRIVATE_KEY is an EC P-256 private JWK (JSON, with "kid"); its public
// half is served at /.well-known/jwks.json together with JWT_PUBLIC_KEYS (older keys still
// accepted while their tokens live). `bun scripts/gen-jwt-key.ts` prints a new key.
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK } from 'jose'
import type { JSONWebKeySet, JWK } from 'jose'
import { ServiceUnavailableError } from '../errors.ts'

export const JWT_ALG = 'ES256'

export interface SigningKeys {
  kid: string
  privateKey: CryptoKey
  jwks: JSONWebKeySet
  verifyKey: ReturnType<typeof createLocalJWKSet>
}

// CryptoKeys are plain values (no I/O), safe to keep per isolate; keyed by the secrets' text.
// Resolved values only: a pending promise shared between requests is unsafe in workerd.
const cache = new Map<string, SigningKeys>()

function publicPart(jwk: JWK): JWK {
  const { d: _d, ...pub } = jwk
  return { ...pub, alg: JWT_ALG, use: 'sig' }
}

async function load(privateJson: string, publicJson: string | undefined): Promise<SigningKeys> {
  let jwk: JWK
  try {
    jwk = JSON.parse(privateJson)
  } catch {
    throw new ServiceUnavailableError('JWT_PRIVATE_KEY is not valid JSON')
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || !jwk.kid) {
    throw new ServiceUnavailableError('JWT_PRIVATE_KEY must be an EC P-256 private JWK with a kid')
  }
  let privateKey: CryptoKey
  try {
    privateKey = (await importJWK({ ...jwk, alg: JWT_ALG }, JWT_ALG)) as CryptoKey
  } catch {
    throw new ServiceUnavailableError('JWT_PRIVATE_KEY is not a usable P-256 key')
  }
  let extra: JWK[] = []
  try {
    extra = publicJson ? (JSON.parse(publicJson).keys ?? []) : []
  } catch {
    throw new ServiceUnavailableError('JWT_PUBLIC_KEYS is not a JWKS (JSON)')
  }
  const jwks = {
    keys: [publicPart(jwk), ...extra.filter((k) => k.kid !== jwk.kid).map(publicPart)],
  }
  return { kid: jwk.kid, privateKey, jwks, verifyKey: createLocalJWKSet(jwks) }
}

export async function signingKeys(env: {
  JWT_PRIVATE_KEY?: string
  JWT_PUBLIC_KEYS?: string
}): Promise<SigningKeys> {
  const secret = env.JWT_PRIVATE_KEY
  if (!secret) throw new ServiceUnavailableError('JWT_PRIVATE_KEY is not configured')
  const cacheKey = `${secret}\n${env.JWT_PUBLIC_KEYS ?? ''}`
  let keys = cache.get(cacheKey)
  if (!keys) {
    keys = await load(secret, env.JWT_PUBLIC_KEYS)
    cache.set(cacheKey, keys)
  }
  return keys
}

/** A new private JWK as JSON, for `wrangler secret put JWT_PRIVATE_KEY`. */
export async function generateSigningKey(kid = `k${Date.now().toString(36)}`): Promise<string> {
  const { privateKey } = await generateKeyPair(JWT_ALG, { extractable: true })
  const jwk = await exportJWK(privateKey)
  return JSON.stringify({ ...jwk, kid, alg: JWT_ALG, use: 'sig' })
}
