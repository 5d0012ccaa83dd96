// A simulated clearinghouse, for development and tests: it reads our clearing submission
// (src/settlement/clearing.ts: header, one line per net obligation, a trailer with the control
// totals and a SHA-256), checks it, and answers with a confirmation file in the same layout, one
// line per obligation it confirms. Mismatches can be injected, to exercise reconciliation: a
// line left out, a line of its own added, a quantity or an amount changed.
import { createHash } from 'node:crypto'
import { formatCents, parseCents } from '../../src/lib/money.ts'

export interface Mismatches {
  /** 1-based obligation lines to leave out */
  missing?: number[]
  /** lines to confirm with one share more */
  qty?: number[]
  /** lines to confirm with one cent more */
  amount?: number[]
  /** add a confirmation we never submitted (this account and symbol; the file's dates, or these) */
  extra?: { account: number; symbol: string; qty: number; amount: string; dates?: [string, string] }
}

const HEADER = 'trade_date,settle_date,account,symbol,net_qty,net_amount'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** The submission's obligation lines, after checking its header, trailer, totals and checksum. */
export function readSubmission(csv: string): string[][] {
  const lines = csv.trimEnd().split('\n')
  const trailer = lines.pop()?.split(',') ?? []
  if (lines[0] !== HEADER) throw new Error('not a clearing submission: unexpected header')
  if (trailer[0] !== 'TRAILER' || trailer.length !== 5) throw new Error('no trailer')
  if (sha256(`${lines.join('\n')}\n`) !== trailer[4]) throw new Error('checksum mismatch')
  const rows = lines.slice(1).map((l) => l.split(','))
  if (rows.length !== Number(trailer[1])) throw new Error('row count mismatch')
  return rows
}

/** The confirmation file for a submission, with the mismatches asked for. */
export function confirm(submission: string, mismatches: Mismatches = {}): string {
  const rows = readSubmission(submission)
    .map((row, i) => ({ row: [...row], line: i + 1 }))
    .filter(({ line }) => !mismatches.missing?.includes(line))
    .map(({ row, line }) => {
      if (mismatches.qty?.includes(line)) row[4] = String(Number(row[4]) + 1)
      if (mismatches.amount?.includes(line)) row[5] = formatCents(cents(row[5]) + 1)
      return row
    })
  const extra = mismatches.extra
  if (extra) {
    const [first] = readSubmission(submission)
    const dates = extra.dates ?? first?.slice(0, 2)
    if (!dates) throw new Error('an extra line for an empty submission needs its dates')
    rows.push([...dates, String(extra.account), extra.symbol, String(extra.qty), extra.amount])
  }
  const lines = [HEADER, ...rows.map((r) => r.join(','))]
  const qty = rows.reduce((n, r) => n + Math.abs(Number(r[4])), 0)
  const amount = rows.reduce((n, r) => n + cents(r[5]), 0)
  const body = `${lines.join('\n')}\n`
  return `${body}TRAILER,${rows.length},${qty},${formatCents(amount)},${sha256(body)}\n`
}

/** "-12.30" → -1230 (the file's amounts: signed decimal strings) */
const cents = (text: string) =>
  text.startsWith('-') ? -parseCents(text.slice(1)) : parseCents(text)
