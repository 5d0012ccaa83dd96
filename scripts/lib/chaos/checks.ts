// The checks a run ends with, once the outbox drains have settled and the dev server is down:
// each symbol's Durable Object SQLite file is read offline and set against Postgres and against
// what the clients were told. Each check returns what it found wrong (nothing: it holds).
//  - every acked order (2xx) is in Postgres as acked, each of its fills exactly once;
//  - Postgres' fills are exactly the fills of the books' event logs; the outboxes are empty;
//  - a fresh replay of each log (from its first command, not a snapshot) reproduces every logged
//    event, passes through each state the live book reported (after each restart), and ends at
//    the live book's hash, seq and depth; restoring (snapshot + log) reaches the same hash;
//  - every order's status, filled_qty and reservation agree with its book's log;
//  - cash and positions are what the logged fills imply; trading conserves cash and shares;
//  - reservations add up to what the open orders need; no retail cash or position is negative;
//  - every trader's audit chain verifies; checkInvariants() (scripts/lib/invariants.ts) holds.
import { Database } from 'bun:sqlite'
import { sql } from 'drizzle-orm'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type { Db } from '../../../src/db/client.ts'
import { BookJournal } from '../../../src/engine/journal.ts'
import type { BookState } from '../../../src/engine/journal.ts'
import type { BookEvent, Command } from '../../../src/engine/types.ts'
import { bookModule, newOrderBook } from '../../../src/engine/wasm-file.ts'
import { formatCents } from '../../../src/lib/money.ts'
import { traded } from '../../../src/orders/fills.ts'
import { sqliteStore } from '../../../test/helpers/sqlite-store.ts'
import { checkInvariants } from '../invariants.ts'
import type { Json } from './client.ts'

export interface LoggedCommand {
  seq: number
  op: string
  command: Command
  events: BookEvent[]
  fillsBefore: number
}

/** a symbol's object as its SQLite file has it */
export interface BookLog {
  commands: LoggedCommand[]
  outbox: number
  /** the hash the object reaches when it starts (latest snapshot, then the log after it) */
  restoredHash: string
}

export interface Balances {
  cash: Map<number, number>
  pos: Map<string, { qty: number; cost: number }>
}

/** what the clients saw and the live books reported */
export interface Observed {
  symbols: string[]
  /** order id → the 201 body, with its user */
  acks: Map<number, Json>
  /** order id → canceled_qty of a 200 DELETE */
  cancels: Map<number, number>
  /** order id → what its amends cut (reduced_by of each 200 PATCH); any amend sent is here */
  amends: Map<number, number>
  /** states the live books reported along the way (just after each restart) */
  checkpoints: Record<string, BookState[]>
  /** each book's state once settled, and its depth read right after */
  live: Record<string, BookState>
  liveDepth: Record<string, Json>
  /** balances after funding, before the stream */
  before: Balances
  auditChains: Json[]
}

export interface CheckResult {
  name: string
  violations: string[]
}

const num = (v: unknown) => Number(v)
const q = async <T = Json>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> =>
  (await db.execute(query)).rows as T[]

/** Records a difference under `what` unless got equals want (deeply). */
function same(out: string[], what: string, got: unknown, want: unknown) {
  if (!isDeepStrictEqual(got, want)) {
    out.push(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
  }
}

export async function balances(db: Db): Promise<Balances> {
  const cash = new Map<number, number>()
  for (const u of await q(db, sql`SELECT id, cash_cents FROM users`)) {
    cash.set(num(u.id), num(u.cash_cents))
  }
  const pos = new Map<string, { qty: number; cost: number }>()
  for (const p of await q(db, sql`SELECT user_id, symbol, qty, cost_cents FROM positions`)) {
    pos.set(`${p.user_id}:${p.symbol}`, { qty: num(p.qty), cost: num(p.cost_cents) })
  }
  return { cash, pos }
}

/** Every SymbolBook SQLite file under the state directory (server down), by symbol. */
export async function readBookLogs(db: Db, stateDir: string): Promise<Record<string, BookLog>> {
  const dir = join(stateDir, 'wrangler/v3/do/bourse-SymbolBook')
  const logs: Record<string, BookLog> = {}
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sqlite'))) {
    const book = readBookFile(join(dir, file))
    const first = book.commands.find((c) => c.op === 'new')
    if (!first) continue // not a book (metadata), or a book never sent an order
    const [{ symbol }] = await q<{ symbol: string }>(
      db,
      sql`SELECT symbol FROM orders WHERE id = ${(first.command as { id: number }).id}`,
    )
    if (logs[symbol]) throw new Error(`two objects hold ${symbol}'s orders`)
    logs[symbol] = book
  }
  return logs
}

