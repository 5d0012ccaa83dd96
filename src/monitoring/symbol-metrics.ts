// What each symbol's object counts and times for monitoring (GET /v1/admin/metrics): matching
// time per command, the object's time to place an order (risk, book, record: the ack path after
// the Worker), commands by kind, fills, refusals by code. Kept in memory: they start again when
// the object does (Prometheus counters do that too; its rate() handles the reset).
import type { Ack } from '../engine/journal.ts'
import { Histogram } from './histogram.ts'
import type { HistogramData } from './histogram.ts'

export interface SymbolMetricsData {
  symbol: string
  /** microseconds in the engine and journal per command */
  match_us: HistogramData
  /** microseconds from an order reaching the object to its ack (or refusal) */
  ack_us: HistogramData
  /** microseconds from a book event to its market-data message going out */
  md_lag_us: HistogramData
  commands: Record<string, number>
  fills: number
  filled_qty: number
  /** orders refused, by problem code (risk, validation, limits) */
  refused: Record<string, number>
  /** fills and order events not yet in Postgres, and how old the oldest fill is */
  outbox_fills: number
  outbox_age_ms: number
  /** venue reports kept because they did not fit their order (issue 7): a person must look */
  venue_breaks: number
}

export class SymbolMetrics {
  private readonly match = new Histogram()
  private readonly ack = new Histogram()
  private readonly commands: Record<string, number> = {}
  private readonly refused: Record<string, number> = {}
  private fills = 0
  private filledQty = 0

  command(kind: string, ack: Ack): void {
    if (ack.replayed) return
    this.commands[kind] = (this.commands[kind] ?? 0) + 1
    this.match.record((ack.engineMs ?? 0) * 1000)
    this.fills += ack.fills.length
    this.filledQty += ack.fills.reduce((n, f) => n + f.qty, 0)
  }

  placed(ms: number, refusedCode?: string): void {
    this.ack.record(ms * 1000)
    if (refusedCode) this.refused[refusedCode] = (this.refused[refusedCode] ?? 0) + 1
  }

  data(
    symbol: string,
    mdLag: HistogramData,
    outbox: { fills: number; oldestTs?: number },
    now: number,
    venueBreaks = 0,
  ): SymbolMetricsData {
    return {
      symbol,
      match_us: this.match.data(),
      ack_us: this.ack.data(),
      md_lag_us: mdLag,
      commands: { ...this.commands },
      fills: this.fills,
      filled_qty: this.filledQty,
      refused: { ...this.refused },
      outbox_fills: outbox.fills,
      outbox_age_ms: outbox.oldestTs === undefined ? 0 : Math.max(0, now - outbox.oldestTs),
      venue_breaks: venueBreaks,
    }
  }
}
