// The blotter: open orders (amend the open quantity — PATCH, down only — or cancel — DELETE) and
// the account's fills, in two tabs. Refusals show as the API gives them.
import type { Order } from '../client/index.ts'
import { reloadSoon } from './account.ts'
import { h, problemText, qty, time } from './dom.ts'
import { money } from './valuation.ts'
import { api, authed } from './session.ts'
import { on, openOrders, state } from './state.ts'

type Tab = 'orders' | 'fills'

export function blotter() {
  let tab: Tab = 'orders'
  let amending: number | undefined
  /** what was typed into the amend box: the table redraws as events arrive */
  let draft: string | undefined
  const tabs = {
    orders: h('button.tab', { type: 'button', onclick: () => show('orders') }),
    fills: h('button.tab', { type: 'button', onclick: () => show('fills') }),
  }
  const message = h('output.result', { 'aria-live': 'polite' })
  const table = h('table.grid')
  const root = h(
    'section.panel.blotter',
    { 'aria-label': 'Orders and fills' },
    h('header', {}, h('nav.tabs', {}, tabs.orders, tabs.fills), message),
    h('div.scroll', {}, table),
  )

  function show(t: Tab) {
    tab = t
    render()
  }

  function render() {
    const open = openOrders()
    tabs.orders.textContent = `Open orders ${open.length}`
    tabs.fills.textContent = `Fills ${state.fills.length}`
    for (const [name, button] of Object.entries(tabs)) button.classList.toggle('active', name === tab)
    root.dataset.tab = tab
    // the amend box is a new element after each redraw: it keeps the focus only if it had it
    const typing = document.activeElement?.matches('input.amend') ?? false
    table.replaceChildren(...(tab === 'orders' ? ordersTable(open) : fillsTable()))
    if (typing) amendBox()?.focus()
  }

  const amendBox = () => table.querySelector<HTMLInputElement>('input.amend')

  function ordersTable(open: Order[]) {
    const head = row('th', 'Time', 'Id', 'Symbol', 'Side', 'Type', 'Qty', 'Filled', 'Price', 'Stop', 'Status', '')
    const rows = open.map((o) => {
      const openQty = o.qty - o.filled_qty
      const qtyCell = amending === o.id ? amendInput(o, openQty) : qty(openQty)
      return h(
        `tr.${o.side}`,
        { 'data-order': o.id },
        h('td.dim', {}, time(o.created_at)),
        h('td.dim', {}, String(o.id)),
        h('td', {}, o.symbol),
        h('td.side', {}, o.side),
        h('td', {}, o.type.replace('_', ' ')),
        h('td.qty', {}, qtyCell),
        h('td.qty', {}, qty(o.filled_qty)),
        h('td.price', {}, money(o.price ?? o.collar_price)),
        h('td.price.stop', {}, o.stop_price === null ? '' : money(o.stop_price)),
        h('td', {}, o.status),
        h(
          'td.actions',
          {},
          button('Amend', 'Reduce the open quantity', () => startAmend(o.id)),
          button('Cancel', 'Cancel the open quantity', () => cancel(o.id), '.danger'),
        ),
      )
    })
    const none = rows.length ? [] : [empty(11, 'no open orders')]
    return [h('thead', {}, head), h('tbody', {}, ...rows, ...none)]
  }

  function fillsTable() {
    const head = row('th', 'Time', 'Symbol', 'Side', 'Qty', 'Price', 'Amount', 'Liq', 'Order')
    const rows = state.fills.map((f) =>
      h(
        `tr.${f.side}`,
        { 'data-fill': f.id },
        h('td.dim', {}, time(f.time)),
        h('td', {}, f.symbol),
        h('td.side', {}, f.side),
        h('td.qty', {}, qty(f.qty)),
        h('td.price', {}, money(f.price)),
        h('td.price', {}, money(f.amount)),
        h('td.dim', {}, f.liquidity),
        h('td.dim', {}, String(f.order_id)),
      ),
    )
    const none = rows.length ? [] : [empty(8, 'no fills yet')]
    return [h('thead', {}, head), h('tbody', {}, ...rows, ...none)]
  }

  function amendInput(o: Order, openQty: number) {
    const input = h('input.amend', {
      inputmode: 'numeric',
      value: draft ?? String(openQty),
      'aria-label': `New open quantity of order ${o.id}`,
    })
    input.addEventListener('input', () => (draft = input.value))
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') amend(o.id, Number(input.value))
      if (e.key === 'Escape') stopAmend()
    })
    return input
  }

  function startAmend(id: number) {
    amending = id
    draft = undefined
    render()
    amendBox()?.focus()
    amendBox()?.select()
  }

  function stopAmend() {
    amending = undefined
    draft = undefined
    render()
  }

  async function amend(id: number, newQty: number) {
    await act(`amended #${id}`, () => authed(() => api.amendOrder(id, newQty)))
    stopAmend()
  }

  const cancel = (id: number) => act(`canceled #${id}`, () => authed(() => api.cancelOrder(id)))

  async function act(done: string, call: () => Promise<unknown>) {
    message.className = 'result'
    message.textContent = '…'
    try {
      await call()
      message.className = 'result ok'
      message.textContent = done
      reloadSoon()
    } catch (err) {
      message.className = 'result error'
      message.textContent = problemText(err)
    }
  }

  on('orders', render)
  on('fills', render)
  render()
  return { root, stopAmend }
}

const button = (label: string, title: string, onclick: () => void, cls = '') =>
  h(`button.small${cls}`, { type: 'button', title, onclick }, label)
const row = (cell: 'th' | 'td', ...labels: string[]) => h('tr', {}, ...labels.map((l) => h(cell, {}, l)))
const empty = (span: number, text: string) => h('tr', {}, h('td.empty', { colspan: span }, text))
