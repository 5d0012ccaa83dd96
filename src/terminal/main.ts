// The web trading terminal: the login (password, then the one-time code when the account has
// two-factor), then one screen — book ladder, chart, trades, order ticket, account and
// positions, open orders and fills — for the symbol in the URL's hash.
//
// Keys: B / S buy / sell (focus the ticket), Enter submit, Esc clear or stop amending, / symbol.
import { ApiError } from '../client/index.ts'
import { followAccount, loadAccount, stopAccount } from './account.ts'
import { blotter } from './blotter.ts'
import { chart } from './chart.ts'
import { $, h, problemText, qty } from './dom.ts'
import { money } from './valuation.ts'
import { ladder } from './ladder.ts'
import { stop, watch } from './market.ts'
import { positions } from './positions.ts'
import { api, login, logout, session, whenEnded } from './session.ts'
import { changed, lastPrice, notify, on, reset, state } from './state.ts'
import { tape } from './tape.ts'
import { ticket } from './ticket.ts'
import { twoFactor } from './two-factor.ts'

const root = $('#root')

function loginView() {
  const input = (name: string, label: string, attrs: Record<string, string | boolean>) =>
    h('input', { name, 'aria-label': label, ...attrs })
  const email = input('email', 'Email', { type: 'email', autocomplete: 'username', required: true })
  const password = input('password', 'Password', {
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  })
  const otp = input('otp', 'One-time code', {
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    pattern: '[0-9]{6}',
  })
  const otpField = h('label', { hidden: true }, h('span', {}, 'Code from your authenticator'), otp)
  const error = h('output.result.error', { 'aria-live': 'polite' })
  const button = h('button.submit', { type: 'submit' }, 'Log in')
  const form = h(
    'form.login',
    {},
    h('h1', {}, 'BOURSE', h('span.dim', {}, ' terminal')),
    h('label', {}, h('span', {}, 'Email'), email),
    h('label', {}, h('span', {}, 'Password'), password),
    otpField,
    button,
    error,
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    error.textContent = ''
    button.disabled = true
    try {
      await login(email.value.trim(), password.value, otpField.hidden ? undefined : otp.value.trim())
      start()
    } catch (err) {
      if (err instanceof ApiError && err.code === 'otp_required') {
        otpField.hidden = false
        otp.focus()
      } else {
        error.textContent = problemText(err)
      }
    } finally {
      button.disabled = false
    }
  })
  root.replaceChildren(h('main.login-page', {}, form))
  email.focus()
}

async function start() {
  state.email = session()!.email
  const book = ladder((p) => order.setPrice(p))
  const order = ticket()
  const orders = blotter()
  const symbolPicker = h('select.symbol', { 'aria-label': 'Symbol', title: 'Symbol (/)' })
  const last = h('span.last')
  const quote = h('span.quote')
  const status = h('span.status')
  const header = h(
    'header.bar',
    {},
    h('strong.brand', {}, 'BOURSE'),
    symbolPicker,
    last,
    quote,
    status,
    h('span.user', {}, state.email),
    h('button.small', { type: 'button', onclick: () => end() }, 'Log out'),
  )
  // above the ticket: why orders are refused without two-factor, and turning it on
  order.root.insertBefore(twoFactor(end), order.root.children[1])
  root.replaceChildren(
    header,
    h('main.terminal', {}, book, chart(), order.root, positions(open), orders.root, tape()),
    h('footer.keys', {}, 'B buy · S sell · ⏎ submit · Esc clear · / symbol · click a level: its price'),
  )

  symbolPicker.addEventListener('change', () => {
    open(symbolPicker.value)
    // back to the page's keys: a focused select would take B and S as a search
    symbolPicker.blur()
  })
  on('symbol', () => (symbolPicker.value = state.symbol))
  on('trades', () => renderLast(last))
  on('symbol', () => renderLast(last))
  on('book', () => renderQuote(quote))
  on('market', () => {
    status.textContent = state.notice ? `${state.market} · ${state.notice}` : state.market
    status.title = state.notice
    status.className = `status ${state.market}${state.notice ? ' problem' : ''}`
  })

  document.onkeydown = (e) => {
    if (e.key === 'Escape') {
      order.clear()
      orders.stopAmend()
      ;(document.activeElement as HTMLElement | null)?.blur()
      return
    }
    const typing = (e.target as HTMLElement).closest('input, select, textarea')
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return
    const key = e.key.toLowerCase()
    if (key === 'b' || key === 's') {
      e.preventDefault()
      order.focus(key === 'b' ? 'buy' : 'sell')
    } else if (key === '/') {
      e.preventDefault()
      symbolPicker.focus()
    }
  }

  try {
    const { symbols } = await api.symbols()
    state.symbols = symbols.filter((s) => s.status !== 'delisted')
    symbolPicker.replaceChildren(...state.symbols.map((s) => h('option', { value: s.symbol }, s.symbol)))
    const wanted = decodeURIComponent(location.hash.slice(1)).toUpperCase()
    open(state.symbols.some((s) => s.symbol === wanted) ? wanted : (state.symbols[0]?.symbol ?? 'AAPL'))
    await loadAccount()
    followAccount()
  } catch (err) {
    // a session the API no longer takes (its refresh token expired or revoked): log in again
    if (err instanceof ApiError && err.status === 401) return end()
    notify(problemText(err))
  }
}

function open(symbol: string) {
  if (location.hash !== `#${symbol}`) history.replaceState(null, '', `#${symbol}`)
  watch(symbol)
  changed('symbol')
}

function renderLast(el: HTMLElement) {
  const t = state.trades.at(-1)
  el.textContent = `${state.symbol} ${money(lastPrice())}`
  el.className = `last ${t ? t.side : ''}`
}

/** best bid and offer with their sizes, as the quotes channel last said */
function renderQuote(el: HTMLElement) {
  const q = state.quote
  const side = (cls: string, p: string | null, size: number) =>
    h(`b.${cls}`, {}, p === null ? '—' : `${money(p)} × ${qty(size)}`)
  el.replaceChildren(...(q ? [side('bid', q.bid, q.bidSize), ' / ', side('ask', q.ask, q.askSize)] : []))
}

function end() {
  stop()
  stopAccount()
  logout()
  reset()
  document.onkeydown = null
  loginView()
}

whenEnded(end)
if (session()) start()
else loginView()
