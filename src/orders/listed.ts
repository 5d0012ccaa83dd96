// Which symbols are listed, as the Worker knows them without a database round trip per order: the
// order path goes straight to the symbol's Durable Object, and an object must not be created for
// any string a client sends. The list is kept for a minute per isolate (plain data may outlive a
// request; connections may not); a symbol not in it is looked up again at once, so a newly listed
// symbol trades from its first order. Whether a listed symbol is trading is checked where the
// order is placed (rules.ts), on the symbol's current row.
import { openDb } from '../db/client.ts'
import type { DbConfig } from '../db/client.ts'
import { symbols } from '../db/schema.ts'

const TTL_MS = 60_000

let listed: { at: number; symbols: Set<string> } | undefined

export async function isListed(cfg: DbConfig, symbol: string): Promise<boolean> {
  if (listed && Date.now() - listed.at < TTL_MS && listed.symbols.has(symbol)) return true
  const handle = openDb(cfg)
  try {
    const rows = await handle.db.select({ symbol: symbols.symbol }).from(symbols)
    listed = { at: Date.now(), symbols: new Set(rows.map((r) => r.symbol)) }
  } finally {
    await handle.end()
  }
  return listed.symbols.has(symbol)
}
