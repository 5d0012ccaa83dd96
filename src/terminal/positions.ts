// The account: cash, what open orders hold, buying power and equity, and each position marked at
// its last trade with its unrealized P&L (the API's figures). Clicking a position opens its symbol.
import { h, money, qty } from './dom.ts'
import { on, state } from './state.ts'

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
    cash.replaceChildren(
      ...[
        ['Cash', a?.cash],
        ['Reserved', a?.reserved_cash],
        ['Buying power', a?.buying_power],
        ['Market value', state.positions.reduce((sum, p) => sum + Number(p.market_value), 0).toFixed(2)],
        ['Equity', a?.equity],
      ].flatMap(([label, value]) => [h('dt', {}, label!), h('dd', { 'data-field': label }, money(value))]),
    )
    const held = state.positions.filter((p) => p.qty !== 0)
    body.replaceChildren(
      ...held.map((p) =>
        h(
          'tr',
          { 'data-symbol': p.symbol },
          h('td', {}, p.symbol),
          h('td.qty', {}, qty(p.qty)),
          h('td.price', {}, money(p.avg_cost)),
          h('td.price', {}, money(p.last_price)),
          h(`td.price.${sign(p.unrealized_pnl)}`, {}, money(p.unrealized_pnl)),
        ),
      ),
      ...(held.length ? [] : [h('tr', {}, h('td.empty', { colspan: 5 }, 'no positions'))]),
    )
    const pnl = held.reduce((sum, p) => sum + Number(p.unrealized_pnl), 0)
    total.className = `pnl ${sign(pnl.toFixed(2))}`
    total.textContent = held.length ? `P&L ${money(pnl.toFixed(2))}` : ''
  }

  on('account', render)
  render()
  return root
}

const sign = (amount: string) => (Number(amount) > 0 ? 'up' : Number(amount) < 0 ? 'down' : 'flat')
