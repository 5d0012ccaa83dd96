// The local Upstash REST bridge (scripts/lib/upstash-bridge.ts) under the real clients: the
// @upstash/redis client and @upstash/ratelimit, against the real Redis of REDIS_URL.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Ratelimit } from '@upstash/ratelimit'
import { Redis } from '@upstash/redis/cloudflare'
import { Redis as IoRedis } from 'ioredis'
import { startUpstashBridge } from '../../scripts/lib/upstash-bridge.ts'
import type { UpstashBridge } from '../../scripts/lib/upstash-bridge.ts'
import { clearOfWindowEdge } from '../helpers/rate-limit.ts'

const redisUrl = process.env.REDIS_URL
const prefix = `bourse-t-bridge-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
const key = (name: string) => `${prefix}:${name}`

let bridge: UpstashBridge
let direct: IoRedis

const client = (opts: { token?: string; autoPipelining?: boolean } = {}) =>
  new Redis({
    url: bridge.url,
    token: opts.token ?? bridge.token,
    enableAutoPipelining: opts.autoPipelining ?? true,
    enableTelemetry: false,
    retry: false,
  })

/** POST to the bridge as the client would, without the client's decoding */
const raw = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${bridge.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bridge.token}`, ...headers },
    body: JSON.stringify(body),
  })

/** Records the commands the clients send (they call the global fetch) while `run` runs. */
async function sentDuring(run: () => Promise<void>): Promise<{ path: string; commands: unknown[][] }[]> {
  const sent: { path: string; commands: unknown[][] }[] = []
  const original = globalThis.fetch
  globalThis.fetch = Object.assign(
    (input: string | URL | Request, init?: RequestInit) => {
      const path = new URL(String(input)).pathname
      const body = JSON.parse(String(init?.body))
      sent.push({ path, commands: path === '/' ? [body] : body })
      return original(input, init)
    },
    { preconnect: original.preconnect },
  )
  try {
    await run()
  } finally {
    globalThis.fetch = original
  }
  return sent
}

