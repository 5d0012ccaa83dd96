// The bounded histogram: every value lands in the bucket that starts at or below it, within 1/32;
// percentiles are within that of the exact ones; merging adds up exactly.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { Histogram, bucketOf, bucketStart } from '../../src/monitoring/histogram.ts'

const exactQuantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]
}

describe('buckets', () => {
  test('exact below 64; above, a bucket starts at most 1/32 below the value', () => {
    for (let v = 0; v < 64; v++) expect(bucketStart(bucketOf(v))).toBe(v)
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 2 ** 40 }), (v) => {
        const start = bucketStart(bucketOf(v))
        expect(start).toBeLessThanOrEqual(v)
        expect((v - start) / v).toBeLessThan(1 / 32)
        expect(bucketStart(bucketOf(v) + 1)).toBeGreaterThan(v)
      }),
    )
  })
})

describe('Histogram', () => {
  test('quantiles within 1/32 of the exact ones; bounded memory', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 500 }),
        fc.constantFrom(0.5, 0.95, 0.99),
        (values, q) => {
          const h = new Histogram()
          for (const v of values) h.record(v)
          const exact = exactQuantile(values, q)
          const got = h.quantile(q)
          expect(got).toBeLessThanOrEqual(exact)
          expect(exact - got).toBeLessThanOrEqual(exact / 32)
          expect(h.quantile(1)).toBe(Math.max(...values))
        },
      ),
    )
    const h = new Histogram()
    for (let v = 0; v < 1_000_000; v += 7) h.record(v)
    expect(h.data().buckets.length).toBeLessThan(600)
  })

  test('merging two equals recording everything in one; the data crosses as plain JSON', () => {
    const [a, b, all] = [new Histogram(), new Histogram(), new Histogram()]
    for (let i = 0; i < 1000; i++) {
      const v = (i * 7919) % 50_000
      ;(i % 2 ? a : b).record(v)
      all.record(v)
    }
    const merged = new Histogram().merge(JSON.parse(JSON.stringify(a.data()))).merge(b.data())
    expect([merged.count, merged.sum, merged.max]).toEqual([all.count, all.sum, all.max])
    for (const q of [0.5, 0.9, 0.99]) expect(merged.quantile(q)).toBe(all.quantile(q))
    expect(merged.cumulative([100, 1000, 100_000])).toEqual(all.cumulative([100, 1000, 100_000]))
    expect(new Histogram().quantile(0.5)).toBe(0)
  })
})
