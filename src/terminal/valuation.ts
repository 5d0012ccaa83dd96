// Amounts shown, and positions valued, in integer cents at the latest price the terminal knows: the last trade on the
// market socket for the symbol it watches (anyone's trade moves it), else the API's last price.
// The same sums as the API's (market value qty × mark, P&L value − cost, equity cash + value).
import type { Account, Position } from '../client/index.ts'
import { formatCents, parseCents, parseSignedCents } from '../lib/money.ts'

export interface Valued {
  symbol: string
  qty: number
  avgCost: string | null
  markCents: number
  valueCents: number
  pnlCents: number
}

/** each held position marked (marks: symbol → last trade's cents), and the totals */
export function value(positions: Position[], marks: ReadonlyMap<string, number>, account: Account | null) {
  const rows: Valued[] = positions
    .filter((p) => p.qty !== 0)
    .map((p) => {
      const markCents = marks.get(p.symbol) ?? parseCents(p.last_price)
      const valueCents = p.qty * markCents
      return {
        symbol: p.symbol,
        qty: p.qty,
        avgCost: p.avg_cost,
        markCents,
        valueCents,
        pnlCents: valueCents - parseSignedCents(p.cost_basis),
      }
    })
  const marketValueCents = rows.reduce((sum, r) => sum + r.valueCents, 0)
  return {
    rows,
    marketValueCents,
    pnlCents: rows.reduce((sum, r) => sum + r.pnlCents, 0),
    equityCents: account ? parseSignedCents(account.cash) + marketValueCents : null,
  }
}

/** an amount (decimal string or cents) with its thousands grouped: "1234.5" → "1,234.50" */
export function money(amount: string | number | null | undefined): string {
  if (amount === null || amount === undefined) return '—'
  const [whole, fraction] = formatCents(typeof amount === 'number' ? amount : parseSignedCents(amount)).split('.')
  return `${whole.replace(/\B(?=(\d{3})+$)/g, ',')}.${fraction}`
}
