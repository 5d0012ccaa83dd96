// The trades tape: the symbol's latest trades, newest first, coloured by the aggressor's side.
import { h, qty, time } from './dom.ts'
import { money } from './valuation.ts'
import { on, state } from './state.ts'

const ROWS = 60

export function tape() {
  const body = h('tbody')
  const root = h(
    'section.panel.tape',
    { 'aria-label': 'Trades' },
    h('header', {}, h('h2', {}, 'Trades')),
    h(
      'table.grid',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Price'), h('th', {}, 'Qty'))),
      body,
    ),
  )

  function render() {
    const rows = state.trades.slice(-ROWS).reverse()
    body.replaceChildren(
      ...rows.map((t) =>
        h(
          `tr.${t.side}`,
          {},
          h('td.dim', {}, time(t.ts)),
          h('td.price', {}, money(t.price)),
          h('td.qty', {}, qty(t.qty)),
        ),
      ),
    )
    if (!rows.length) body.appendChild(h('tr', {}, h('td.empty', { colspan: 3 }, 'no trades yet')))
  }

  on('trades', render)
  render()
  return root
}