function readBookFile(path: string): BookLog {
  const store = sqliteStore(new Database(path))
  try {
    const journaled = store.exec(`SELECT 1 FROM sqlite_master WHERE name = 'book_commands'`)
    if (journaled.length === 0) return { commands: [], outbox: 0, restoredHash: '' }
    const commands = store.exec('SELECT * FROM book_commands ORDER BY seq').map((r) => ({
      seq: r.seq as number,
      op: r.op as string,
      command: JSON.parse(r.command as string) as Command,
      events: JSON.parse(r.events as string) as BookEvent[],
      fillsBefore: r.fills_before as number,
    }))
    const [{ n }] = store.exec('SELECT COUNT(*) AS n FROM book_outbox')
    const journal = new BookJournal(store, bookModule())
    journal.open()
    return { commands, outbox: Number(n), restoredHash: journal.hash() }
  } finally {
    store.db.close()
  }
}

/** every fill of a log, numbered like the outbox (fill_seq), with the users of its orders */
function logFills(log: BookLog) {
  const user = new Map<number, number>()
  const fills: (Extract<BookEvent, { type: 'fill' }> & { fillSeq: number })[] = []
  for (const c of log.commands) {
    if (c.command.op === 'new') user.set(c.command.id, c.command.user)
    for (const e of c.events) {
      if (e.type === 'fill') fills.push({ fillSeq: fills.length + 1, ...e })
    }
  }
  return { fills, user }
}

/** Every check, in order. */
export async function runChecks(
  db: Db,
  seen: Observed,
  logs: Record<string, BookLog>,
): Promise<CheckResult[]> {
  return [
    { name: 'acked orders are in Postgres', violations: await ackedOrders(db, seen) },
    { name: 'fills exactly once', violations: await duplicatedFills(db) },
    {
      name: "Postgres' fills are the logs' fills",
      violations: await fillsVersusLogs(db, seen, logs),
    },
    { name: 'a fresh replay reproduces each book', violations: replays(seen, logs) },
    { name: 'orders agree with their books', violations: await ordersVersusBooks(db, seen, logs) },
    {
      name: 'balances are what the fills imply',
      violations: await balancesFromFills(db, seen, logs),
    },
    { name: 'reservations add up, none negative', violations: await reservations(db) },
    { name: 'audit chains verify', violations: auditChains(seen) },
    {
      name: 'invariants (conservation, reconciliation)',
      violations: (await checkInvariants(db)).map((v) => `${v.check}: ${JSON.stringify(v.detail)}`),
    },
  ]
}

