// Password hashing with PBKDF2-HMAC-SHA256 from WebCrypto (the only KDF the Workers runtime
// provides natively). Stored as "pbkdf2-sha256$<iterations>$<salt>$<hash>" (base64url), so the
// iteration count can change (PBKDF2_ITERATIONS) without invalidating existing hashes; a login
// re-hashes a password whose stored count differs from the current setting.
import { base64url } from 'jose'

const PREFIX = 'pbkdf2-sha256'
const SALT_BYTES = 16
const HASH_BITS = 256

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password),
    'PBKDF2',
    false,
    ['deriveBits'],
  )
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    HASH_BITS,
  )
  return new Uint8Array(bits)
}

export async function hashPassword(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES))
  const hash = await derive(password, salt, iterations)
  return `${PREFIX}$${iterations}$${base64url.encode(salt)}$${base64url.encode(hash)}`
}

export function hashIterations(stored: string): number | undefined {
  const [prefix, iter] = stored.split('$')
  return prefix === PREFIX ? Number(iter) : undefined
}

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 4 || parts[0] !== PREFIX) return false
  const iterations = Number(parts[1])
  if (!Number.isInteger(iterations) || iterations < 1) return false
  const expected = base64url.decode(parts[3])
  const actual = await derive(password, new Uint8Array(base64url.decode(parts[2])), iterations)
  return timingSafeEqual(actual, expected)
}
