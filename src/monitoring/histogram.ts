// Latency histograms with bounded memory, HDR-style: values (integers, e.g. microseconds) fall in
// log-linear buckets, 32 per power of two, so any percentile is within ~3% of the true value and
// a histogram never holds more than a few hundred counts, however many values it saw. Each
// symbol's object keeps its own; a read merges them (bucket counts add up exactly).

/** values below this are counted exactly */
const LINEAR = 64
/** sub-buckets per power of two above it: the relative error is at most 1/SUB */
const SUB = 32
const SUB_BITS = 5

/** The bucket holding `v`, and back: the smallest value of bucket `i`. */
export function bucketOf(v: number): number {
  if (v < LINEAR) return v
  const exponent = Math.floor(Math.log2(v))
  const sub = Math.floor(v / 2 ** (exponent - SUB_BITS)) - SUB
  return LINEAR + (exponent - 6) * SUB + sub
}

export function bucketStart(i: number): number {
  if (i < LINEAR) return i
  const exponent = Math.floor((i - LINEAR) / SUB) + 6
  const sub = (i - LINEAR) % SUB
  return (SUB + sub) * 2 ** (exponent - SUB_BITS)
}

/** What crosses an RPC or goes into JSON: the non-empty buckets. */
export interface HistogramData {
  count: number
  sum: number
  max: number
  /** [bucket, count] pairs (plain arrays: what an RPC hands over) */
  buckets: number[][]
}

export class Histogram {
  private readonly counts = new Map<number, number>()
  count = 0
  sum = 0
  max = 0

  record(value: number): void {
    const v = Math.max(0, Math.round(value))
    const b = bucketOf(v)
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1)
    this.count++
    this.sum += v
    this.max = Math.max(this.max, v)
  }

  merge(data: HistogramData): this {
    for (const [b, n] of data.buckets) this.counts.set(b, (this.counts.get(b) ?? 0) + n)
    this.count += data.count
    this.sum += data.sum
    this.max = Math.max(this.max, data.max)
    return this
  }

  /** The value at quantile q (0..1): the start of the bucket holding it (the max for q = 1). */
  quantile(q: number): number {
    if (this.count === 0) return 0
    if (q >= 1) return this.max
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (const [b, n] of [...this.counts].sort(([a], [c]) => a - c)) {
      seen += n
      if (seen >= rank) return Math.min(bucketStart(b), this.max)
    }
    return this.max
  }

  /** Counts at or below each bound (cumulative, as Prometheus buckets are). */
  cumulative(bounds: number[]): number[] {
    const sorted = [...this.counts].sort(([a], [c]) => a - c)
    return bounds.map((bound) =>
      sorted.reduce((n, [b, c]) => (bucketStart(b) <= bound ? n + c : n), 0),
    )
  }

  data(): HistogramData {
    return { count: this.count, sum: this.sum, max: this.max, buckets: [...this.counts] }
  }
}
