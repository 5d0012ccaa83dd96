// One WebSocket kept open for as long as it is wanted, the lifecycle the market-data and the
// account streams share: it connects with a fresh access token (in a subprotocol), pings every
// 15 s, answers the market data's read checks, and after a drop — or a failed token fetch — tries
// again with a growing wait. A refresh token the API no longer takes ends the session instead.
import { ApiError, readCheckAnswer, streamProtocols } from '../client/index.ts'

export type SocketStatus = 'connecting' | 'live' | 'down'

export interface SocketOptions {
  /** the URL to (re)connect to: it may resume from what already arrived */
  url: () => string
  token: () => Promise<string>
  opened: (ws: WebSocket) => void
  message: (data: string) => void
  status?: (status: SocketStatus) => void
  /** the session is gone (invalid_refresh_token): log in again */
  loggedOut: () => void
}

const PING_MS = 15_000

/** the wait before the next try: 0.5 s, doubling up to 30 s */
export const retryDelay = (failures: number) => Math.min(30_000, 500 * 2 ** failures)

/** whether a failed token fetch means the session is over (else it is worth trying again) */
export const refreshRefused = (err: unknown) =>
  err instanceof ApiError && err.code === 'invalid_refresh_token'

export function keepOpen(o: SocketOptions) {
  let ws: WebSocket | undefined
  let pinger: ReturnType<typeof setInterval> | undefined
  let retry: ReturnType<typeof setTimeout> | undefined
  let failures = 0
  let closed = false

  async function connect() {
    o.status?.('connecting')
    let token: string
    try {
      token = await o.token()
    } catch (err) {
      if (closed) return
      if (refreshRefused(err)) return o.loggedOut()
      return again()
    }
    if (closed) return
    const socket = new WebSocket(o.url(), streamProtocols(token))
    ws = socket
    socket.onopen = () => {
      failures = 0
      pinger = setInterval(() => socket.send('{"op":"ping"}'), PING_MS)
      o.status?.('live')
      o.opened(socket)
    }
    socket.onmessage = (e) => {
      const text = String(e.data)
      const answer = readCheckAnswer(text)
      if (answer) socket.send(answer)
      else o.message(text)
    }
    socket.onclose = () => {
      clearInterval(pinger)
      again()
    }
  }

  function again() {
    o.status?.('down')
    retry = setTimeout(connect, retryDelay(failures++))
  }

  connect()
  return {
    send(msg: string) {
      if (ws?.readyState === WebSocket.OPEN) ws.send(msg)
    },
    close() {
      closed = true
      clearTimeout(retry)
      clearInterval(pinger)
      if (ws) {
        ws.onclose = null
        ws.close(1000)
      }
    },
  }
}
