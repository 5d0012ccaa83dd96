// The trade report regulators get, pure: one record per execution (the fills table has a row per
// side; the service pairs them), the range of trade dates it covers, and its two formats.
import { AppError } from '../errors.ts'
import { csvLine } from '../lib/csv.ts'
import { formatCents } from '../lib/money.ts'
import { addTradingDays, isTradingDay } from '../settlement/calendar.ts'
import type { IsoDate } from '../settlement/calendar.ts'
import { tradeDateOf, tradeDateWindow } from '../settlement/clearing.ts'

/** The longest report one request may ask for, in calendar days. */
export const MAX_REPORT_DAYS = 366

export type Role = 'trader' | 'market_maker' | 'admin'

/** One side of an execution, ours; null is the street (an external venue's other side). */
export interface TradeSide {
  orderId: number
  accountId: number
  role: Role
}

/** One execution: both sides of a match in our book, or ours and the street's at a venue. */
export interface ExecutedTrade {
  executedAt: Date
  /** BOURSE (our book) or the external venue */
  venue: string
  symbol: string
  /** the symbol book's fill sequence: with the symbol, names the execution */
  seq: number
  qty: number
  priceCents: number
  buy: TradeSide | null
  sell: TradeSide | null
  /** the side that took liquidity */
  aggressor: 'buy' | 'sell'
  /** a routed order's fill at a venue: the NBBO when it was routed (best execution, issue 7) */
  route: RouteDecision | null
}

export interface RouteDecision {
  nbboBidCents: number | null
  nbboAskCents: number | null
  routedQty: number
}

export const TRADE_REPORT_COLUMNS = [
  'execution_time',
  'trade_id',
  'venue',
  'symbol',
  'qty',
  'price',
  'buy_order_id',
  'sell_order_id',
  'buyer_account_id',
  'seller_account_id',
  'aggressor_side',
  'buyer_capacity',
  'seller_capacity',
  'nbbo_bid',
  'nbbo_ask',
  'routed_qty',
  'price_improvement',
] as const

export type TradeReportRecord = Record<(typeof TRADE_REPORT_COLUMNS)[number], string | number | null>

/** A market maker trades for its own account (principal); anyone else's order is agency. */
export const capacityOf = (role: Role) => (role === 'market_maker' ? 'principal' : 'agency')

export function tradeReportRecord(t: ExecutedTrade): TradeReportRecord {
  return {
    execution_time: t.executedAt.toISOString(),
    trade_id: `${t.symbol}-${t.seq}`,
    venue: t.venue,
    symbol: t.symbol,
    qty: t.qty,
    price: formatCents(t.priceCents),
    buy_order_id: t.buy?.orderId ?? null,
    sell_order_id: t.sell?.orderId ?? null,
    buyer_account_id: t.buy?.accountId ?? null,
    seller_account_id: t.sell?.accountId ?? null,
    aggressor_side: t.aggressor,
    buyer_capacity: t.buy ? capacityOf(t.buy.role) : null,
    seller_capacity: t.sell ? capacityOf(t.sell.role) : null,
    nbbo_bid: t.route?.nbboBidCents != null ? formatCents(t.route.nbboBidCents) : null,
    nbbo_ask: t.route?.nbboAskCents != null ? formatCents(t.route.nbboAskCents) : null,
    routed_qty: t.route?.routedQty ?? null,
    price_improvement: priceImprovement(t),
  }
}

/**
 * Per share, against the NBBO side a routed order took when it was routed: positive is
 * improvement, negative slippage; null for an execution that was not routed.
 */
function priceImprovement(t: ExecutedTrade): string | null {
  const side = t.buy ? 'buy' : 'sell'
  const far = side === 'buy' ? t.route?.nbboAskCents : t.route?.nbboBidCents
  if (far == null) return null
  return formatCents(side === 'buy' ? far - t.priceCents : t.priceCents - far)
}

export interface ReportFormat {
  contentType: string
  extension: string
  header: string
  line(record: TradeReportRecord): string
}

export const REPORT_FORMATS = {
  csv: {
    contentType: 'text/csv; charset=utf-8',
    extension: 'csv',
    header: csvLine(TRADE_REPORT_COLUMNS),
    line: (r) => csvLine(TRADE_REPORT_COLUMNS.map((c) => r[c])),
  },
  jsonl: {
    contentType: 'application/x-ndjson',
    extension: 'jsonl',
    header: '',
    line: (r) => `${JSON.stringify(r)}\n`,
  },
} satisfies Record<string, ReportFormat>

export type ReportFormatName = keyof typeof REPORT_FORMATS

export const reportFilename = (from: IsoDate, to: IsoDate, format: ReportFormatName) =>
  `trades_${from}_${to}.${REPORT_FORMATS[format].extension}`

const DAY_MS = 86_400_000

/**
 * The instants the trade dates from..to (inclusive) cover, as the clearing submission counts them:
 * a fill made on a weekend or holiday belongs to the next trade date. 422 invalid_date_range when
 * `to` is before `from`, date_range_too_long beyond MAX_REPORT_DAYS.
 */
export function reportWindow(from: IsoDate, to: IsoDate): { from: Date; to: Date } {
  if (to < from) {
    throw new AppError(422, 'invalid_date_range', `to (${to}) is before from (${from})`, {
      from,
      to,
    })
  }
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1
  if (days > MAX_REPORT_DAYS) {
    throw new AppError(
      422,
      'date_range_too_long',
      `A report covers at most ${MAX_REPORT_DAYS} days; ${from}..${to} is ${days}`,
      { from, to, days, max_days: MAX_REPORT_DAYS },
    )
  }
  const first = tradeDateWindow(tradeDateOf(from)).from
  const last = tradeDateWindow(isTradingDay(to) ? to : addTradingDays(to, -1)).to
  // no trade date in the range (a weekend): an empty window
  return { from: first, to: last < first ? first : last }
}
