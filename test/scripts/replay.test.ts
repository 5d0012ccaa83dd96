import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'

const root = new URL('../../', import.meta.url).pathname

/** Runs the CLI exactly as its contract says: `npm run --silent replay < in > out`. */
function replay(lines: string[]): { events: Record<string, unknown>[]; stdout: string; status: number | null } {
  const run = spawnSync('npm', ['run', '--silent', 'replay'], {
    cwd: root,
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
  })
  const events = run.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line))
  return { events, stdout: run.stdout, status: run.status }
}

const order = (fields: Record<string, unknown>) => JSON.stringify({ op: 'new', tif: 'GTC', ...fields })

describe('npm run replay', () => {
  test('the contract example: fills at the maker price, post-only, stop triggers, close, depth', () => {
    const { events, stdout, status } = replay([
      order({ id: 'o1', user: 'u1', side: 'buy', type: 'limit', qty: 100, price: 15000 }),
      order({ id: 'o2', user: 'u2', side: 'sell', type: 'stop_limit', qty: 10, stop: 14950, price: 14940, tif: 'DAY' }),
      order({ id: 'o3', user: 'u3', side: 'sell', type: 'market', qty: 30, tif: 'IOC' }),
      order({ id: 'o4', user: 'u4', side: 'sell', type: 'limit', qty: 5, price: 15000, post_only: true }),
      order({ id: 'o5', user: 'u5', side: 'sell', type: 'limit', qty: 80, price: 14900 }),
      JSON.stringify({ op: 'amend', id: 'o2', qty: 5 }),
      JSON.stringify({ op: 'cancel', id: 'o1' }),
      JSON.stringify({ op: 'close' }),
      JSON.stringify({ op: 'depth' }),
    ])
    expect(status).toBe(0)
    expect(stdout.endsWith('\n')).toBe(true)
    expect(events).toEqual([
      { type: 'rested', id: 'o1', price: 15000, qty: 100 },
      { type: 'pending', id: 'o2', stop: 14950, qty: 10 },
      { type: 'fill', taker: 'o3', maker: 'o1', price: 15000, qty: 30, side: 'sell' },
      { type: 'rejected', id: 'o4', reason: 'post_only' },
      { type: 'fill', taker: 'o5', maker: 'o1', price: 15000, qty: 70, side: 'sell' },
      { type: 'rested', id: 'o5', price: 14900, qty: 10 },
      { type: 'rejected', id: 'o2', reason: 'unknown_order' },
      { type: 'rejected', id: 'o1', reason: 'unknown_order' },
      { type: 'expired', id: 'o2', qty: 10 },
      { type: 'depth', bids: [], asks: [[14900, 10, 1]] },
    ])
  })

  test('keeps the key order of the contract', () => {
    const { stdout } = replay([
      order({ id: 'a', user: 'u1', side: 'buy', type: 'limit', qty: 10, price: 100 }),
      order({ id: 'b', user: 'u2', side: 'sell', type: 'market', qty: 15, tif: 'IOC' }),
    ])
    expect(stdout.split('\n').slice(1, 3)).toEqual([
      '{"type":"fill","taker":"b","maker":"a","price":100,"qty":10,"side":"sell"}',
      '{"type":"canceled","id":"b","qty":5,"reason":"no_liquidity"}',
    ])
  })

  test('answers bad lines instead of stopping, and nothing but events reaches stdout', () => {
    const { events, status } = replay([
      'not json',
      '[1,2]',
      JSON.stringify({ op: 'explode', id: 'x' }),
      order({ side: 'buy', type: 'limit', qty: 1, price: 1, user: 'u1' }),
      order({ id: 'q', user: 'u1', side: 'buy', type: 'limit', qty: 1.5, price: 100 }),
      order({ id: 'q', user: 'u1', side: 'buy', type: 'limit', qty: 1, price: 100 }),
      order({ id: 'r', user: 'u1', side: 'up', type: 'limit', qty: 1, price: 100 }),
      order({ id: 's', user: 'u1', side: 'buy', type: 'limit', qty: 1, price: 100 }),
      order({ id: 't', side: 'buy', type: 'limit', qty: 1, price: 100 }),
      order({ id: 'u', user: 'u1', side: 'buy', type: 'limit', qty: 1, price: 100, tif: 'gtc' }),
      JSON.stringify({ op: 'new', id: 'v', user: 'u1', side: 'buy', type: 'limit', qty: 1, price: 100 }),
    ])
    expect(status).toBe(0)
    expect(events).toEqual([
      { type: 'rejected', id: null, reason: 'invalid' },
      { type: 'rejected', id: null, reason: 'invalid' },
      { type: 'rejected', id: 'x', reason: 'invalid' },
      { type: 'rejected', id: null, reason: 'invalid' },
      { type: 'rejected', id: 'q', reason: 'invalid' },
      { type: 'rejected', id: 'q', reason: 'duplicate_id' },
      { type: 'rejected', id: 'r', reason: 'invalid' },
      { type: 'rested', id: 's', price: 100, qty: 1 },
      { type: 'rejected', id: 't', reason: 'invalid' },
      { type: 'rejected', id: 'u', reason: 'invalid' },
      { type: 'rejected', id: 'v', reason: 'invalid' },
    ])
  })
})
