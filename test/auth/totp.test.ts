import { describe, expect, test } from 'bun:test'
import { base32Decode, base32Encode, totpAt, verifyTotp } from '../../src/auth/totp.ts'

// RFC 6238 Appendix B, SHA-1 seed "12345678901234567890", truncated to 6 digits.
const SEED = base32Encode(new TextEncoder().encode('12345678901234567890'))

describe('TOTP (RFC 6238)', () => {
  test('base32 round trip', () => {
    expect(SEED).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
    expect(new TextDecoder().decode(base32Decode(SEED))).toBe('12345678901234567890')
  })

  test.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('T=%d → %s', async (t, code) => {
    expect(await totpAt(SEED, Math.floor(t / 30))).toBe(code)
  })

  test('verify accepts ±1 step, refuses replays and other steps', async () => {
    const now = 1234567890_000
    const step = Math.floor(now / 30_000)
    expect(await verifyTotp(SEED, '005924', null, now)).toBe(step)
    expect(await verifyTotp(SEED, await totpAt(SEED, step - 1), null, now)).toBe(step - 1)
    expect(await verifyTotp(SEED, await totpAt(SEED, step + 1), null, now)).toBe(step + 1)
    expect(await verifyTotp(SEED, await totpAt(SEED, step - 2), null, now)).toBeUndefined()
    expect(await verifyTotp(SEED, '005924', step, now)).toBeUndefined()
    expect(await verifyTotp(SEED, '12345', null, now)).toBeUndefined()
  })
})