describe.skipIf(!redisUrl)('Upstash REST bridge to the real Redis', () => {
  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: redisUrl! })
    direct = new IoRedis(redisUrl!)
  })

  afterAll(async () => {
    const keys = await direct.keys(`${prefix}:*`)
    if (keys.length > 0) await direct.del(...keys)
    direct.disconnect()
    await bridge.close()
  })

  test('single commands over POST / (auto-pipelining off): strings, counters, hashes, errors', async () => {
    const redis = client({ autoPipelining: false })
    const sent = await sentDuring(async () => {
      expect(await redis.set(key('s'), 'héllo €')).toBe('OK')
      expect(await redis.get<string>(key('s'))).toBe('héllo €')
      expect(await redis.incrby(key('n'), 5)).toBe(5)
      expect(await redis.hset(key('h'), { a: '1', b: 'two' })).toBe(2)
      expect(await redis.hgetall(key('h'))).toEqual({ a: 1, b: 'two' })
      expect(await redis.get(key('missing'))).toBeNull()
    })
    expect(sent.every((s) => s.path === '/')).toBe(true)
    expect(sent[2].commands).toEqual([['incrby', key('n'), 5]]) // a JSON number, as sent
    expect(await direct.get(key('s'))).toBe('héllo €')
    await expect(redis.incr(key('s'))).rejects.toThrow('ERR value is not an integer')
  })

  test('errors: HTTP 400 {error} as Upstash answers them; commands the shared connection cannot run', async () => {
    const bad = await raw('/', ['incr', key('s')])
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'ERR value is not an integer or out of range' })
    const select = await raw('/', ['select', '1'])
    expect(select.status).toBe(400)
    expect(await select.json()).toEqual({ error: "ERR Command is not available: 'select'" })
    expect((await raw('/', { not: 'a command' })).status).toBe(400)
    expect((await raw('/elsewhere', ['ping'])).status).toBe(404)
  })

  test('the default client pipelines concurrent commands to /pipeline; each keeps its own answer', async () => {
    const redis = client()
    let results: unknown[] = []
    const sent = await sentDuring(async () => {
      results = await Promise.all([
        redis.set(key('p1'), 'one'),
        redis.incr(key('p2')),
        redis.get(key('p1')),
        redis.incr(key('p2')),
      ])
    })
    expect(results).toEqual(['OK', 1, 'one', 2])
    // batched (one batch, or two when the second waits for the first to come back)
    expect(sent.every((s) => s.path === '/pipeline')).toBe(true)
    expect(sent.flatMap((s) => s.commands)).toHaveLength(4)
    expect(sent.length).toBeLessThan(4)

    // not atomic: a failing command fails alone
    const res = await raw('/pipeline', [
      ['set', key('p3'), 'x'],
      ['incr', key('p3')],
      ['get', key('p3')],
    ])
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual([
      { result: 'OK' },
      { error: 'ERR value is not an integer or out of range' },
      { result: 'x' },
    ])
  })

  test('multi() goes to /multi-exec and runs as one transaction', async () => {
    const redis = client()
    let results: unknown[] = []
    const sent = await sentDuring(async () => {
      results = await redis.multi().set(key('m'), '10').incrby(key('m'), 5).get(key('m')).exec()
    })
    expect(sent.map((s) => s.path)).toEqual(['/multi-exec'])
    expect(results).toEqual(['OK', 15, 15])

    // a command that fails while running fails alone (Redis has no rollback)
    const runtime = await raw('/multi-exec', [
      ['set', key('m2'), 'x'],
      ['incr', key('m2')],
    ])
    expect(await runtime.json()).toEqual([
      { result: 'OK' },
      { error: 'ERR value is not an integer or out of range' },
    ])
    // one Redis refuses to queue aborts all: nothing was written
    const aborted = await raw('/multi-exec', [
      ['set', key('m3'), 'x'],
      ['get'],
    ])
    expect(aborted.status).toBe(400)
    expect(((await aborted.json()) as { error: string }).error).toStartWith('EXECABORT')
    expect(await direct.exists(key('m3'))).toBe(0)
  })

  test('Upstash-Encoding: base64 encodes every string but a whole "OK"; numbers and null stay', async () => {
    await direct.set(key('b'), 'é€')
    await direct.rpush(key('l'), 'OK', 'x')
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    const encoded = { 'upstash-encoding': 'base64' }
    expect(await (await raw('/', ['get', key('b')], encoded)).json()).toEqual({ result: b64('é€') })
    expect(await (await raw('/', ['get', key('b')])).json()).toEqual({ result: 'é€' })
    expect(await (await raw('/', ['set', key('b2'), 'v'], encoded)).json()).toEqual({ result: 'OK' })
    expect(await (await raw('/', ['ping'], encoded)).json()).toEqual({ result: b64('PONG') })
    expect(await (await raw('/', ['lrange', key('l'), 0, -1], encoded)).json()).toEqual({
      result: [b64('OK'), b64('x')],
    })
    const pipeline = await raw('/pipeline', [['strlen', key('b')], ['get', key('nothing')]], encoded)
    expect(await pipeline.json()).toEqual([{ result: 5 }, { result: null }])
    // and what the client makes of it (it always asks for base64)
    expect(await client().lrange(key('l'), 0, -1)).toEqual(['OK', 'x'])
  })

  test('a wrong or missing token is 401', async () => {
    const wrong = await raw('/', ['ping'], { authorization: 'Bearer nope' })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toEqual({ error: 'Unauthorized' })
    const none = await fetch(`${bridge.url}/`, { method: 'POST', body: '["ping"]' })
    expect(none.status).toBe(401)
    await expect(client({ token: 'not-the-token' }).ping()).rejects.toThrow('Unauthorized')
  })

  test('SCRIPT LOAD and EVALSHA under the client’s SHA1 of a script with the Upstash-only flag', async () => {
    const script = '#!lua flags=allow-key-locking\nreturn redis.call("INCR", KEYS[1])'
    const redis = client()
    const sha = await redis.scriptLoad(script)
    expect(sha).toBe(new Bun.CryptoHasher('sha1').update(script).digest('hex'))
    expect(await redis.evalsha(sha, [key('e')], [])).toBe(1)
    expect(await redis.eval(script, [key('e')], [])).toBe(2)
  })

  test('@upstash/ratelimit: EVALSHA once the bridge knows the script; trips exactly at the limit', async () => {
    const limiter = new Ratelimit({
      redis: client(),
      limiter: Ratelimit.slidingWindow(5, '3600 s'),
      prefix: key('rl'),
      ephemeralCache: false,
    })
    await clearOfWindowEdge(3600)
    const answers: { success: boolean; remaining: number }[] = []
    const sent = await sentDuring(async () => {
      for (let i = 0; i < 6; i++) answers.push(await limiter.limit('user-1'))
    })
    expect(answers.map((a) => [a.success, a.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ])
    // the first EVALSHA finds nothing (NOSCRIPT), EVAL teaches the bridge; then EVALSHA only
    const names = sent.flatMap((s) => s.commands.map((c) => c[0]))
    expect(names).toEqual(['evalsha', 'eval', 'evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha'])
    const counted = await direct.keys(`${key('rl')}:user-1:*`)
    expect(counted).toHaveLength(1)
    expect(await direct.get(counted[0])).toBe('5')
  })
})
