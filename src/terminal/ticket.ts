// The order ticket: side, type, quantity, prices, time in force → POST /v1/orders with an
// Idempotency-Key kept until the API answers (order-key.ts), so a resubmit places one order. The answer (or the API's refusal, code
// and detail as given) shows under it.
import type { OrderBody, PlacedOrder } from '../client/index.ts'
import { parseCents } from '../lib/money.ts'
import { h, problemText, qty } from './dom.ts'
import { orderKey } from './order-key.ts'
import { money } from './valuation.ts'
import { reloadSoon } from './account.ts'
import { api, authed } from './session.ts'
import { lastPrice, on, state, symbolInfo } from './state.ts'

type Side = OrderBody['side']
type OrderType = OrderBody['type']

export function ticket() {
  let side: Side = 'buy'
  const key = orderKey()
  const sideButtons = (['buy', 'sell'] as const).map((s) =>
    h(
      `button.side.${s}`,
      { type: 'button', 'data-side': s, onclick: () => setSide(s) },
      s === 'buy' ? 'Buy (B)' : 'Sell (S)',
    ),
  )
  const type = select('type', ['limit', 'market', 'stop', 'stop_limit'])
  const tif = select('time_in_force', ['day', 'gtc', 'ioc', 'fok'])
  const input = (name: string, label: string, inputmode: string) =>
    h('input', { name, inputmode, autocomplete: 'off', 'aria-label': label })
  const quantity = input('qty', 'Quantity', 'numeric')
  quantity.value = '100'
  const limit = input('price', 'Limit price', 'decimal')
  const stop = input('stop_price', 'Stop price', 'decimal')
  const postOnly = h('input', { type: 'checkbox', name: 'post_only' })
  const submit = h('button.submit', { type: 'submit' })
  const notional = h('span.dim')
  const result = h('output.result', { 'aria-live': 'polite' })
  const field = (label: string, control: Node, cls = '') =>
    h(`label${cls}`, {}, h('span', {}, label), control)
  const priceField = field('Price', limit, '.for-price')
  const stopField = field('Stop', stop, '.for-stop')
  const fields = [field('Type', type), field('Qty', quantity), priceField, stopField, field('TIF', tif)]
  const form = h(
    'form.ticket-form',
    { autocomplete: 'off' },
    h('div.sides', {}, ...sideButtons),
    h('div.fields', {}, ...fields),
    h('label.check', {}, postOnly, h('span', {}, 'Post only')),
    h('div.row', {}, submit, notional),
    result,
  )
  const title = h('header', {}, h('h2', {}, 'Order'))
  const root = h('section.panel.ticket', { 'aria-label': 'Order ticket' }, title, form)

  function setSide(s: Side) {
    if (s !== side) key.changed()
    side = s
    for (const b of sideButtons) b.classList.toggle('active', b.dataset.side === s)
    form.dataset.side = s
    refresh()
  }

  function refresh() {
    const t = type.value as OrderType
    priceField.hidden = !(t === 'limit' || t === 'stop_limit')
    stopField.hidden = !(t === 'stop' || t === 'stop_limit')
    submit.textContent = `${side === 'buy' ? 'Buy' : 'Sell'} ${state.symbol} ⏎`
    const at = centsOf(priceField.hidden ? lastPrice() : limit.value.trim())
    const shares = Number(quantity.value)
    const known = at !== undefined && Number.isSafeInteger(shares) && shares > 0
    notional.textContent = known ? `≈ ${money(at * shares)}` : ''
  }

  function body(): OrderBody {
    const t = type.value as OrderType
    return {
      symbol: state.symbol,
      side,
      type: t,
      // sent as typed: the API says what is wrong with it
      qty: Number(quantity.value),
      ...(!priceField.hidden && { price: limit.value.trim() }),
      ...(!stopField.hidden && { stop_price: stop.value.trim() }),
      time_in_force: tif.value as OrderBody['time_in_force'],
      ...(postOnly.checked && { post_only: true }),
    }
  }

  form.addEventListener('input', () => {
    key.changed()
    refresh()
  })
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    submit.disabled = true
    result.className = 'result'
    result.textContent = 'sending…'
    try {
      const order = await authed(() => api.placeOrder(body(), { idempotencyKey: key.current() }))
      key.settled()
      // accepted, but an order the book ended at once (IOC remainder, post-only) is no success
      const ended = order.status === 'canceled' || order.status === 'rejected'
      result.className = `result ${ended ? 'warn' : 'ok'}`
      result.textContent = describe(order)
      reloadSoon()
    } catch (err) {
      key.settled(err)
      result.className = 'result error'
      result.textContent = problemText(err)
    } finally {
      submit.disabled = false
    }
  })

  on('symbol', () => {
    key.changed()
    limit.value = symbolInfo()?.reference_price ?? ''
    refresh()
  })
  on('trades', refresh)
  setSide('buy')

  return {
    root,
    /** B / S: this side, the quantity selected to type over */
    focus(s: Side) {
      setSide(s)
      quantity.focus()
      quantity.select()
    },
    setPrice(p: string) {
      if (type.value === 'market' || type.value === 'stop') type.value = 'limit'
      key.changed()
      limit.value = p
      refresh()
      quantity.focus()
    },
    clear() {
      result.textContent = ''
      result.className = 'result'
    },
  }
}

/** a price as typed (or the last trade's) in cents; undefined while it is no amount */
function centsOf(text: string | undefined): number | undefined {
  try {
    return text === undefined ? undefined : parseCents(text)
  } catch {
    return undefined
  }
}

function select(name: string, options: string[]) {
  const choices = options.map((o) => h('option', { value: o }, o.replace('_', ' ')))
  return h('select', { name, 'aria-label': name }, ...choices)
}

function describe(o: PlacedOrder): string {
  const at = o.price ?? o.collar_price ?? ''
  const head = `#${o.id} ${o.side} ${qty(o.qty)} ${o.symbol} ${at}: ${o.status}`
  const filled = o.filled_qty ? `, filled ${qty(o.filled_qty)} @ ${o.avg_fill_price}` : ''
  return `${head}${filled}${o.reason ? ` (${o.reason})` : ''}`
}
