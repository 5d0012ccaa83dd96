// The symbol's market-data WebSocket (README, "Market data over WebSockets"): the quote, the
// trades and the depth, applied in order. A gap in the depth's sequence or a copy whose checksum
// is not the server's resubscribes; a dropped connection comes back with since=<last seq>; a ping
// every 15 s acknowledges what arrived (socket.ts); an error the server sends shows in the status bar.
import { wireChecksum } from '../client/index.ts'
import type { ServerMessage, WireLevel } from '../client/index.ts'
import { formatCents, parseCents } from '../lib/money.ts'
import { problemLine } from './dom.ts'
import { api, freshToken, sessionEnded } from './session.ts'
import { keepOpen } from './socket.ts'
import { changed, notify, state } from './state.ts'

const MAX_TRADES = 500
let socket: ReturnType<typeof keepOpen> | undefined
let seq: number | undefined

/** Follows `symbol` from now on (a new symbol starts from its snapshot). */
export function watch(symbol: string) {
  stop()
  state.symbol = symbol
  state.bids.clear()
  state.asks.clear()
  state.trades = []
  state.quote = null
  seq = undefined
  changed('symbol', 'book', 'trades')
  socket = keepOpen({
    url: () => api.marketDataUrl(symbol, seq),
    token: freshToken,
    opened: (ws) => ws.send(api.subscribe(['quotes', 'trades', 'depth'], seq)),
    message: (data) => receive(JSON.parse(data) as ServerMessage),
    status: setMarket,
    loggedOut: sessionEnded,
  })
}

export function stop() {
  socket?.close()
  socket = undefined
}

function receive(msg: ServerMessage) {
  switch (msg.type) {
    case 'depth_snapshot':
      state.bids.clear()
      state.asks.clear()
      apply(msg.bids, msg.asks)
      seq = msg.seq
      changed('book')
      return check(msg.checksum)
    case 'depth_update':
      // (none before the snapshot: a resubscription waits for its own)
      if (seq === undefined || msg.seq <= seq) return
      if (msg.first_seq > seq + 1) return resubscribe()
      apply(msg.bids, msg.asks)
      seq = msg.seq
      changed('book')
      return check(msg.checksum)
    case 'quote':
      state.quote = { bid: msg.bid, bidSize: msg.bid_size, ask: msg.ask, askSize: msg.ask_size }
      return changed('book')
    case 'trade':
      return addTrades([msg])
    case 'trades':
      return addTrades(msg.trades)
    case 'error':
      return notify(problemLine(msg.code, msg.message))
  }
}

/** levels are absolute quantities; 0 removes one */
function apply(bids: WireLevel[], asks: WireLevel[]) {
  for (const [side, levels] of [
    [state.bids, bids],
    [state.asks, asks],
  ] as const) {
    for (const [p, q] of levels) {
      if (q === 0) side.delete(parseCents(p))
      else side.set(parseCents(p), q)
    }
  }
}

function addTrades(trades: { price: string; qty: number; side: 'buy' | 'sell'; ts: number }[]) {
  state.trades.push(...trades.map(({ price, qty, side, ts }) => ({ price, qty, side, ts })))
  if (state.trades.length > MAX_TRADES) state.trades.splice(0, state.trades.length - MAX_TRADES)
  const last = trades.at(-1)
  if (last) state.marks.set(state.symbol, parseCents(last.price))
  changed('trades')
}

/** the copy's top levels summed as the server sums its own: a difference means start again */
function check(checksum: number) {
  const top = (side: Map<number, number>, best: 1 | -1) =>
    [...side]
      .sort((a, b) => best * (a[0] - b[0]))
      .map(([c, q]): WireLevel => [formatCents(c), q])
  if (wireChecksum(top(state.bids, -1), top(state.asks, 1)) !== checksum) resubscribe()
}

/** a missed update or a wrong copy: start again from a snapshot */
function resubscribe() {
  seq = undefined
  socket?.send(api.subscribe(['depth']))
}

function setMarket(status: typeof state.market) {
  state.market = status
  changed('market')
}
