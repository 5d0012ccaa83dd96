// The feed reader: lines split anywhere by the transport read the same; bad and over-long lines
// are counted and skipped; each read's events reach the sink together.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { LineSplitter, readFeed } from '../../src/execution/feed.ts'
import type { FeedEvent } from '../../src/execution/nbbo.ts'

const bytes = (text: string) => new TextEncoder().encode(text)
const streamOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c)
      controller.close()
    },
  })

/** the bytes cut at the given offsets */
const cut = (all: Uint8Array, at: number[]) => {
  const points = [...new Set(at.map((n) => n % (all.length + 1)))].sort((a, b) => a - b)
  return [...points, all.length].map((end, i) => all.slice(i === 0 ? 0 : points[i - 1], end))
}

const FEED = [
  'Q|NSIM|AAPL|149.99|300|150.01|200|1790000000000',
  'T|NSIM|AAPL|150.01|100|1790000000001',
  'Q|NSIM|AAPL|149.99|300|150.02|100|1790000000002',
  'Q|NSIM|MSFT|409.50|100|410.50|100|1790000000003',
].join('\n')

describe('LineSplitter', () => {
  test('any chunking gives the same lines, multi-byte characters included (property)', () => {
    const text = `${FEED}\nnot a line ✓ é\n`
    const all = bytes(text)
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (at) => {
        const splitter = new LineSplitter()
        const lines = cut(all, at).flatMap((c) => splitter.push(c))
        expect(lines).toEqual(text.split('\n').slice(0, -1))
      }),
    )
  })

  test('an over-long line is dropped whole, however it arrives; the next line still reads', () => {
    const splitter = new LineSplitter()
    expect(splitter.push(bytes('x'.repeat(600)))).toEqual([])
    expect(splitter.push(bytes('x'.repeat(10)))).toEqual([])
    // its tail is not a line of its own
    expect(splitter.push(bytes('Q|NSIM|AAPL|1.00|100|999.00|100|1\nT|NSIM|AAPL|1.00|1|1\n'))).toEqual(['T|NSIM|AAPL|1.00|1|1'])
    expect(splitter.dropped).toBe(610 + 'Q|NSIM|AAPL|1.00|100|999.00|100|1'.length)
  })
})

describe('readFeed', () => {
  test('parses every line, skips bad ones, one sink call per read', async () => {
    const calls: FeedEvent[][] = []
    const stats = await readFeed(streamOf([bytes(`${FEED}\ngarbage\n\n`)]), (events) => void calls.push(events))
    expect(stats).toEqual({ events: 4, bad: 1 })
    expect(calls).toHaveLength(1)
    expect(calls[0].map((e) => `${e.type}:${e.symbol}`)).toEqual(['quote:AAPL', 'trade:AAPL', 'quote:AAPL', 'quote:MSFT'])
  })

  test('a line split across reads arrives with the read that completes it', async () => {
    const all = bytes(`${FEED}\n`)
    const calls: number[] = []
    await readFeed(streamOf([all.slice(0, 60), all.slice(60)]), (events) => void calls.push(events.length))
    expect(calls).toEqual([1, 3])
  })
})
