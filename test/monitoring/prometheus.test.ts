// The metrics' two views: Prometheus text with cumulative buckets in seconds, escaped labels and
// one family per metric; JSON with percentiles in ms and the fill rate.
import { describe, expect, test } from 'bun:test'
import { Histogram } from '../../src/monitoring/histogram.ts'
import { metricsSummary, prometheusText } from '../../src/monitoring/prometheus.ts'
import type { SymbolMetricsData } from '../../src/monitoring/symbol-metrics.ts'

const histogram = (values: number[]) => {
  const h = new Histogram()
  for (const v of values) h.record(v)
  return h.data()
}

const aapl: SymbolMetricsData = {
  symbol: 'AAPL',
  match_us: histogram([5, 20, 40, 300]),
  ack_us: histogram([2_000, 3_000, 4_000, 90_000]),
  md_lag_us: histogram([50_000, 120_000]),
  commands: { new: 4, cancel: 1 },
  fills: 2,
  filled_qty: 150,
  refused: { insufficient_buying_power: 1 },
  outbox_fills: 3,
  outbox_age_ms: 1500,
  venue_breaks: 2,
}

describe('Prometheus text', () => {
  const text = prometheusText([aapl, { ...aapl, symbol: 'B"R\\K' }], 2)
  const lines = text.trimEnd().split('\n')

  test('histograms: cumulative buckets in seconds, +Inf, sum and count', () => {
    expect(lines).toContain('bourse_match_seconds_bucket{symbol="AAPL",le="0.00001"} 1')
    expect(lines).toContain('bourse_match_seconds_bucket{symbol="AAPL",le="0.00005"} 3')
    expect(lines).toContain('bourse_match_seconds_bucket{symbol="AAPL",le="+Inf"} 4')
    expect(lines).toContain('bourse_match_seconds_count{symbol="AAPL"} 4')
    expect(lines).toContain('bourse_order_ack_seconds_bucket{symbol="AAPL",le="0.005"} 3')
    expect(lines).toContain('bourse_order_ack_seconds_sum{symbol="AAPL"} 0.099')
  })

  test('counters and gauges; each family typed once; label values escaped', () => {
    expect(lines).toContain('bourse_commands_total{symbol="AAPL",kind="cancel"} 1')
    expect(lines).toContain('bourse_orders_refused_total{symbol="AAPL",code="insufficient_buying_power"} 1')
    expect(lines).toContain('bourse_outbox_oldest_seconds{symbol="AAPL"} 1.5')
    expect(lines).toContain('bourse_reconciliation_differences 2')
    expect(lines).toContain('bourse_venue_breaks{symbol="AAPL"} 2')
    expect(lines).toContain('bourse_market_data_lag_seconds_count{symbol="AAPL"} 2')
    expect(lines.filter((l) => l === '# TYPE bourse_fills_total counter')).toHaveLength(1)
    expect(lines).toContain('bourse_fills_total{symbol="B\\"R\\\\K"} 2')
    for (const l of lines) expect(l).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{.*\})? [0-9.e+-]+)$/)
  })
})

describe('JSON view', () => {
  test('percentiles in milliseconds, the fill rate per new order', () => {
    const [s] = metricsSummary([aapl]).symbols
    expect(s.ack).toMatchObject({ count: 4, max_ms: 90 })
    expect(s.ack.p50_ms).toBeCloseTo(3, 0)
    expect(s.match.p99_ms).toBeCloseTo(0.3, 1)
    expect(s.fill_rate).toBe(0.5)
    expect(s.market_data_lag.max_ms).toBe(120)
    expect(metricsSummary([aapl], 0).reconciliation_differences).toBe(0)
    expect(s).not.toHaveProperty('ack_us')
  })
})
