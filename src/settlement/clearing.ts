// The day's clearing submission, pure: a trading day's fills netted per account and symbol into
// obligations (shares to receive or deliver, cash to pay or collect) due on the settlement date,
// and the file the clearinghouse gets. US equities settle T+1 since 2024-05-28 (SEC Rule 15c6-1
// as amended); T+2, the earlier cycle, is the setting SETTLEMENT_CYCLE_DAYS=2.
import { sha256Hex } from '../auth/tokens.ts'
import { formatCents, parseCents } from '../lib/money.ts'
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
  /** gross sale proceeds: unsettled cash until the obligation settles */
  proceedsCents: number
}

/** Nothing to deliver or pay: a round trip at one price. Kept by us, left out of the file. */
export const isFlat = (o: Obligation) => o.qty === 0 && o.cashCents === 0

/** The fills netted per account and symbol, ordered by account then symbol. */
export function netObligations(fills: ClearedFill[]): Obligation[] {
  const net = new Map<string, Obligation>()
  for (const f of fills) {
    const key = `${f.userId}\u0000${f.symbol}`
    const o = net.get(key) ?? {
      userId: f.userId,
      symbol: f.symbol,
      qty: 0,
      cashCents: 0,
      proceedsCents: 0,
    }
    const sign = f.side === 'buy' ? 1 : -1
    o.qty += sign * f.qty
    o.cashCents -= sign * f.qty * f.priceCents
    if (f.side === 'sell') o.proceedsCents += f.qty * f.priceCents
    net.set(key, o)
  }
  return [...net.values()].sort((a, b) => a.userId - b.userId || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))
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
 * The submission file: a header, one line per obligation (flat ones left out), and a trailer
 * `TRAILER,<rows>,<control qty>,<control amount>,<sha256 of the lines above it>`.
 */
export async function submission(
  tradeDate: IsoDate,
  settleDate: IsoDate,
  netted: Obligation[],
): Promise<Submission> {
  const obligations = netted.filter((o) => !isFlat(o))
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

/** One line of a clearing file: an account's net obligation in a symbol. */
export interface ClearingLine {
  tradeDate: IsoDate
  settleDate: IsoDate
  /** as written: our user id, or whatever an extra line names */
  account: string
  symbol: string
  qty: number
  cashCents: number
}

/** A clearing file that cannot be read: the whole file is refused, nothing is applied. */
export class ClearingFileError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message)
  }
}

const AMOUNT = /^-?(0|[1-9]\d{0,12})\.\d{2}$/
const DATE = /^\d{4}-\d{2}-\d{2}$/
const INTEGER = /^-?(0|[1-9]\d{0,14})$/

/**
 * A clearing file (our submission's layout; the clearinghouse answers in it too), checked whole:
 * header, fields of every line, one line per account and symbol, and the trailer's row count,
 * control totals and SHA-256.
 */
export async function parseClearingFile(csv: string): Promise<ClearingLine[]> {
  const lines = csv.replace(/\r\n/g, '\n').trimEnd().split('\n')
  if (lines[0] !== HEADER) throw new ClearingFileError(`the first line must be ${HEADER}`, 1)
  const trailer = lines.pop()?.split(',') ?? []
  if (trailer[0] !== 'TRAILER' || trailer.length !== 5) {
    throw new ClearingFileError('the last line must be TRAILER,rows,qty,amount,sha256', lines.length + 1)
  }
  const rows = lines.slice(1).map((text, i) => clearingLine(text, i + 2))
  const seen = new Set<string>()
  for (const [i, r] of rows.entries()) {
    const key = `${r.account},${r.symbol}`
    if (seen.has(key)) throw new ClearingFileError(`a second line for ${key}`, i + 2)
    seen.add(key)
  }
  const totals = [
    rows.length,
    rows.reduce((n, r) => n + Math.abs(r.qty), 0),
    formatCents(rows.reduce((n, r) => n + r.cashCents, 0)),
  ].map(String)
  if (totals.some((t, i) => t !== trailer[i + 1])) {
    throw new ClearingFileError(`the trailer's totals are not the lines' (${totals.join(',')})`)
  }
  if ((await sha256Hex(`${lines.join('\n')}\n`)) !== trailer[4]) {
    throw new ClearingFileError("the trailer's SHA-256 is not the lines'")
  }
  return rows
}

function clearingLine(text: string, line: number): ClearingLine {
  const f = text.split(',')
  const valid =
    f.length === 6 &&
    DATE.test(f[0]) &&
    DATE.test(f[1]) &&
    /^[0-9A-Za-z._-]{1,32}$/.test(f[2]) &&
    /^[A-Z][A-Z0-9.]{0,9}$/.test(f[3]) &&
    INTEGER.test(f[4]) &&
    AMOUNT.test(f[5])
  if (!valid) throw new ClearingFileError(`cannot read line ${line}: ${text.slice(0, 80)}`, line)
  const cents = f[5].startsWith('-') ? -parseCents(f[5].slice(1)) : parseCents(f[5])
  return {
    tradeDate: f[0],
    settleDate: f[1],
    account: f[2],
    symbol: f[3],
    qty: Number(f[4]),
    cashCents: cents,
  }
}

