// The account: cash, what open orders hold, buying power and equity, and each position marked at
// its last trade with its unrealized P&L, revalued as trades arrive (valuation.ts). Clicking a
// position opens its symbol.
import { h, qty } from './dom.ts'
import { on, state } from './state.ts'
import { money, value } from './valuation.ts'

export function positions(open: (symbol: string) => void) {
  const cash = h('dl.cash')
  const body = h('tbody')
  const total = h('span.pnl')
  const root = h(
    'section.panel.positions',
    { 'aria-label': 'Account and positions' },
    h('header', {}, h('h2', {}, 'Account'), total),
    cash,
    h(
      'table.grid',
      {},
      h('thead', {}, h('tr', {}, ...['Symbol', 'Qty', 'Avg', 'Last', 'P&L'].map((t) => h('th', {}, t)))),
      body,
    ),
  )
  body.addEventListener('click', (e) => {
    const symbol = (e.target as HTMLElement).closest('tr')?.dataset.symbol
    if (symbol) open(symbol)
  })

  function render() {
    const a = state.account
    const valued = value(state.positions, state.marks, a)
    cash.replaceChildren(
      ...(
        [
          ['Cash', a?.cash],
          ['Reserved', a?.reserved_cash],
          ['Buying power', a?.buying_power],
          ['Market value', valued.marketValueCents],
          ['Equity', valued.equityCents],
        ] as const
      ).flatMap(([label, amount]) => [h('dt', {}, label), h('dd', { 'data-field': label }, money(amount))]),
    )
    body.replaceChildren(
      ...valued.rows.map((p) =>
        h(
          'tr',
          { 'data-symbol': p.symbol },
          h('td', {}, p.symbol),
          h('td.qty', {}, qty(p.qty)),
          h('td.price', {}, money(p.avgCost)),
          h('td.price', {}, money(p.markCents)),
          h(`td.price.${sign(p.pnlCents)}`, { 'data-field': 'pnl' }, money(p.pnlCents)),
        ),
      ),
      ...(valued.rows.length ? [] : [h('tr', {}, h('td.empty', { colspan: 5 }, 'no positions'))]),
    )
    total.className = `pnl ${sign(valued.pnlCents)}`
    total.textContent = valued.rows.length ? `P&L ${money(valued.pnlCents)}` : ''
  }

  // anyone's trade moves the mark of the symbol watched
  on('account', render)
  on('trades', render)
  render()
  return root
}

const sign = (cents: number) => (cents > 0 ? 'up' : cents < 0 ? 'down' : 'flat')