/** Every 2xx-acked order in Postgres as acked, with its ack's fills; canceled ones canceled. */
async function ackedOrders(db: Db, seen: Observed): Promise<string[]> {
  const out: string[] = []
  const orders = new Map((await q(db, sql`SELECT * FROM orders`)).map((o) => [num(o.id), o]))
  const fills = new Map<string, Json[]>()
  const rows = await q(db, sql`SELECT symbol, seq, order_id, qty, price_cents, taker FROM fills`)
  for (const f of rows) {
    const key = `${f.symbol}:${f.seq}:${f.order_id}`
    fills.set(key, [...(fills.get(key) ?? []), f])
  }
  for (const [id, ack] of seen.acks) {
    const o = orders.get(id)
    if (!o) {
      out.push(`lost: order ${id} was acked but is not in Postgres`)
      continue
    }
    same(out, `order ${id}`, [num(o.user_id), o.symbol, o.side], [ack.user, ack.symbol, ack.side])
    // an amend cuts qty; one whose answer a fault cut off may have cut it too
    const qty = ack.qty - (seen.amends.get(id) ?? 0)
    if (seen.amends.has(id) ? num(o.qty) > qty : num(o.qty) !== qty) {
      const cut = seen.amends.get(id) ?? 0
      out.push(`order ${id}: qty ${o.qty}, acked ${ack.qty}, amends cut ${cut}`)
    }
    if (num(o.filled_qty) < ack.filled_qty) out.push(`order ${id}: filled_qty below its ack's`)
    for (const f of ack.fills) {
      const rows = fills.get(`${ack.symbol}:${f.fill_seq}:${id}`) ?? []
      same(
        out,
        `order ${id} fill ${f.fill_seq}`,
        rows.map((r) => [num(r.qty), formatCents(num(r.price_cents)), r.taker]),
        [[f.qty, f.price, f.liquidity === 'taker']],
      )
    }
  }
  for (const [id] of seen.cancels) {
    same(out, `canceled order ${id}`, orders.get(id)?.status, 'canceled')
  }
  return out
}

/** No fill applied twice to an order. */
async function duplicatedFills(db: Db): Promise<string[]> {
  const dup = await q(
    db,
    sql`SELECT symbol, seq, order_id, count(*) AS n FROM fills
        GROUP BY 1, 2, 3 HAVING count(*) > 1`,
  )
  return dup.map((d) => `duplicated: ${d.symbol} fill ${d.seq} of order ${d.order_id} ×${d.n}`)
}

async function fillsVersusLogs(db: Db, seen: Observed, logs: Record<string, BookLog>) {
  const out: string[] = []
  for (const symbol of seen.symbols) {
    const log = logs[symbol]
    if (!log) {
      out.push(`${symbol}: no object file`)
      continue
    }
    same(out, `${symbol} outbox`, log.outbox, 0)
    const { fills, user } = logFills(log)
    const expected = fills.flatMap((f) => {
      const other = f.side === 'buy' ? 'sell' : 'buy'
      return [
        [f.fillSeq, f.taker, f.maker, user.get(f.taker), f.side, true, f.qty, f.price],
        [f.fillSeq, f.maker, f.taker, user.get(f.maker), other, false, f.qty, f.price],
      ]
    })
    const rows = await q(
      db,
      sql`SELECT seq, order_id, counterparty_order_id, user_id, side, taker, qty, price_cents
          FROM fills WHERE symbol = ${symbol} ORDER BY seq, taker DESC`,
    )
    const got = rows.map((r) => [
      num(r.seq), num(r.order_id), num(r.counterparty_order_id), num(r.user_id), r.side, r.taker,
      num(r.qty), num(r.price_cents),
    ])
    const what = `${symbol} fills (seq, order, counterparty, user, side, taker, qty, price)`
    same(out, what, got, expected)
    same(out, `${symbol} fill count`, fills.length, seen.live[symbol].fillSeq)
  }
  return out
}

