// Readiness: whether this Worker can serve, dependency by dependency. Postgres and a symbol's
// Durable Object are required (orders need both); Redis is not (caches and rate limits fall back
// without it), so a Redis that is down makes the Worker `degraded`, not unready.
import { sql } from 'drizzle-orm'
import { openDb } from '../db/client.ts'
import { redisFrom } from '../db/redis.ts'
import { symbols } from '../db/schema.ts'
import type { Env } from '../env.ts'

export interface Check {
  state: 'up' | 'down' | 'not_configured'
  ms?: number
  error?: string
}

export interface Readiness {
  status: 'ready' | 'degraded' | 'unready'
  checks: { postgres: Check; durable_object: Check; redis: Check }
}

const TIMEOUT_MS = 2_000

/** Runs `probe` with a deadline: up (with its time) or down (with why). */
async function check(probe: () => Promise<unknown>): Promise<Check> {
  const started = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
  })
  try {
    await Promise.race([probe(), deadline])
    return { state: 'up', ms: Date.now() - started }
  } catch (err) {
    return { state: 'down', ms: Date.now() - started, error: String(err) }
  } finally {
    clearTimeout(timer)
  }
}

export async function readiness(env: Env): Promise<Readiness> {
  const handle = openDb(env, 1)
  try {
    const redis = redisFrom(env)
    const [postgres, durable_object, redisCheck] = await Promise.all([
      check(() => handle.db.execute(sql`select 1`)),
      // the first listed symbol's object answers its top of book (cheap; a hash would not be)
      check(async () => {
        const [first] = await handle.db.select({ symbol: symbols.symbol }).from(symbols).limit(1)
        const name = first?.symbol ?? 'READYZ'
        await env.SYMBOL_BOOK.get(env.SYMBOL_BOOK.idFromName(name)).depth(1)
      }),
      redis ? check(() => redis.ping()) : Promise.resolve<Check>({ state: 'not_configured' }),
    ])
    const required = [postgres, durable_object].every((c) => c.state === 'up')
    const status = !required ? 'unready' : redisCheck.state === 'down' ? 'degraded' : 'ready'
    return { status, checks: { postgres, durable_object, redis: redisCheck } }
  } finally {
    await handle.end().catch(() => {})
  }
}
