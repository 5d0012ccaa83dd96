// The whole-system checks the chaos harness (issue 9) and the tests run against Postgres, each
// in one snapshot, as the most trusted systems do (exchange-core's zero-sum report, TigerBeetle's debits
// = credits, Jepsen's bank checker):
//  - money: total cash equals what came in less what went out (deposits, withdrawals, fees,
//    adjustments; trades between our accounts move cash, never create it; a venue's fills move
//    it in or out at their price);
//  - shares: each symbol's total equals what was transferred in, plus what venues delivered;
//  - nobody retail is negative in cash or shares;
//  - every stored balance and position equals its recomputation (src/accounts/reconciliation.ts).
import { sql } from 'drizzle-orm'
import { reconcilePositions } from '../../src/accounts/reconciliation.ts'
import type { Difference } from '../../src/accounts/reconciliation.ts'
import type { Db, Tx } from '../../src/db/client.ts'

export interface Violation {
  check: 'cash_conservation' | 'share_conservation' | 'negative_balance' | 'reconciliation'
  detail: Record<string, unknown>
}

/** The violations found (none: the system holds), each with what it saw. */
export async function checkInvariants(db: Db): Promise<Violation[]> {
  const violations = await db.transaction((tx) => balances(tx), {
    isolationLevel: 'repeatable read',
    accessMode: 'read only',
  })
  const run = await reconcilePositions(db, 'invariants')
  for (const d of run.details as Difference[]) {
    violations.push({ check: 'reconciliation', detail: { ...d } })
  }
  return violations
}

/** Conservation of money and shares, and no negative balance, in the transaction's snapshot. */
async function balances(db: Tx): Promise<Violation[]> {
  const violations: Violation[] = []
  const [money] = await db.execute<{ cash: string; external: string }>(sql`
    SELECT (SELECT coalesce(sum(cash_cents), 0) FROM users) AS cash,
      (SELECT coalesce(sum(amount_cents), 0) FROM cash_ledger
        WHERE kind IN ('deposit', 'withdrawal', 'fee', 'adjustment'))
      + (SELECT coalesce(sum(CASE side WHEN 'sell' THEN qty * price_cents ELSE -qty * price_cents END), 0)
         FROM fills WHERE counterparty_order_id IS NULL) AS external`).then((r) => r.rows)
  if (money.cash !== money.external) {
    violations.push({ check: 'cash_conservation', detail: { cash: money.cash, expected: money.external } })
  }
  const shares = await db.execute<{ symbol: string; held: string; expected: string }>(sql`
    WITH held AS (SELECT symbol, sum(qty) AS qty FROM positions GROUP BY symbol),
    moved_in AS (SELECT symbol, sum(qty) AS qty FROM cash_ledger WHERE kind = 'transfer_in' GROUP BY symbol),
    street AS (SELECT symbol, sum(CASE side WHEN 'buy' THEN qty ELSE -qty END) AS qty
               FROM fills WHERE counterparty_order_id IS NULL GROUP BY symbol),
    symbols AS (SELECT symbol FROM held UNION SELECT symbol FROM moved_in UNION SELECT symbol FROM street)
    SELECT s.symbol, coalesce(h.qty, 0) AS held, coalesce(m.qty, 0) + coalesce(x.qty, 0) AS expected
    FROM symbols s LEFT JOIN held h USING (symbol) LEFT JOIN moved_in m USING (symbol)
      LEFT JOIN street x USING (symbol)
    WHERE coalesce(h.qty, 0) <> coalesce(m.qty, 0) + coalesce(x.qty, 0)`)
  for (const r of shares.rows) violations.push({ check: 'share_conservation', detail: r })
  const negative = await db.execute<{ user_id: string; what: string; value: string }>(sql`
    SELECT id AS user_id, 'cash' AS what, cash_cents AS value FROM users
      WHERE cash_cents < 0 OR reserved_cash_cents < 0 OR reserved_cash_cents > cash_cents
    UNION ALL
    SELECT p.user_id, p.symbol, p.qty FROM positions p JOIN users u ON u.id = p.user_id
      WHERE u.role <> 'market_maker' AND (p.qty < 0 OR p.reserved_qty > p.qty)`)
  for (const r of negative.rows) violations.push({ check: 'negative_balance', detail: r })
  return violations
}
