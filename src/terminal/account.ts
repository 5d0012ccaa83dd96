// The user's side: balances, positions, orders and fills over REST, kept current by the account
// stream (GET /v1/stream). A stream event says something changed; the balances it carries apply
// at once, and the lists are read again (one read for a burst of events), so what the terminal
// shows is always what the API has.
import type { Order, StreamMessage } from '../client/index.ts'
import { problemLine, problemText } from './dom.ts'
import { api, authed, freshToken, sessionEnded } from './session.ts'
import { keepOpen, refreshRefused } from './socket.ts'
import { changed, notify, OPEN_STATUSES, state } from './state.ts'

let socket: ReturnType<typeof keepOpen> | undefined
let seq: number | undefined
let reload: ReturnType<typeof setTimeout> | undefined

export async function loadAccount() {
  const [account, { positions }, orders, { activities }] = await Promise.all([
    authed(api.account),
    authed(api.positions),
    openOrdersOf(),
    authed(() => api.fills(100)),
  ])
  Object.assign(state, { account, positions, orders, fills: activities })
  changed('account', 'orders', 'fills')
}

/** every open order, however old (a GTC order placed weeks ago is still cancelable), page by page */
async function openOrdersOf(): Promise<Order[]> {
  const lists = await Promise.all(
    OPEN_STATUSES.map(async (status) => {
      const all: Order[] = []
      let cursor: number | undefined
      do {
        const page = await authed(() => api.orders({ status, limit: 200, cursor }))
        all.push(...page.orders)
        cursor = page.next_cursor ?? undefined
      } while (cursor !== undefined)
      return all
    }),
  )
  return lists.flat().sort((a, b) => b.id - a.id)
}

/** reads everything again shortly: the events of one fill come in a burst; a failure shows */
export function reloadSoon() {
  clearTimeout(reload)
  reload = setTimeout(() => loadAccount().then(() => notify(''), reloadFailed), 100)
}

/** a session the API no longer takes logs out; anything else (a 429, a 5xx) shows */
function reloadFailed(err: unknown) {
  if (refreshRefused(err)) sessionEnded()
  else notify(problemText(err))
}

export function followAccount() {
  stopAccount()
  socket = keepOpen({
    url: () => api.streamUrl(seq),
    token: freshToken,
    opened: () => {},
    message: (data) => receive(JSON.parse(data) as StreamMessage),
    loggedOut: sessionEnded,
  })
}

export function stopAccount() {
  clearTimeout(reload)
  socket?.close()
  socket = undefined
  seq = undefined
}

function receive(msg: StreamMessage) {
  if (msg.type === 'error') return notify(problemLine(msg.code, msg.message))
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
