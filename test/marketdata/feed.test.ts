// The market-data feed and a subscriber's throttle, on their own (pure logic).
import { describe, expect, test } from 'bun:test'
import type { Depth } from '../../src/engine/types.ts'
import { DEPTH_LEVELS, MarketFeed, REPLAY_DELTAS, mergeDeltas } from '../../src/marketdata/feed.ts'
import type { DepthDelta, Level } from '../../src/marketdata/feed.ts'
import { crc32, depthChecksum, parseClientMessage } from '../../src/marketdata/protocol.ts'
import { MAX_TRADES_PER_MESSAGE, TierThrottle } from '../../src/marketdata/throttle.ts'

const book = (bids: Level[], asks: Level[]): Depth => ({
  bids: bids.map(([p, q]) => [p, q, 1]),
  asks: asks.map(([p, q]) => [p, q, 1]),
})

/** A client's copy of the depth: a snapshot with deltas applied. */
function apply(levels: Map<number, number>, delta: Level[]) {
  for (const [price, qty] of delta) {
    if (qty === 0) levels.delete(price)
    else levels.set(price, qty)
  }
}

describe('MarketFeed', () => {
  test('deltas carry consecutive seqs, the changed levels and the checksum; quotes on change', () => {
    const feed = new MarketFeed(7, book([[15000, 100]], [[15010, 50]]), 1)
    expect(feed.snapshot()).toMatchObject({ seq: 7, bids: [[15000, 100]], asks: [[15010, 50]] })

    const first = feed.observe(book([[15000, 100], [14990, 20]], [[15010, 50]]), [], 2)
    expect(first.depth).toEqual({
      firstSeq: 8,
      seq: 8,
      bids: [[14990, 20]],
      asks: [],
      checksum: depthChecksum([[15000, 100], [14990, 20]], [[15010, 50]]),
      ts: 2,
    })
    expect(first.quote).toBeUndefined() // the best levels did not change

    const trade = { price: 15010, qty: 50, side: 'buy' as const, ts: 3 }
    const second = feed.observe(book([[15000, 100], [14990, 20]], []), [trade], 3)
    expect(second.depth).toMatchObject({ seq: 9, bids: [], asks: [[15010, 0]] })
    expect(second.quote).toEqual({ bid: 15000, bidSize: 100, ask: null, askSize: 0, ts: 3 })
    expect(second.trades).toEqual([trade])

    const unchanged = feed.observe(book([[15000, 100], [14990, 20]], []), [], 4)
    expect(unchanged).toEqual({ trades: [] })
  })

  test('a snapshot plus every delta equals the book, level by level', () => {
    let seed = 42
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n)
    const states: Depth[] = Array.from({ length: 300 }, () => {
      const side = (base: number, dir: number) =>
        [...new Set(Array.from({ length: random(70) }, () => base + dir * random(90)))]
          .sort((a, b) => dir * (a - b))
          .map((p): Level => [p, 1 + random(500)])
      return book(side(10_000, -1), side(10_100, 1))
    })
    const feed = new MarketFeed(0, states[0], 0)
    const snap = feed.snapshot()
    const bids = new Map(snap.bids)
    const asks = new Map(snap.asks)
    let seq = snap.seq
    for (const [i, state] of states.entries()) {
      const { depth } = feed.observe(state, [], i)
      if (!depth) continue
      expect(depth.firstSeq).toBe(seq + 1)
      seq = depth.seq
      apply(bids, depth.bids)
      apply(asks, depth.asks)
      const want = (levels: Depth['bids']) =>
        levels.slice(0, DEPTH_LEVELS).map(([p, q]): Level => [p, q])
      const clientBids = [...bids].sort((a, b) => b[0] - a[0])
      const clientAsks = [...asks].sort((a, b) => a[0] - b[0])
      expect(clientBids).toEqual(want(state.bids))
      expect(clientAsks).toEqual(want(state.asks))
      expect(depth.checksum).toBe(depthChecksum(clientBids, clientAsks))
    }
  })

  test('since: nothing missed, the merged deltas missed, or a snapshot when too old', () => {
    const feed = new MarketFeed(100, book([], []), 0)
    for (let i = 1; i <= REPLAY_DELTAS + 5; i++) feed.observe(book([[i, 1]], []), [], i)
    const last = 100 + REPLAY_DELTAS + 5
    expect(feed.since(last)).toBeNull()
    expect(feed.since(last - 2)).toMatchObject({
      firstSeq: last - 1,
      seq: last,
      bids: [[REPLAY_DELTAS + 5, 1], [REPLAY_DELTAS + 4, 0], [REPLAY_DELTAS + 3, 0]],
    })
    expect(feed.since(last - REPLAY_DELTAS)?.firstSeq).toBe(last - REPLAY_DELTAS + 1)
    expect(feed.since(last - REPLAY_DELTAS - 1)).toBeUndefined() // beyond the replay buffer
    expect(feed.since(last + 1)).toBeUndefined() // from another life of the object
  })

  test('merged deltas keep each level’s last quantity', () => {
    const d = (seq: number, bids: Level[]): DepthDelta => ({
      firstSeq: seq, seq, bids, asks: [], checksum: seq, ts: seq,
    })
    expect(mergeDeltas([d(1, [[10, 5], [9, 1]]), d(2, [[10, 0]]), d(3, [[11, 2]])])).toEqual({
      firstSeq: 1, seq: 3, bids: [[11, 2], [10, 0], [9, 1]], asks: [], checksum: 3, ts: 3,
    })
  })
})

