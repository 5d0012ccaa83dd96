// The user's side: balances, positions, orders and fills over REST, kept current by the account
// stream (GET /v1/stream). A stream event says something changed; the balances it carries apply
// at once, and the lists are read again (one read for a burst of events), so what the terminal
// shows is always what the API has.
import { streamProtocols } from '../client/index.ts'
import type { StreamMessage } from '../client/index.ts'
import { api, authed, freshToken } from './session.ts'
import { changed, state } from './state.ts'

let socket: WebSocket | undefined
let seq: number | undefined
let pinger: ReturnType<typeof setInterval> | undefined
let retry: ReturnType<typeof setTimeout> | undefined
let reload: ReturnType<typeof setTimeout> | undefined

export async function loadAccount() {
  const [account, { positions }, { orders }, { activities }] = await Promise.all([
    authed(api.account),
    authed(api.positions),
    authed(() => api.orders({ limit: 100 })),
    authed(() => api.fills(100)),
  ])
  Object.assign(state, { account, positions, orders, fills: activities })
  changed('account', 'orders', 'fills')
}

/** reads everything again shortly: the events of one fill come in a burst */
export function reloadSoon() {
  clearTimeout(reload)
  reload = setTimeout(() => loadAccount().catch(() => {}), 100)
}

export async function followAccount() {
  let token: string
  try {
    token = await freshToken()
  } catch {
    return
  }
  const ws = new WebSocket(api.streamUrl(seq), streamProtocols(token))
  socket = ws
  ws.onopen = () => {
    pinger = setInterval(() => ws.send('{"op":"ping"}'), 15_000)
  }
  ws.onmessage = (e) => receive(JSON.parse(String(e.data)) as StreamMessage)
  ws.onclose = () => {
    clearInterval(pinger)
    retry = setTimeout(followAccount, 1_000)
  }
}

export function stopAccount() {
  clearTimeout(retry)
  clearInterval(pinger)
  if (socket) {
    socket.onclose = null
    socket.close(1000)
  }
  socket = undefined
  seq = undefined
}

function receive(msg: StreamMessage) {
  if (msg.type === 'hello' || msg.type === 'reset') {
    // after a reset, what was missed is read over REST
    if (msg.type === 'reset' || seq !== msg.seq) reloadSoon()
    seq = msg.seq
    return
  }
  if (!('seq' in msg)) return
  seq = msg.seq
  if (msg.type === 'account' && state.account) {
    const { cash, reserved_cash, buying_power } = msg
    state.account = { ...state.account, cash, reserved_cash, buying_power }
    changed('account')
  }
  reloadSoon()
}
