// The pattern-day-trader rule (FINRA Rule 4210(f)(8)(B)) as pure functions. A day trade is a
// purchase and a sale of the same security on the same trading day, in either order. Only a
// position held overnight and sold (or, short, bought) *before any new purchase* that day is
// exempt, so within a day each sell pairs with the day's purchases not yet paired, and each buy
// with the day's sales not yet paired; an order that pairs any share is a day trade, counted once
// per day however many fills it has. Buy 1, buy 1, sell 2 is one; buy 1, sell 1, buy 1, sell 1
// is two; holding 10 overnight, sell 5 is none, but buy 5 then sell 5 is one, and sell 5 then
// buy 5 is one. A retail account with equity under $25,000 may make at most 3 day trades in 5
// trading days: the order that would make the 4th is refused (day_trade_limit).
//
// A fill still in the order's symbol's outbox counts too (the order desk reads the outbox before
// the account); one in another symbol's is counted once it reaches Postgres, milliseconds later.
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

/** A symbol's shares traded on its last date walked and not yet paired, by side. */
interface DayState {
  date: IsoDate
  unpaired: Record<'buy' | 'sell', number>
}

/** The day trades in `fills` (chronological per symbol, all of the window) and each symbol's state at the end. */
export function walkDayTrades(fills: PdtFill[]) {
  const states = new Map<string, DayState>()
  const dayTrades = new Set<string>()
  for (const f of fills) {
    let st = states.get(f.symbol)
    if (st?.date !== f.date) {
      st = { date: f.date, unpaired: { buy: 0, sell: 0 } }
      states.set(f.symbol, st)
    }
    const other = f.side === 'buy' ? 'sell' : 'buy'
    const paired = Math.min(f.qty, st.unpaired[other])
    st.unpaired[other] -= paired
    st.unpaired[f.side] += f.qty - paired
    if (paired > 0) dayTrades.add(`${f.date}:${f.orderId}`)
  }
  return { count: dayTrades.size, states }
}

export interface PdtCheck {
  /** the window's fills of the account, chronological per symbol */
  fills: PdtFill[]
  today: IsoDate
  symbol: string
  /** the new order's side */
  side: 'buy' | 'sell'
}

/**
 * Whether the new order would be a day trade (it would pair with a share traded the other way
 * today; conservatively, the account's other open orders do not pair first), and the day trades
 * already made in the window.
 */
export function dayTradeOutlook(c: PdtCheck): { wouldDayTrade: boolean; used: number } {
  const { count, states } = walkDayTrades(c.fills)
  const st = states.get(c.symbol)
  const other = c.side === 'buy' ? 'sell' : 'buy'
  return { wouldDayTrade: st?.date === c.today && st.unpaired[other] > 0, used: count }
}
