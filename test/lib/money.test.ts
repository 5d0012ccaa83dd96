import { describe, expect, test } from 'bun:test'
import { formatCents, parseCents } from '../../src/lib/money.ts'

describe('money: decimal strings ↔ integer cents', () => {
  test.each([
    ['0', 0],
    ['0.5', 50],
    ['0.05', 5],
    ['12.3', 1230],
    ['12.34', 1234],
    ['1000000.00', 100_000_000],
    ['9999999999999.99', 999_999_999_999_999],
  ])('parse %s → %d', (text, cents) => {
    expect(parseCents(text)).toBe(cents)
    expect(Number.isSafeInteger(cents)).toBe(true)
  })

  test.each([
    '',
    '.5',
    '1.',
    '1.234',
    '-1',
    '+1',
    '01',
    '1e2',
    ' 1',
    '1,00',
    '0x10',
    'NaN',
    '99999999999999',
  ])('refuses %p', (text) => {
    expect(() => parseCents(text)).toThrow(RangeError)
  })

  test.each([
    [0, '0.00'],
    [5, '0.05'],
    [1230, '12.30'],
    [-5, '-0.05'],
    [-123456, '-1234.56'],
    [999_999_999_999_999, '9999999999999.99'],
  ])('format %d → %s', (cents, text) => {
    expect(formatCents(cents)).toBe(text)
  })

  test('format refuses non-integers', () => {
    expect(() => formatCents(1.5)).toThrow(RangeError)
  })

  test('round trip over a range of values', () => {
    for (let c = 0; c < 100_000; c += 7) expect(parseCents(formatCents(c))).toBe(c)
  })
})
