// The terminal's state, one object, and who redraws when a part of it changes. The sockets and
// REST calls write it (market.ts, account.ts); the panels read it in their render functions.
import type { Account, Fill, Order, Position, SymbolInfo, WireTrade } from '../client/index.ts'

export interface Quote {
  bid: string | null
  bidSize: number
  ask: string | null
  askSize: number
}

export interface State {
  email: string
  symbols: SymbolInfo[]
  symbol: string
  /** price in cents → shares, each side as the depth channel has it */
  bids: Map<number, number>
  asks: Map<number, number>
  quote: Quote | null
  /** the symbol's trades since the terminal subscribed, oldest first */
  trades: WireTrade[]
  /** symbol → its last trade's price in cents, as the market socket saw it (marks positions) */
  marks: Map<string, number>
  market: 'connecting' | 'live' | 'down'
  /** the last problem a reload or a socket met (code — detail), '' once none */
  notice: string
  account: Account | null
  positions: Position[]
  orders: Order[]
  fills: Fill[]
}

export type Part = 'book' | 'trades' | 'market' | 'account' | 'orders' | 'fills' | 'symbol'

const initial = (): State => ({
  email: '',
  symbols: [],
  symbol: 'AAPL',
  bids: new Map(),
  asks: new Map(),
  quote: null,
  trades: [],
  marks: new Map(),
  market: 'connecting',
  notice: '',
  account: null,
  positions: [],
  orders: [],
  fills: [],
})

export const state: State = initial()

const listeners = new Map<Part, Set<() => void>>()
const due = new Set<Part>()
let scheduled = false

export function on(part: Part, render: () => void) {
  if (!listeners.has(part)) listeners.set(part, new Set())
  listeners.get(part)!.add(render)
}

/** after a logout: nothing of the last user's stays, and no panel of the old screen listens */
export function reset() {
  Object.assign(state, initial())
  listeners.clear()
  due.clear()
}

export function notify(problem: string) {
  state.notice = problem
  changed('market')
}

/** marks a part changed; its panels redraw once after this task, however many changes came */
export function changed(...parts: Part[]) {
  for (const p of parts) due.add(p)
  if (scheduled) return
  scheduled = true
  // (a timer, not requestAnimationFrame: a tab in the background still keeps its state current)
  setTimeout(() => {
    scheduled = false
    const parts = [...due]
    due.clear()
    const renders = new Set(parts.flatMap((p) => [...(listeners.get(p) ?? [])]))
    for (const render of renders) render()
  }, 0)
}

/** the statuses of an order that may still trade (and be amended or canceled) */
export const OPEN_STATUSES = ['pending', 'open', 'partial'] as const

export const openOrders = () =>
  state.orders.filter((o) => (OPEN_STATUSES as readonly string[]).includes(o.status))

export const symbolInfo = () => state.symbols.find((s) => s.symbol === state.symbol)

/** the last trade's price, or the symbol's reference price before any */
export function lastPrice(): string | undefined {
  return state.trades.at(-1)?.price ?? symbolInfo()?.reference_price
}
