// The pattern-day-trader rule (FINRA Rule 4210(f)(8)(B)) as pure functions. A day trade is a
// purchase and a sale of the same security on the same trading day, in either order: a sell order
// that sells shares bought that day, or a buy order that buys back shares held overnight and sold
// that day. Shares held overnight are sold first, so selling yesterday's shares is not by itself
// a day trade; each order counts once per day however many fills it has: buy 1, buy 1, sell 2 is
// one day trade; buy 1, sell 1, buy 1, sell 1 is two; holding 1 overnight, sell 1, buy 1 is one.
// A retail account with equity under $25,000 may make at most 3 day trades in 5 trading days:
// the order that would make the 4th is refused (day_trade_limit).
//
// Short sales are not counted: retail accounts, the only ones the rule applies to, cannot sell
// short. A fill still in the order's symbol's outbox counts too (the order desk reads the outbox
// before the account); one in another symbol's is counted once it reaches Postgres, milliseconds
// later. A transfer of shares in is counted as held overnight.
import type { IsoDate } from '../settlement/calendar.ts'

export const PDT_MIN_EQUITY_CENTS = 2_500_000
export const PDT_WINDOW_DAYS = 5
export const PDT_MAX_DAY_TRADES = 3

export interface PdtFill {
  orderId: number
  symbol: string
  side: 'buy' | 'sell'
  qty: number
  /** the fill's trading date (New York) */
  date: IsoDate
}

/** Where a symbol stands on the last date walked. */
interface DayState {
  date: IsoDate
  /** shares held since before that date, not yet sold that day */
  overnight: number
  /** shares bought that date and not yet sold */
  boughtToday: number
  /** overnight shares sold that date and not yet bought back */
  soldOvernight: number
}

/**
 * The day trades in `fills` (chronological, all of the window) and each symbol's state at the
 * end. `heldNow` gives today's position, from which the holding before the window is derived.
 */
export function walkDayTrades(fills: PdtFill[], heldNow: (symbol: string) => number) {
  const net = new Map<string, number>()
  for (const f of fills) net.set(f.symbol, (net.get(f.symbol) ?? 0) + (f.side === 'buy' ? f.qty : -f.qty))
  const holding = new Map([...net].map(([s, n]) => [s, heldNow(s) - n]))
  const states = new Map<string, DayState>()
  const dayTrades = new Set<string>()
  for (const f of fills) {
    let st = states.get(f.symbol)
    if (st?.date !== f.date) {
      st = { date: f.date, overnight: holding.get(f.symbol)!, boughtToday: 0, soldOvernight: 0 }
      states.set(f.symbol, st)
    }
    if (f.side === 'buy') {
      const buyBack = Math.min(f.qty, st.soldOvernight)
      st.soldOvernight -= buyBack
      if (buyBack > 0) dayTrades.add(`${f.date}:${f.orderId}`)
      st.boughtToday += f.qty
      holding.set(f.symbol, holding.get(f.symbol)! + f.qty)
      continue
    }
    const fromOvernight = Math.min(f.qty, st.overnight)
    st.overnight -= fromOvernight
    st.soldOvernight += fromOvernight
    const fromToday = Math.min(f.qty - fromOvernight, st.boughtToday)
    st.boughtToday -= fromToday
    if (fromToday > 0) dayTrades.add(`${f.date}:${f.orderId}`)
    holding.set(f.symbol, holding.get(f.symbol)! - f.qty)
  }
  return { count: dayTrades.size, states }
}

export interface PdtCheck {
  /** the window's fills of the account, chronological */
  fills: PdtFill[]
  heldNow: (symbol: string) => number
  today: IsoDate
  symbol: string
  /** the new order's side and quantity */
  side: 'buy' | 'sell'
  qty: number
  /** shares of the symbol already held by the account's other open sell orders */
  reservedQty: number
}

/** Whether the new order would be a day trade, and the day trades already made in the window. */
export function dayTradeOutlook(c: PdtCheck): { wouldDayTrade: boolean; used: number } {
  const { count, states } = walkDayTrades(c.fills, c.heldNow)
  const st = states.get(c.symbol)
  const today = st?.date === c.today ? st : undefined
  if (today === undefined) return { wouldDayTrade: false, used: count }
  // conservatively, a buy buys back first, and the account's other open sells take the
  // overnight shares first
  const wouldDayTrade =
    c.side === 'buy'
      ? today.soldOvernight > 0
      : today.boughtToday > 0 && c.reservedQty + c.qty > today.overnight
  return { wouldDayTrade, used: count }
}
