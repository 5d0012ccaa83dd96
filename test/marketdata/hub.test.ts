// The market-data hub's bookkeeping outside workerd: a host standing in for the Durable Object's
// state (its sockets, as the hibernation API hands them back) and the book's depth. The real
// sockets run under wrangler dev (test/e2e/market-data.test.ts); this pins down the order of
// what each socket receives when subscribers of a tier come and go.
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Depth } from '../../src/engine/types.ts'
import type { Nbbo } from '../../src/execution/nbbo.ts'
import { MarketDataHub } from '../../src/marketdata/hub.ts'

/** What the platform keeps of an accepted socket, and what it was sent. */
class Socket {
  attachment: unknown
  readonly sent: Record<string, any>[] = []
  closed: number | undefined
  constructor(attachment: unknown) {
    this.attachment = attachment
  }
  serializeAttachment(a: unknown) {
    this.attachment = structuredClone(a)
  }
  deserializeAttachment() {
    return this.attachment
  }
  send(text: string) {
    this.sent.push(JSON.parse(text))
  }
  close(code: number) {
    this.closed = code
  }
}

beforeAll(() => {
  // the platform's ping auto-responder, constructed by the hub
  ;(globalThis as any).WebSocketRequestResponsePair ??= class {
    constructor(readonly request: string, readonly response: string) {}
  }
})

function exchange(maxUnackedBytes?: number) {
  const sockets: Socket[] = []
  let book: Depth = { bids: [], asks: [] }
  let seq = 0
  let nbbo: Nbbo = { symbol: 'AAPL', bid: null, ask: null, crossed: false, ts: 0 }
  const ctx = {
    getWebSockets: () => sockets.filter((s) => s.closed === undefined),
    setWebSocketAutoResponse: () => {},
    getWebSocketAutoResponseTimestamp: () => null,
  }
  const hub = new MarketDataHub({
    ctx: ctx as unknown as DurableObjectState,
    symbol: () => 'AAPL',
    depth: () => ({ seq, ...book }),
    nbbo: () => nbbo,
  }, maxUnackedBytes)
  return {
    hub,
    sockets,
    /** a subscriber of `tier` accepted earlier, subscribing to `channel` now */
    join(tier: 'retail' | 'pro', channel: 'depth' | 'nbbo' = 'depth') {
      const ws = new Socket({ userId: sockets.length + 1, tier, channels: [] })
      sockets.push(ws)
      hub.message(ws as unknown as WebSocket, JSON.stringify({ op: 'subscribe', channels: [channel] }))
      return ws
    },
    leave(ws: Socket) {
      ws.closed = 1000
      hub.close(ws as unknown as WebSocket)
    },
    /** the venues' best offer moves to `ask` (cents) at NSIM */
    venueQuote(ask: number) {
      nbbo = { ...nbbo, ask: { price: ask, size: 100, venue: 'NSIM' }, ts: nbbo.ts + 1 }
      hub.publishNbbo(nbbo)
    },
    /** a command that leaves one bid at `price` with `qty` */
    command(price: number, qty: number) {
      seq++
      book = { bids: [[price, qty, 1]], asks: [] }
      hub.publish([], Date.now())
    },
  }
}

/** A client's depth: the last snapshot, then the updates after it, checked for holes. */
function depthOf(messages: Record<string, any>[]) {
  const at = messages.findLastIndex((m) => m.type === 'depth_snapshot')
  const bids = new Map<string, number>(messages[at].bids)
  let last = messages[at].seq
  for (const m of messages.slice(at + 1).filter((m) => m.type === 'depth_update' && m.seq > last)) {
    expect(m.first_seq).toBeLessThanOrEqual(last + 1)
    last = m.seq
    for (const [price, qty] of m.bids) qty === 0 ? bids.delete(price) : bids.set(price, qty)
  }
  return [...bids]
}

