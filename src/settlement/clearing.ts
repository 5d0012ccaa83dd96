// The day's clearing submission, pure: a trading day's fills netted per account and symbol into
// obligations (shares to receive or deliver, cash to pay or collect) due on the settlement date,
// and the file the clearinghouse gets. US equities settle T+1 since 2024-05-28 (SEC Rule 15c6-1
// as amended); T+2, the earlier cycle, is the setting SETTLEMENT_CYCLE_DAYS=2.
import { sha256Hex } from '../auth/tokens.ts'
import { formatCents } from '../lib/money.ts'
import { addDays, addTradingDays, isTradingDay, nyInstant } from './calendar.ts'
import type { IsoDate } from './calendar.ts'

/** The trading day a date's trades belong to: the date, or the next trading day after it. */
export const tradeDateOf = (date: IsoDate) => (isTradingDay(date) ? date : addTradingDays(date, 1))

/** Trade date + `cycleDays` trading days (holidays and weekends skipped). */
export const settlementDate = (tradeDate: IsoDate, cycleDays: number) =>
  addTradingDays(tradeDate, cycleDays)

/** The instants a trade date's fills fall between: after the previous trading day, to its end. */
export function tradeDateWindow(date: IsoDate) {
  const from = nyInstant(addDays(addTradingDays(date, -1), 1), 0)
  return { from, to: nyInstant(addDays(date, 1), 0) }
}

/** The earliest trade date not settled on `today`: its fills and all later ones are unsettled. */
export function firstUnsettledTradeDate(today: IsoDate, cycleDays: number): IsoDate {
  let date = tradeDateOf(today)
  for (;;) {
    const before = addTradingDays(date, -1)
    if (settlementDate(before, cycleDays) <= today) return date
    date = before
  }
}

export interface ClearedFill {
  userId: number
  symbol: string
  side: 'buy' | 'sell'
  qty: number
  priceCents: number
}

/** One account's net movement in one symbol: + receives, − delivers (shares) or pays (cash). */
export interface Obligation {
  userId: number
  symbol: string
  qty: number
  cashCents: number
}

/** The fills netted per account and symbol, ordered by account then symbol; flat ones dropped. */
export function netObligations(fills: ClearedFill[]): Obligation[] {
  const net = new Map<string, Obligation>()
  for (const f of fills) {
    const key = `${f.userId}\u0000${f.symbol}`
    const o = net.get(key) ?? { userId: f.userId, symbol: f.symbol, qty: 0, cashCents: 0 }
    const sign = f.side === 'buy' ? 1 : -1
    o.qty += sign * f.qty
    o.cashCents -= sign * f.qty * f.priceCents
    net.set(key, o)
  }
  return [...net.values()]
    .filter((o) => o.qty !== 0 || o.cashCents !== 0)
    .sort((a, b) => a.userId - b.userId || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))
}

export interface Submission {
  tradeDate: IsoDate
  settleDate: IsoDate
  rows: number
  /** sums over the rows: shares moved (absolute) and cash (signed; 0 when every trade is ours) */
  controlQty: number
  controlCents: number
  /** SHA-256 of the file's lines before the trailer */
  checksum: string
  csv: string
}

const HEADER = 'trade_date,settle_date,account,symbol,net_qty,net_amount'

/**
 * The submission file: a header, one line per obligation, and a trailer
 * `TRAILER,<rows>,<control qty>,<control amount>,<sha256 of the lines above it>`.
 */
export async function submission(
  tradeDate: IsoDate,
  settleDate: IsoDate,
  obligations: Obligation[],
): Promise<Submission> {
  const lines = [
    HEADER,
    ...obligations.map((o) =>
      [tradeDate, settleDate, o.userId, o.symbol, o.qty, formatCents(o.cashCents)].join(','),
    ),
  ]
  const controlQty = obligations.reduce((n, o) => n + Math.abs(o.qty), 0)
  const controlCents = obligations.reduce((n, o) => n + o.cashCents, 0)
  const body = `${lines.join('\n')}\n`
  const checksum = await sha256Hex(body)
  const trailer = ['TRAILER', obligations.length, controlQty, formatCents(controlCents), checksum]
  return {
    tradeDate,
    settleDate,
    rows: obligations.length,
    controlQty,
    controlCents,
    checksum,
    csv: `${body}${trailer.join(',')}\n`,
  }
}
