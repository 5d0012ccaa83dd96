// Settlement reconciliation, pure: the clearinghouse's confirmation lines matched one by one
// against the obligations we submitted. A line that agrees settles its obligation; every other
// line is a discrepancy for an admin to review (never resolved by code).
import { formatCents } from '../lib/money.ts'
import type { IsoDate } from './calendar.ts'
import type { ClearingLine, Obligation } from './clearing.ts'

export type DiscrepancyKind =
  | 'missing'
  | 'extra'
  | 'qty_mismatch'
  | 'amount_mismatch'
  | 'settle_date_mismatch'

/** An obligation's terms as the review queue shows them, ours and theirs side by side. */
export interface Terms {
  qty: number
  amount: string
  settle_date: IsoDate
}

export interface Discrepancy {
  account: string
  symbol: string
  kind: DiscrepancyKind
  /** ours; null for an extra line */
  expected: Terms | null
  /** theirs; null for a missing line */
  confirmed: Terms | null
}

export interface Matching<O> {
  matched: O[]
  discrepancies: Discrepancy[]
}

const terms = (qty: number, cashCents: number, settleDate: IsoDate): Terms => ({
  qty,
  amount: formatCents(cashCents),
  settle_date: settleDate,
})

/** The first field in which the line differs from the obligation, if any. */
function difference(ours: Terms, theirs: Terms): DiscrepancyKind | undefined {
  if (ours.qty !== theirs.qty) return 'qty_mismatch'
  if (ours.amount !== theirs.amount) return 'amount_mismatch'
  if (ours.settle_date !== theirs.settle_date) return 'settle_date_mismatch'
}

/**
 * Matches confirmation lines to the submitted obligations by account and symbol (both one line
 * each: parseClearingFile refuses repeats). Discrepancies come in the submission's order, then
 * the extra lines in the file's order.
 */
export function matchConfirmations<O extends Obligation>(
  submitted: O[],
  settleDate: IsoDate,
  lines: ClearingLine[],
): Matching<O> {
  const theirs = new Map(lines.map((l) => [`${l.account},${l.symbol}`, l]))
  const matched: O[] = []
  const discrepancies: Discrepancy[] = []
  for (const o of submitted) {
    const key = `${o.userId},${o.symbol}`
    const line = theirs.get(key)
    theirs.delete(key)
    const expected = terms(o.qty, o.cashCents, settleDate)
    const confirmed = line ? terms(line.qty, line.cashCents, line.settleDate) : null
    const kind = confirmed ? difference(expected, confirmed) : 'missing'
    if (!kind) matched.push(o)
    else discrepancies.push({ account: String(o.userId), symbol: o.symbol, kind, expected, confirmed })
  }
  for (const line of theirs.values()) {
    discrepancies.push({
      account: line.account,
      symbol: line.symbol,
      kind: 'extra',
      expected: null,
      confirmed: terms(line.qty, line.cashCents, line.settleDate),
    })
  }
  return { matched, discrepancies }
}
