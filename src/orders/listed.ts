// Which symbols are listed, as the Worker knows them without a database round trip per order: the
// order path goes straight to the symbol's Durable Object, and an object must not be created for
// any string a client sends. The list is kept for a minute per isolate (plain data may outlive a
// request; connections may not); a symbol not in it is looked up again at once, so a newly listed
// symbol trades from its first order. Whether a listed symbol is trading is checked where the
// order is placed (rules.ts), on the symbol's current row. Its extended-hours flag comes with it
// (market hours are checked in the Worker), so a change of it applies within the minute.
import { openDb } from '../db/client.ts'
import type { DbConfig } from '../db/client.ts'
import { symbols } from '../db/schema.ts'
import { settingsFrom } from '../env.ts'
import type { Env } from '../env.ts'
import { tradingHours } from '../settlement/calendar.ts'

const TTL_MS = 60_000

export interface Listed {
  extendedHours: boolean
}

let listed: { at: number; symbols: Map<string, Listed> } | undefined
/** a lookup is under way in this isolate: the others wait for it instead of each connecting */
let lookingUp = false

export async function isListed(cfg: DbConfig, symbol: string): Promise<boolean> {
  return (await listedSymbol(cfg, symbol)) !== undefined
}

/** The symbol as listed (undefined: not listed). */
export async function listedSymbol(cfg: DbConfig, symbol: string): Promise<Listed | undefined> {
  const asked = Date.now()
  const known = listed && asked - listed.at < TTL_MS && listed.symbols.get(symbol)
  if (known) return known
  // plain polling, not a shared promise: a promise another request's I/O resolves is not ours
  for (let waited = 0; lookingUp && waited < 2_000; waited += 5) await sleep(5)
  if (listed && listed.at >= asked) return listed.symbols.get(symbol)
  lookingUp = true
  const handle = openDb(cfg)
  try {
    const rows = await handle.db
      .select({ symbol: symbols.symbol, extendedHours: symbols.extendedHours })
      .from(symbols)
    listed = { at: Date.now(), symbols: new Map(rows.map((r) => [r.symbol, r])) }
  } finally {
    lookingUp = false
    await handle.end()
  }
  return listed.symbols.get(symbol)
}

/**
 * Whether the symbol trades at `instant`: its market hours (extended hours if it has them), or
 * always with MARKET_ALWAYS_OPEN. A symbol no longer listed does not.
 */
export async function marketOpen(env: Env, symbol: string, instant = Date.now()): Promise<boolean> {
  if (settingsFrom(env).marketAlwaysOpen) return true
  const listed = await listedSymbol(env, symbol)
  return listed !== undefined && tradingHours(instant, listed.extendedHours).open
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