describe('TierThrottle', () => {
  const quote = (bid: number, ts: number) => ({ bid, bidSize: 1, ask: null, askSize: 0, ts })
  const delta = (seq: number, bids: Level[]): DepthDelta => ({
    firstSeq: seq, seq, bids, asks: [], checksum: 0, ts: seq,
  })

  test('retail: one message per channel per second, the latest quote, trades and deltas merged', () => {
    const s = new TierThrottle('AAPL', 'retail')
    const trade = (price: number, ts: number) => ({ price, qty: 1, side: 'sell' as const, ts })
    const first = s.offer({ quote: quote(100, 0), trades: [trade(100, 0)], depth: delta(1, [[100, 1]]) }, 0)
    expect(first.map((m) => m.type)).toEqual(['quote', 'trade', 'depth_update'])

    expect(s.offer({ quote: quote(101, 10), trades: [trade(101, 10)], depth: delta(2, [[101, 1]]) }, 10)).toEqual([])
    expect(s.offer({ quote: quote(102, 20), trades: [trade(102, 20)], depth: delta(3, [[101, 0]]) }, 20)).toEqual([])
    expect(s.nextFlushAt()).toBe(1000)
    expect(s.flush(999)).toEqual([])
    const later = s.flush(1000)
    expect(later).toEqual([
      { type: 'quote', symbol: 'AAPL', bid: '1.02', bid_size: 1, ask: null, ask_size: 0, ts: 20 },
      {
        type: 'trades',
        symbol: 'AAPL',
        trades: [
          { price: '1.01', qty: 1, side: 'sell', ts: 10 },
          { price: '1.02', qty: 1, side: 'sell', ts: 20 },
        ],
      },
      {
        type: 'depth_update', symbol: 'AAPL', first_seq: 2, seq: 3, bids: [['1.01', 0]], asks: [],
        checksum: 0, ts: 3,
      },
    ])
    expect(s.nextFlushAt()).toBeUndefined()
  })

  test('pro: ten per channel per second', () => {
    const s = new TierThrottle('AAPL', 'pro')
    const sent = new Map<string, number>()
    for (let t = 0; t < 1000; t += 5) {
      for (const m of s.offer({ quote: quote(t, t), trades: [], depth: delta(t + 1, [[1, t]]) }, t)) {
        sent.set(m.type, (sent.get(m.type) ?? 0) + 1)
      }
    }
    expect(Object.fromEntries(sent)).toEqual({ quote: 10, depth_update: 10 })
  })

  test('a conflated window keeps the newest trades and counts the rest', () => {
    const s = new TierThrottle('AAPL', 'retail')
    s.offer({ trades: [{ price: 1, qty: 1, side: 'buy', ts: 0 }] }, 0)
    const many = Array.from({ length: MAX_TRADES_PER_MESSAGE + 30 }, (_, i) => ({
      price: 100 + i, qty: 1, side: 'buy' as const, ts: i,
    }))
    s.offer({ trades: many }, 10)
    const [message] = s.flush(1000) as unknown as [{ trades: { price: string }[]; dropped: number }]
    expect(message.trades).toHaveLength(MAX_TRADES_PER_MESSAGE)
    expect(message.dropped).toBe(30)
    expect(message.trades[0].price).toBe('1.30')
  })
})

describe('protocol', () => {
  test('client messages are validated; unknown ops and fields are errors', () => {
    expect(parseClientMessage('{"op":"subscribe","channels":["quotes","depth"],"since":5}')).toEqual({
      op: 'subscribe', channels: ['quotes', 'depth'], since: 5,
    })
    expect(parseClientMessage('{"op":"ping"}')).toEqual({ op: 'ping' })
    for (const bad of ['nope', '{"op":"dance"}', '{"op":"subscribe","channels":["news"]}',
      '{"op":"subscribe","channels":[]}', '{"op":"ping","x":1}']) {
      expect(parseClientMessage(bad)).toMatchObject({ type: 'error', code: 'invalid_message' })
    }
  })

  test('checksum: CRC-32 of the documented text', () => {
    expect(crc32('123456789')).toBe(0xcbf43926) // the standard check value
    expect(depthChecksum([[15000, 100], [14999, 20]], [[15001, 5]])).toBe(
      crc32('150.00:100,149.99:20|150.01:5'),
    )
  })
})
