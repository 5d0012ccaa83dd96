import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import {
  FixFieldError,
  formatPrice,
  formatUtcTimestamp,
  parsePrice,
  parseSeqNum,
  parseShares,
  parseUtcTimestamp,
} from '../../../src/execution/fix/fields.ts'

describe('field values', () => {
  test('UTCTimestamp: written with milliseconds, read with or without', () => {
    const ms = Date.UTC(2026, 0, 5, 14, 30, 0, 7)
    expect(formatUtcTimestamp(ms)).toBe('20260105-14:30:00.007')
    expect(parseUtcTimestamp('20260105-14:30:00.007')).toBe(ms)
    expect(parseUtcTimestamp('20260105-14:30:00')).toBe(ms - 7)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), (t) => {
        expect(parseUtcTimestamp(formatUtcTimestamp(t))).toBe(t)
      }),
    )
  })

  test.each(['20260230-10:00:00', '20261301-10:00:00', '20260105-24:00:00', '20260105 14:30:00', '2026-01-05T14:30:00Z', '20260105-14:30:00.7', ''])(
    'UTCTimestamp refuses %p',
    (text) => {
      expect(parseUtcTimestamp(text)).toBeUndefined()
    },
  )

  test('MsgSeqNum: positive integers only', () => {
    expect(parseSeqNum('1')).toBe(1)
    expect(parseSeqNum('123456')).toBe(123456)
    for (const bad of ['0', '-1', '01', '1.0', ' 1', 'x', '', undefined]) expect(parseSeqNum(bad)).toBeUndefined()
  })

  test('prices: cents exactly, at most 2 decimals', () => {
    expect(formatPrice(15_025)).toBe('150.25')
    expect(parsePrice(44, '150.25')).toBe(15_025)
    expect(parsePrice(44, '150.2')).toBe(15_020)
    expect(parsePrice(44, '150')).toBe(15_000)
    expect(parsePrice(44, '0.01')).toBe(1)
    expect(parsePrice(31, '150.2500')).toBe(15_025) // zeros past the cents: the same price
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), (cents) => {
        expect(parsePrice(44, formatPrice(cents))).toBe(cents)
      }),
    )
    for (const bad of ['150.255', '1e2', '-1', '.5', 'abc', '150,25', '0x10']) {
      expect(() => parsePrice(44, bad)).toThrow(FixFieldError)
    }
    try {
      parsePrice(31, '1.005')
    } catch (error) {
      expect(error).toMatchObject({ tag: 31, reason: 6 })
      expect((error as Error).message).toContain('at most 2 decimals')
    }
  })

  test('shares: whole numbers', () => {
    expect(parseShares(38, '100')).toBe(100)
    for (const bad of ['100.5', '1e3', '-1', '']) expect(() => parseShares(38, bad)).toThrow(FixFieldError)
  })
})