function replays(seen: Observed, logs: Record<string, BookLog>): string[] {
  const out: string[] = []
  for (const symbol of seen.symbols) {
    const log = logs[symbol]
    if (!log) continue // reported by fillsVersusLogs
    const book = newOrderBook()
    const checkpoints = new Map(seen.checkpoints[symbol]?.map((s) => [s.seq, s]))
    let fillSeq = 0
    for (const [i, c] of log.commands.entries()) {
      const what = `${symbol} command ${i + 1} (seq, fills before)`
      same(out, what, [c.seq, c.fillsBefore], [i + 1, fillSeq])
      same(out, `${symbol} command ${c.seq} events`, book.apply(c.command), c.events)
      fillSeq += c.events.filter((e) => e.type === 'fill').length
      const reported = checkpoints.get(c.seq)
      if (reported) {
        const what = `${symbol} at seq ${c.seq} (hash, fills)`
        same(out, what, [book.hash(), fillSeq], [reported.hash, reported.fillSeq])
        checkpoints.delete(c.seq)
      }
    }
    for (const [seq] of checkpoints) {
      if (seq > 0) out.push(`${symbol}: reported seq ${seq} not in its log`)
    }
    const live = seen.live[symbol]
    same(
      out,
      `${symbol} end of replay`,
      { seq: log.commands.length, fillSeq, hash: book.hash() },
      { seq: live.seq, fillSeq: live.fillSeq, hash: live.hash },
    )
    same(out, `${symbol} restored hash`, log.restoredHash, live.hash)
    const level = ([price, qty, n]: number[]) => [formatCents(price), qty, n]
    const { bids, asks } = book.depth(1000)
    same(
      out,
      `${symbol} depth`,
      { bids: seen.liveDepth[symbol].bids, asks: seen.liveDepth[symbol].asks },
      { bids: bids.map(level), asks: asks.map(level) },
    )
  }
  return out
}

/** Each order as Postgres has it against what its book's log says of it. */
async function ordersVersusBooks(db: Db, seen: Observed, logs: Record<string, BookLog>) {
  const out: string[] = []
  const book = new Map<number, { qty: number; filled: number; end?: string }>()
  for (const symbol of seen.symbols) {
    for (const c of logs[symbol]?.commands ?? []) {
      if (c.command.op === 'new') book.set(c.command.id, { qty: c.command.qty, filled: 0 })
      for (const e of c.events) {
        if (e.type === 'fill') {
          book.get(e.taker)!.filled += e.qty
          book.get(e.maker)!.filled += e.qty
        } else if (e.type === 'canceled') book.get(e.id)!.end = 'canceled'
        // an amend leaves qty open: the order is now its fills so far and that
        else if (e.type === 'amended') book.get(e.id)!.qty = book.get(e.id)!.filled + e.qty
        // a cancel of an order no longer in the book is rejected: the cancel, not the order
        else if (e.type === 'rejected' && c.op === 'new') book.get(e.id)!.end = 'rejected'
      }
    }
  }
  const orders = await q(
    db,
    sql`SELECT o.*, (SELECT coalesce(sum(qty), 0) FROM fills f WHERE f.order_id = o.id) AS fills_qty
        FROM orders o`,
  )
  same(out, 'orders in Postgres versus orders in the logs', orders.length, book.size)
  for (const o of orders) {
    const id = num(o.id)
    const b = book.get(id)
    if (!b) {
      out.push(`order ${id} (${o.status}) is in no book's log`)
      continue
    }
    const qty = num(o.qty)
    const filled = num(o.filled_qty)
    const status = b.end ?? (b.filled === b.qty ? 'filled' : b.filled > 0 ? 'partial' : 'open')
    const open = ['open', 'partial'].includes(o.status) ? qty - filled : 0
    const reservePrice = num(o.reserve_price_cents ?? o.price_cents)
    same(
      out,
      `order ${id} (status, qty, filled, fills, reserved cash, reserved qty)`,
      [o.status, qty, filled, num(o.fills_qty), num(o.reserved_cash_cents), num(o.reserved_qty)],
      [
        status,
        b.qty,
        b.filled,
        b.filled,
        o.side === 'buy' ? open * reservePrice : 0,
        o.side === 'sell' ? open : 0,
      ],
    )
  }
  return out
}

