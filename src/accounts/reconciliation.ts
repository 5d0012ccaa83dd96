// Daily position reconciliation: every balance and position recomputed from what caused it (the
// cash ledger, the fills, share transfers, open orders) and compared with the stored one, in one
// snapshot. A difference means a write path broke its invariant: it is counted, stored, alerted.
import { desc, sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { reconciliationRuns } from '../db/schema.ts'

/** What is stored, and what its causes add up to. */
export interface Recomputed {
  account: number
  symbol?: string
  field: 'cash' | 'reserved_cash' | 'qty' | 'reserved_qty'
  stored: number
  /** Σ of the cause, by cause: e.g. { ledger: …, orders: … } */
  expected: Record<string, number>
}

export interface Difference extends Recomputed {
  /** the causes that disagree with the stored value */
  sources: string[]
}

/** The rows whose stored value differs from any of its recomputations. */
export function differences(rows: Recomputed[]): Difference[] {
  return rows.flatMap((r) => {
    const sources = Object.entries(r.expected)
      .filter(([, value]) => value !== r.stored)
      .map(([source]) => source)
    return sources.length ? [{ ...r, sources }] : []
  })
}

const MAX_DETAILS = 100

interface AccountRow extends Record<string, unknown> {
  id: number
  cash: number
  reserved: number
  ledger_cash: number
  ledger_reserved: number
  orders_reserved: number
}

interface HoldingRow extends Record<string, unknown> {
  user_id: number
  symbol: string
  qty: number
  reserved_qty: number
  traded_qty: number
  transferred_qty: number
  orders_reserved_qty: number
}

/**
 * Cash and reserved cash against the ledger (each entry's deltas) and the orders' reservations;
 * positions against fills + transfers in, and reserved shares against the sell orders. One
 * repeatable-read snapshot, so a drain committing meanwhile is seen whole or not at all. Sums
 * arrive as numeric strings (cents and shares stay far below 2^53).
 */
async function recompute(db: Db): Promise<{ accounts: number; positions: number; rows: Recomputed[] }> {
  return db.transaction(
    async (tx) => {
      const accounts = await tx.execute<AccountRow>(sql`
        SELECT u.id, u.cash_cents AS cash, u.reserved_cash_cents AS reserved,
          coalesce(l.cash, 0) AS ledger_cash, coalesce(l.reserved, 0) AS ledger_reserved,
          coalesce(o.reserved, 0) AS orders_reserved
        FROM users u
        LEFT JOIN (SELECT user_id, sum(amount_cents) AS cash, sum(reserved_delta_cents) AS reserved
                   FROM cash_ledger GROUP BY user_id) l ON l.user_id = u.id
        LEFT JOIN (SELECT user_id, sum(reserved_cash_cents) AS reserved
                   FROM orders GROUP BY user_id) o ON o.user_id = u.id`)
      const holdings = await tx.execute<HoldingRow>(sql`
        WITH traded AS (
          SELECT user_id, symbol, sum(CASE side WHEN 'buy' THEN qty ELSE -qty END) AS qty
          FROM fills GROUP BY user_id, symbol),
        transferred AS (
          SELECT user_id, symbol, sum(qty) AS qty FROM cash_ledger
          WHERE kind = 'transfer_in' GROUP BY user_id, symbol),
        selling AS (
          SELECT user_id, symbol, sum(reserved_qty) AS qty FROM orders
          WHERE side = 'sell' GROUP BY user_id, symbol),
        keys AS (
          SELECT user_id, symbol FROM positions UNION SELECT user_id, symbol FROM traded
          UNION SELECT user_id, symbol FROM transferred UNION SELECT user_id, symbol FROM selling)
        SELECT k.user_id, k.symbol, coalesce(p.qty, 0) AS qty,
          coalesce(p.reserved_qty, 0) AS reserved_qty, coalesce(t.qty, 0) AS traded_qty,
          coalesce(x.qty, 0) AS transferred_qty, coalesce(s.qty, 0) AS orders_reserved_qty
        FROM keys k
        LEFT JOIN positions p ON p.user_id = k.user_id AND p.symbol = k.symbol
        LEFT JOIN traded t ON t.user_id = k.user_id AND t.symbol = k.symbol
        LEFT JOIN transferred x ON x.user_id = k.user_id AND x.symbol = k.symbol
        LEFT JOIN selling s ON s.user_id = k.user_id AND s.symbol = k.symbol`)
      const n = (v: unknown) => Number(v)
      const rows: Recomputed[] = [
        ...accounts.rows.flatMap((a): Recomputed[] => [
          { account: n(a.id), field: 'cash', stored: n(a.cash), expected: { ledger: n(a.ledger_cash) } },
          {
            account: n(a.id),
            field: 'reserved_cash',
            stored: n(a.reserved),
            expected: { ledger: n(a.ledger_reserved), orders: n(a.orders_reserved) },
          },
        ]),
        ...holdings.rows.flatMap((h): Recomputed[] => [
          {
            account: n(h.user_id),
            symbol: h.symbol,
            field: 'qty',
            stored: n(h.qty),
            expected: { fills_and_transfers: n(h.traded_qty) + n(h.transferred_qty) },
          },
          {
            account: n(h.user_id),
            symbol: h.symbol,
            field: 'reserved_qty',
            stored: n(h.reserved_qty),
            expected: { orders: n(h.orders_reserved_qty) },
          },
        ]),
      ]
      return { accounts: accounts.rows.length, positions: holdings.rows.length, rows }
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  )
}

export type ReconciliationRun = typeof reconciliationRuns.$inferSelect

/** Recomputes everything, stores the run (at most 100 differences in detail) and alerts. */
export async function reconcilePositions(db: Db, trigger: string): Promise<ReconciliationRun> {
  const { accounts, positions, rows } = await recompute(db)
  const found = differences(rows)
  const [run] = await db
    .insert(reconciliationRuns)
    .values({
      trigger,
      accounts,
      positions,
      differences: found.length,
      details: found.slice(0, MAX_DETAILS),
    })
    .returning()
  if (found.length) {
    const alert = { level: 'error', alert: 'position_reconciliation', run: run.id, differences: found.length }
    console.error(JSON.stringify(alert))
  }
  return run
}

export function recentRuns(db: Db, limit: number) {
  return db.select().from(reconciliationRuns).orderBy(desc(reconciliationRuns.id)).limit(limit)
}
