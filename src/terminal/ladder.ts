// The order book ladder: asks above (best lowest, nearest the spread), bids below, each level's
// shares with a bar to scale, the user's own open shares at the price beside it. Clicking a
// level puts its price in the ticket.
import { formatCents, parseCents } from '../lib/money.ts'
import { h, qty } from './dom.ts'
import { on, openOrders, state } from './state.ts'

const LEVELS = 14

export function ladder(pickPrice: (p: string) => void) {
  const body = h('tbody')
  const spread = h('span.spread')
  const root = h(
    'section.panel.ladder',
    { 'aria-label': 'Order book' },
    h('header', {}, h('h2', {}, 'Book'), spread),
    h(
      'table.grid.book',
      {},
      h('thead', {}, h('tr', {}, ...['Mine', 'Bid', 'Price', 'Ask'].map((t) => h('th', {}, t)))),
      body,
    ),
  )
  body.addEventListener('click', (e) => {
    const row = (e.target as HTMLElement).closest('tr')
    if (row?.dataset.price) pickPrice(row.dataset.price)
  })

  function render() {
    const asks = [...state.asks].sort((a, b) => a[0] - b[0]).slice(0, LEVELS).reverse()
    const bids = [...state.bids].sort((a, b) => b[0] - a[0]).slice(0, LEVELS)
    const largest = Math.max(1, ...asks.map((l) => l[1]), ...bids.map((l) => l[1]))
    const mine = myShares()
    const row = (side: 'bid' | 'ask', [p, q]: [number, number]) => {
      const bar = `--depth:${((q / largest) * 100).toFixed(1)}%`
      const own = mine.get(p)
      return h(
        `tr.${side}`,
        { 'data-price': formatCents(p), 'data-side': side },
        h('td.mine', {}, own ? qty(own) : ''),
        h('td.qty.bid', { style: side === 'bid' ? bar : undefined }, side === 'bid' ? qty(q) : ''),
        h('td.price', {}, formatCents(p)),
        h('td.qty.ask', { style: side === 'ask' ? bar : undefined }, side === 'ask' ? qty(q) : ''),
      )
    }
    const gap = asks.length && bids.length ? asks[asks.length - 1][0] - bids[0][0] : null
    spread.textContent = gap === null ? '' : `spread ${formatCents(gap)}`
    const middle = h('tr.mid', {}, h('td', { colspan: 4 }, bids.length || asks.length ? '' : 'no orders'))
    body.replaceChildren(...asks.map((l) => row('ask', l)), middle, ...bids.map((l) => row('bid', l)))
  }

  on('book', render)
  on('orders', render)
  render()
  return root
}

/**
 * the user's open shares at each price (cents), from the open orders resting on the book: a
 * stop-limit rests only once triggered, and the API says so only by its first fill
 */
function myShares() {
  const at = new Map<number, number>()
  for (const o of openOrders()) {
    if (o.symbol !== state.symbol || o.price === null) continue
    if (o.type === 'stop_limit' && o.filled_qty === 0) continue
    const p = parseCents(o.price)
    at.set(p, (at.get(p) ?? 0) + o.qty - o.filled_qty)
  }
  return at
}
