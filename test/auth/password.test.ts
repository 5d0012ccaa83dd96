import { describe, expect, test } from 'bun:test'
import { hashIterations, hashPassword, verifyPassword } from '../../src/auth/password.ts'
import { DEFAULT_PBKDF2_ITERATIONS, settingsFrom } from '../../src/env.ts'

describe('PBKDF2 password hashes', () => {
  test('production default is 100,000 iterations (the Workers maximum)', () => {
    expect(DEFAULT_PBKDF2_ITERATIONS).toBe(100_000)
    expect(settingsFrom({}).pbkdf2Iterations).toBe(100_000)
    expect(settingsFrom({ PBKDF2_ITERATIONS: '1000' }).pbkdf2Iterations).toBe(1000)
    expect(() => settingsFrom({ PBKDF2_ITERATIONS: '600000' })).toThrow(/PBKDF2_ITERATIONS/)
    expect(() => settingsFrom({ PBKDF2_ITERATIONS: 'lots' })).toThrow(/PBKDF2_ITERATIONS/)
  })

  test('hash then verify; wrong password fails; salts differ', async () => {
    const a = await hashPassword('hunter2hunter2', 1000)
    const b = await hashPassword('hunter2hunter2', 1000)
    expect(a).toMatch(/^pbkdf2-sha256\$1000\$[\w-]{22}\$[\w-]{43}$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('hunter2hunter2', a)).toBe(true)
    expect(await verifyPassword('hunter2hunter3', a)).toBe(false)
    expect(await verifyPassword('hunter2hunter2', 'garbage')).toBe(false)
    expect(hashIterations(a)).toBe(1000)
  })

  test('published vector: PBKDF2-HMAC-SHA256("password", "salt", c=1, 32 bytes)', async () => {
    // DK = 120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b; salt "salt" = c2FsdA
    const stored = 'pbkdf2-sha256$1$c2FsdA$Eg-2z_z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs'
    expect(await verifyPassword('password', stored)).toBe(true)
    expect(await verifyPassword('passwore', stored)).toBe(false)
  })

  test('a hash made with the production count verifies (and takes real work)', async () => {
    const t0 = performance.now()
    const h = await hashPassword('correct horse battery', DEFAULT_PBKDF2_ITERATIONS)
    const ms = performance.now() - t0
    expect(await verifyPassword('correct horse battery', h)).toBe(true)
    expect(ms).toBeGreaterThan(5)
  })
})
