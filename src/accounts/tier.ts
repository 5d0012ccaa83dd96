// A user's tier as the Worker knows it without a database round trip per request: access tokens
// do not carry it, and the order path opens no Pool in the Worker (orders go straight to the
// symbol's object). Kept a minute per isolate (plain data may outlive a request, connections may
// not): an admin's change of tier applies within a minute. Looked up on the request's Pool when
// it has one (withDb), else on one of its own.
import { eq } from 'drizzle-orm'
import type { Context } from 'hono'
import type { AppEnv } from '../context.ts'
import { openDb } from '../db/client.ts'
import type { Db } from '../db/client.ts'
import { users } from '../db/schema.ts'
import type { Tier } from '../env.ts'

const TTL_MS = 60_000
const MAX_USERS = 50_000

const known = new Map<number, { tier: Tier; at: number }>()
/** users whose lookup is under way in this isolate: their other requests wait for it */
const lookingUp = new Set<number>()

export async function userTier(c: Context<AppEnv>, userId: number): Promise<Tier> {
  const asked = Date.now()
  const hit = known.get(userId)
  if (hit && asked - hit.at < TTL_MS) return hit.tier
  // plain polling, not a shared promise: a promise another request's I/O resolves is not ours
  for (let waited = 0; lookingUp.has(userId) && waited < 2_000; waited += 5) await sleep(5)
  const fresh = known.get(userId)
  if (fresh && fresh.at >= asked) return fresh.tier
  lookingUp.add(userId)
  try {
    const tier = await lookUp(c, userId)
    if (known.size >= MAX_USERS) known.delete(known.keys().next().value!)
    known.set(userId, { tier, at: Date.now() })
    return tier
  } finally {
    lookingUp.delete(userId)
  }
}

/** An admin changed the user's tier: this isolate looks it up again (others within TTL_MS). */
export function forgetTier(userId: number) {
  known.delete(userId)
}

async function lookUp(c: Context<AppEnv>, userId: number): Promise<Tier> {
  const open = c.get('db') as Db | undefined
  if (open) return tierIn(open, userId)
  const handle = openDb(c.env)
  try {
    return await tierIn(handle.db, userId)
  } finally {
    await handle.end()
  }
}

/** an account that is gone counts as retail (its token still verifies until it expires) */
async function tierIn(db: Db, userId: number): Promise<Tier> {
  const [row] = await db.select({ tier: users.tier }).from(users).where(eq(users.id, userId))
  return row?.tier ?? 'retail'
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
