// The symbols' metrics as Prometheus text (exposition format 0.0.4) and as a JSON summary with
// p50/p95/p99, pure. Latencies are kept in microseconds and shown in seconds.
import { Histogram } from './histogram.ts'
import type { HistogramData } from './histogram.ts'
import type { SymbolMetricsData } from './symbol-metrics.ts'

/** bucket bounds, microseconds: 10 µs to 5 s */
const BOUNDS_US = [
  10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
  1_000_000, 2_500_000, 5_000_000,
]

const seconds = (us: number) => String(us / 1_000_000)
const label = (value: string) =>
  value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))

function histogramLines(name: string, symbol: string, data: HistogramData): string[] {
  const h = new Histogram().merge(data)
  const s = `symbol="${label(symbol)}"`
  const counts = h.cumulative(BOUNDS_US)
  return [
    ...BOUNDS_US.map((b, i) => `${name}_bucket{${s},le="${seconds(b)}"} ${counts[i]}`),
    `${name}_bucket{${s},le="+Inf"} ${h.count}`,
    `${name}_sum{${s}} ${seconds(h.sum)}`,
    `${name}_count{${s}} ${h.count}`,
  ]
}

/** `reconciliation`: differences found by the latest position reconciliation, if any ran. */
export function prometheusText(symbols: SymbolMetricsData[], reconciliation?: number): string {
  const family = (name: string, type: string, help: string, lines: string[]) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...lines,
  ]
  const per = <T>(f: (m: SymbolMetricsData) => T[]) => symbols.flatMap(f)
  const s = (m: SymbolMetricsData) => `symbol="${label(m.symbol)}"`
  return [
    ...family('bourse_match_seconds', 'histogram', 'Time in the engine and journal per command.',
      per((m) => histogramLines('bourse_match_seconds', m.symbol, m.match_us))),
    ...family('bourse_order_ack_seconds', 'histogram', "Time from an order reaching its symbol's object to its ack.",
      per((m) => histogramLines('bourse_order_ack_seconds', m.symbol, m.ack_us))),
    ...family('bourse_market_data_lag_seconds', 'histogram', 'Time from a book event to its market-data message going out.',
      per((m) => histogramLines('bourse_market_data_lag_seconds', m.symbol, m.md_lag_us))),
    ...family('bourse_commands_total', 'counter', 'Commands run by the book, by kind.',
      per((m) => Object.entries(m.commands).map(([k, n]) => `bourse_commands_total{${s(m)},kind="${label(k)}"} ${n}`))),
    ...family('bourse_fills_total', 'counter', 'Fills made.', per((m) => [`bourse_fills_total{${s(m)}} ${m.fills}`])),
    ...family('bourse_filled_shares_total', 'counter', 'Shares filled.',
      per((m) => [`bourse_filled_shares_total{${s(m)}} ${m.filled_qty}`])),
    ...family('bourse_orders_refused_total', 'counter', 'Orders refused, by problem code (risk rejections among them).',
      per((m) => Object.entries(m.refused).map(([c, n]) => `bourse_orders_refused_total{${s(m)},code="${label(c)}"} ${n}`))),
    ...family('bourse_outbox_backlog', 'gauge', 'Fills and order events not yet in Postgres.',
      per((m) => [`bourse_outbox_backlog{${s(m)}} ${m.outbox_fills}`])),
    ...family('bourse_outbox_oldest_seconds', 'gauge', 'Age of the oldest fill not yet in Postgres.',
      per((m) => [`bourse_outbox_oldest_seconds{${s(m)}} ${m.outbox_age_ms / 1000}`])),
    ...family('bourse_venue_breaks', 'gauge', 'Venue reports kept unapplied because they do not fit their order.',
      per((m) => [`bourse_venue_breaks{${s(m)}} ${m.venue_breaks}`])),
    ...family('bourse_reconciliation_differences', 'gauge', 'Differences the latest position reconciliation found.',
      reconciliation === undefined ? [] : [`bourse_reconciliation_differences ${reconciliation}`]),
  ].join('\n') + '\n'
}

const percentiles = (data: HistogramData) => {
  const h = new Histogram().merge(data)
  const ms = (us: number) => us / 1000
  return { count: h.count, p50_ms: ms(h.quantile(0.5)), p95_ms: ms(h.quantile(0.95)), p99_ms: ms(h.quantile(0.99)), max_ms: ms(h.max) }
}

/** The JSON view: per symbol, percentiles instead of buckets. */
export function metricsSummary(symbols: SymbolMetricsData[], reconciliation?: number) {
  return {
    reconciliation_differences: reconciliation ?? null,
    symbols: symbols.map(({ match_us, ack_us, md_lag_us, ...rest }) => ({
      ...rest,
      match: percentiles(match_us),
      ack: percentiles(ack_us),
      market_data_lag: percentiles(md_lag_us),
      fill_rate: rest.commands.new ? rest.fills / rest.commands.new : 0,
    })),
  }
}