describe('MarketDataHub', () => {
  test('a tier whose subscribers came and went still sends updates without a hole', async () => {
    const ex = exchange()
    const pro = ex.join('pro')
    const retail = ex.join('retail')
    ex.command(10_000, 1) // retail's first update goes out, the next ones wait for its window
    ex.command(10_050, 1) // 100.00 gone, 100.50 in: waits in retail's window
    ex.leave(retail)
    ex.command(10_100, 1) // 100.50 gone, 101.00 in: only the pro subscriber is left
    const again = ex.join('retail') // a snapshot: 101.00 × 1
    ex.command(10_100, 2)
    await Bun.sleep(1_100) // retail's window: one update merging all it waited for
    // (had retail's window missed the update that took 100.50 away, it would bring it back)
    expect(depthOf(again.sent)).toEqual([['101.00', 2]])
    expect(depthOf(pro.sent)).toEqual([['101.00', 2]])
  })

  test('the venues\' NBBO goes to its subscribers only, a distinct source, conflated by tier', async () => {
    const ex = exchange()
    const depthOnly = ex.join('pro')
    ex.venueQuote(15_010)
    const retail = ex.join('retail', 'nbbo')
    expect(retail.sent.filter((m) => m.type === 'nbbo')).toEqual([
      { type: 'nbbo', symbol: 'AAPL', source: 'venues', bid: null, ask: { price: '150.10', size: 100, venue: 'NSIM' }, crossed: false, ts: 1 },
    ])
    ex.venueQuote(15_009) // retail's window is open: out at once
    ex.venueQuote(15_008) // waits, and is replaced by
    ex.venueQuote(15_007)
    await Bun.sleep(1_100)
    expect(retail.sent.filter((m) => m.type === 'nbbo').map((m) => m.ask.price)).toEqual(['150.10', '150.09', '150.07'])
    expect(depthOnly.sent.some((m) => m.type === 'nbbo')).toBe(false)
  })

  test('sockets back from hibernation get a snapshot before any update', () => {
    const ex = exchange()
    // subscribed before the object was evicted: the platform hands it to the new instance
    const ws = new Socket({ userId: 7, tier: 'pro', channels: ['depth'] })
    ex.sockets.push(ws)
    ex.command(10_100, 5)
    expect(ws.sent.map((m) => m.type)).toEqual(['depth_snapshot'])
    expect(ws.sent[0].bids).toEqual([['101.00', 5]])
  })

  describe('readers prove they read (read_check)', () => {
    const BUDGET = 1_000
    /** pro subscribers' depth, with a command every 100 ms of the pro window */
    async function flow(ex: ReturnType<typeof exchange>, commands: number, each?: () => void) {
      for (let i = 0; i < commands; i++) {
        ex.command(10_000 + (i % 50), 100 + i)
        each?.()
        await Bun.sleep(101)
      }
    }
    const checks = (ws: Socket) => ws.sent.filter((m) => m.type === 'read_check')
    const answered = new Set<string>()
    /** answers each check once, as a client reading its messages does */
    const answer = (ex: ReturnType<typeof exchange>, ws: Socket) => {
      for (const { token } of checks(ws).filter((c) => !answered.has(c.token))) {
        answered.add(token)
        ex.hub.message(ws as unknown as WebSocket, JSON.stringify({ op: 'ack', token }))
      }
    }

    test('a reader answering each check is never closed; one that only pings is, at the budget', async () => {
      const ex = exchange(BUDGET)
      const reader = ex.join('pro')
      const pinger = ex.join('pro')
      const bytes = (ws: Socket) => ws.sent.reduce((n, m) => n + JSON.stringify(m).length, 0)
      await flow(ex, 30, () => {
        answer(ex, reader)
        // a ping that reaches the object (not the platform's exact one) proves nothing either
        if (pinger.closed === undefined) ex.hub.message(pinger as unknown as WebSocket, '{ "op": "ping" }')
      })
      expect(bytes(reader)).toBeGreaterThan(3 * BUDGET)
      expect(checks(reader).length).toBeGreaterThan(4)
      expect(reader.closed).toBeUndefined()
      expect(pinger.closed).toBe(4008)
      expect(bytes(pinger)).toBeLessThanOrEqual(BUDGET)
    })

    test('a wrong or repeated token acknowledges nothing, nor counts as an answer', async () => {
      const ex = exchange(BUDGET)
      const guesser = ex.join('pro')
      const replayer = ex.join('pro')
      let first: string | undefined
      await flow(ex, 30, () => {
        if (guesser.closed === undefined) {
          ex.hub.message(guesser as unknown as WebSocket, JSON.stringify({ op: 'ack', token: '0123456789abcdef' }))
        }
        first ??= checks(replayer)[0]?.token
        if (first && replayer.closed === undefined) {
          ex.hub.message(replayer as unknown as WebSocket, JSON.stringify({ op: 'ack', token: first }))
        }
      })
      expect(guesser.closed).toBe(4008)
      expect(replayer.closed).toBe(4008)
    })
  })
})