/** Cash and positions from the balances before the stream and the logged fills. */
async function balancesFromFills(db: Db, seen: Observed, logs: Record<string, BookLog>) {
  const out: string[] = []
  const cash = new Map(seen.before.cash)
  const pos = new Map([...seen.before.pos].map(([k, v]) => [k, { ...v }]))
  for (const symbol of seen.symbols) {
    if (!logs[symbol]) continue
    const { fills, user } = logFills(logs[symbol])
    for (const f of fills) {
      const [buyer, seller] = f.side === 'buy' ? [f.taker, f.maker] : [f.maker, f.taker]
      const b = user.get(buyer)!
      const s = user.get(seller)!
      const notional = f.qty * f.price
      cash.set(b, cash.get(b)! - notional)
      cash.set(s, cash.get(s)! + notional)
      // at average cost, as the drain applies it (src/orders/fills.ts)
      for (const [u, signed] of [[b, f.qty], [s, -f.qty]]) {
        const p = pos.get(`${u}:${symbol}`) ?? { qty: 0, cost: 0 }
        const next = traded({ qty: p.qty, costCents: p.cost }, signed, f.price)
        pos.set(`${u}:${symbol}`, { qty: next.qty, cost: next.costCents })
      }
    }
  }
  const after = await balances(db)
  same(out, 'cash by user', Object.fromEntries(after.cash), Object.fromEntries(cash))
  same(out, 'positions by user:symbol', Object.fromEntries(after.pos), Object.fromEntries(pos))
  const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0)
  same(out, 'total cash', sum(after.cash.values()), sum(seen.before.cash.values()))
  for (const symbol of seen.symbols) {
    const shares = (m: Balances['pos']) =>
      sum([...m].filter(([k]) => k.endsWith(`:${symbol}`)).map(([, p]) => p.qty))
    same(out, `total ${symbol} shares`, shares(after.pos), shares(seen.before.pos))
  }
  return out
}

/** Reserved cash and shares are what the active orders hold; retail balances are not negative. */
async function reservations(db: Db): Promise<string[]> {
  const out: string[] = []
  const users = await q(
    db,
    sql`SELECT u.id, u.cash_cents, u.reserved_cash_cents,
          (SELECT coalesce(sum(reserved_cash_cents), 0) FROM orders o
            WHERE o.user_id = u.id AND o.status IN ('pending', 'open', 'partial')) AS held
        FROM users u`,
  )
  for (const u of users) {
    same(out, `user ${u.id} reserved cash`, num(u.reserved_cash_cents), num(u.held))
    if (num(u.reserved_cash_cents) < 0 || num(u.cash_cents) < num(u.reserved_cash_cents)) {
      out.push(`user ${u.id}: cash ${u.cash_cents} below reserved ${u.reserved_cash_cents}`)
    }
  }
  const positions = await q(
    db,
    sql`SELECT p.user_id, p.symbol, p.qty, p.reserved_qty, p.cost_cents, u.role,
          (SELECT coalesce(sum(reserved_qty), 0) FROM orders o
            WHERE o.user_id = p.user_id AND o.symbol = p.symbol AND o.side = 'sell'
              AND o.status IN ('pending', 'open', 'partial')) AS held
        FROM positions p JOIN users u ON u.id = p.user_id`,
  )
  for (const p of positions) {
    const what = `user ${p.user_id} ${p.symbol}`
    same(out, `${what} reserved qty`, num(p.reserved_qty), num(p.held))
    if (num(p.reserved_qty) < 0) out.push(`${what}: reserved qty ${p.reserved_qty}`)
    // a market maker may be short (down to its short limit); nobody else
    if (p.role !== 'market_maker' && (num(p.qty) < num(p.reserved_qty) || num(p.cost_cents) < 0)) {
      out.push(`${what}: qty ${p.qty}, reserved ${p.reserved_qty}, cost ${p.cost_cents}`)
    }
  }
  return out
}

function auditChains(seen: Observed): string[] {
  return seen.auditChains.flatMap((chain, i) =>
    chain?.valid === true && chain.broken_at === null
      ? []
      : [`trader ${i}: ${JSON.stringify(chain)}`],
  )
}
