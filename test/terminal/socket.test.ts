// The terminal's kept-open WebSocket (src/terminal/socket.ts), against a real Bun WebSocket
// server: a token fetch that fails is tried again (it used to end the reconnecting for good), a
// refresh token the API no longer takes ends the session, a dropped socket comes back, and the
// market data's read checks are answered without reaching the terminal.
import { afterAll, expect, test } from 'bun:test'
import { ApiError } from '../../src/client/index.ts'
import { keepOpen, retryDelay, refreshRefused } from '../../src/terminal/socket.ts'
import type { SocketStatus } from '../../src/terminal/socket.ts'

const server = Bun.serve<string | undefined>({
  port: 0,
  fetch(req, srv) {
    const protocols = req.headers.get('sec-websocket-protocol') ?? ''
    const token = protocols.split(',').map((p) => p.trim()).find((p) => p.startsWith('bearer.'))
    if (srv.upgrade(req, { data: token, headers: { 'sec-websocket-protocol': 'bourse.v1' } })) return
    return new Response('no', { status: 400 })
  },
  websocket: {
    open(ws) {
      ws.send(JSON.stringify({ hello: ws.data }))
    },
    message(ws, msg) {
      if (msg === 'drop') ws.close(1011)
      if (msg === 'check') ws.send(JSON.stringify({ type: 'read_check', token: 'c0ffee' }))
      if (String(msg).startsWith('{"op":"ack"')) ws.send(`answered ${msg}`)
    },
  },
})
afterAll(() => server.stop(true))

const url = () => `ws://127.0.0.1:${server.port}/`
const problem = (code: string) =>
  new ApiError(401, { type: '', title: '', status: 401, code, detail: code, instance: '/' })

/** a kept socket whose messages and statuses are recorded, resolved at its `n`th message */
function watched(token: () => Promise<string>, n = 1) {
  const messages: string[] = []
  const statuses: SocketStatus[] = []
  let loggedOut = false
  let done!: () => void
  const arrived = new Promise<void>((r) => (done = r))
  const socket = keepOpen({
    url,
    token,
    opened: () => {},
    message: (data) => {
      messages.push(data)
      if (messages.length === n) done()
    },
    status: (s) => statuses.push(s),
    loggedOut: () => {
      loggedOut = true
      done()
    },
  })
  return { socket, messages, statuses, arrived, loggedOut: () => loggedOut }
}

test('a failed token fetch (a 503, the network) is tried again, and the socket opens', async () => {
  let calls = 0
  const w = watched(async () => {
    if (++calls === 1) throw new ApiError(503, { type: '', title: '', status: 503, code: 'unavailable', detail: '', instance: '/' })
    return 'good'
  })
  await w.arrived
  w.socket.close()
  expect(calls).toBe(2)
  expect(w.messages).toEqual([JSON.stringify({ hello: 'bearer.good' })])
  expect(w.statuses).toEqual(['connecting', 'down', 'connecting', 'live'])
  expect(w.loggedOut()).toBe(false)
})

test('a refresh token the API no longer takes ends the session, with no more tries', async () => {
  let calls = 0
  const w = watched(async () => {
    calls++
    throw problem('invalid_refresh_token')
  })
  await w.arrived
  expect(w.loggedOut()).toBe(true)
  expect(calls).toBe(1)
  expect(refreshRefused(problem('invalid_refresh_token'))).toBe(true)
  expect(refreshRefused(problem('token_expired'))).toBe(false)
})

test('a dropped socket reconnects with a fresh token', async () => {
  let n = 0
  const messages: string[] = []
  let done!: () => void
  const arrived = new Promise<void>((r) => (done = r))
  const socket = keepOpen({
    url,
    token: async () => `t${++n}`,
    opened: () => {},
    message: (data) => {
      messages.push(data)
      // the server drops the first connection
      if (messages.length === 1) socket.send('drop')
      else done()
    },
    loggedOut: () => {},
  })
  await arrived
  socket.close()
  expect(messages).toEqual([JSON.stringify({ hello: 'bearer.t1' }), JSON.stringify({ hello: 'bearer.t2' })])
})

test('the waits grow and stop growing at 30 s', () => {
  expect([0, 1, 2, 3].map(retryDelay)).toEqual([500, 1000, 2000, 4000])
  expect(retryDelay(20)).toBe(30_000)
})

test('a read check is answered with its token, and not handed on', async () => {
  const w = watched(async () => 'good', 2)
  while (w.messages.length === 0) await Bun.sleep(5)
  w.socket.send('check')
  await w.arrived
  w.socket.close()
  expect(w.messages).toEqual([
    JSON.stringify({ hello: 'bearer.good' }),
    `answered ${JSON.stringify({ op: 'ack', token: 'c0ffee' })}`,
  ])
})
