// The system of record for money and holdings (see ARCHITECTURE.md). Money is integer cents,
// quantities integer shares, ids bigint identities read as JS numbers (all < 2^53).
// Every change to cash or positions is one transaction that also appends to cash_ledger (money)
// and audit_log (hash chain per user). `drizzle-kit generate` turns this file into drizzle/*.sql.
import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'

const id = (name = 'id') => bigint(name, { mode: 'number' })
const cents = (name: string) => bigint(name, { mode: 'number' })
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()

/** retail accounts trade cash only; pro is the tier later issues give more (margin, data) */
export const accountTier = pgEnum('account_tier', ['retail', 'pro'])
/** admin: /v1/admin/*; market_maker: liquidity provider accounts (issue 4) */
export const userRole = pgEnum('user_role', ['trader', 'market_maker', 'admin'])

export const users = pgTable(
  'users',
  {
    id: id().primaryKey().generatedAlwaysAsIdentity(),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    /** cash owned, including the part reserved for open buy orders */
    cashCents: cents('cash_cents').notNull().default(0),
    /** cash held by open buy orders (issue 4); available = cash - reserved */
    reservedCashCents: cents('reserved_cash_cents').notNull().default(0),
    tier: accountTier('tier').notNull().default('retail'),
    role: userRole('role').notNull().default('trader'),
    /**
     * shares a market_maker may be short per symbol (0: none): positions.qty − reserved_qty never
     * goes below −short_limit_qty (the positions_short_limit trigger, drizzle/0006)
     */
    shortLimitQty: bigint('short_limit_qty', { mode: 'number' }).notNull().default(0),
    /** base32 TOTP secret; totp_enabled only once a code was confirmed */
    totpSecret: text('totp_secret'),
    totpEnabled: boolean('totp_enabled').notNull().default(false),
    /** last accepted TOTP time step: a code is accepted once (replay protection) */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    /** consecutive failed logins; at LOGIN_LOCK_THRESHOLD the account locks for a while */
    failedLogins: integer('failed_logins').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    /** head of the user's audit hash chain */
    auditSeq: bigint('audit_seq', { mode: 'number' }).notNull().default(0),
    auditHead: text('audit_head'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    // the matching engine keeps user ids in 31 bits (src/engine/types.ts)
    check('users_id_engine_range', sql`${t.id} < 2147483648`),
    check('users_email_lower', sql`${t.email} = lower(${t.email})`),
    check('users_cash_nonneg', sql`${t.cashCents} >= 0`),
    check(
      'users_short_limit',
      sql`${t.shortLimitQty} >= 0 AND (${t.shortLimitQty} = 0 OR ${t.role} = 'market_maker')`,
    ),
    check(
      'users_reserved_cash_range',
      sql`${t.reservedCashCents} >= 0 AND ${t.reservedCashCents} <= ${t.cashCents}`,
    ),
  ],
)

/**
 * Failed-attempt counters for throttling (per IP; src/auth/throttle.ts). A fixed window: the
 * count restarts when window_started_at is older than the window.
 */
export const authThrottle = pgTable('auth_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  windowStartedAt: timestamp('window_started_at', { withTimezone: true }).notNull().defaultNow(),
})

/** Refresh tokens: opaque, stored as SHA-256; rotated on use, a reused one revokes its family. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: id().primaryKey().generatedAlwaysAsIdentity(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    tokenHash: text('token_hash').notNull(),
    familyId: text('family_id').notNull(),
    /** the second factor was verified when this family was created (carried into access tokens) */
    mfa: boolean('mfa').notNull().default(false),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
  ],
)

/** active: tradable; halted: no new orders for now; delisted: gone for good */
export const symbolStatus = pgEnum('symbol_status', ['active', 'halted', 'delisted'])

export const symbols = pgTable(
  'symbols',
  {
    symbol: text('symbol').primaryKey(),
    name: text('name').notNull(),
    /** price tick in cents; engine prices are integer ticks */
    tickCents: integer('tick_cents').notNull().default(1),
    status: symbolStatus('status').notNull().default('active'),
    /** trades in extended hours (04:00-09:30 and 16:00-20:00 New York) as well as the session */
    extendedHours: boolean('extended_hours').notNull().default(false),
    /** last reference price (cents): values positions for equity, seeds the engine's bands */
    referencePriceCents: cents('reference_price_cents').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('symbols_symbol_format', sql`${t.symbol} ~ '^[A-Z][A-Z0-9.]{0,9}$'`),
    check('symbols_tick_pos', sql`${t.tickCents} > 0`),
    check('symbols_reference_price_pos', sql`${t.referencePriceCents} > 0`),
  ],
)

export const ledgerKind = pgEnum('ledger_kind', [
  'deposit',
  'withdrawal',
  'reserve',
  'release',
  'trade',
  'fee',
  'adjustment',
  'transfer_in',
])

/**
 * Every change to a user's cash or reserved cash, with the balances after it.
 * cash_after/reserved_after make the ledger self-checking: replaying the deltas in id order per
 * user must reproduce them, and the last row must equal users.cash_cents/reserved_cash_cents.
 */
export const cashLedger = pgTable(
  'cash_ledger',
  {
    id: id().primaryKey().generatedAlwaysAsIdentity(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    kind: ledgerKind('kind').notNull(),
    /** signed change of cash_cents */
    amountCents: cents('amount_cents').notNull(),
    /** signed change of reserved_cash_cents */
    reservedDeltaCents: cents('reserved_delta_cents').notNull().default(0),
    cashAfterCents: cents('cash_after_cents').notNull(),
    reservedAfterCents: cents('reserved_after_cents').notNull(),
    /** what caused it: 'order' / 'fill' ids from issue 4, null for deposits and withdrawals */
    refType: text('ref_type'),
    refId: text('ref_id'),
    /** the client's Idempotency-Key: a retried request finds its first entry */
    idempotencyKey: text('idempotency_key'),
    /** transfer_in of shares: the symbol and quantity received (amount 0: no cash moves) */
    symbol: text('symbol').references(() => symbols.symbol),
    qty: bigint('qty', { mode: 'number' }),
    createdAt: createdAt(),
  },
  (t) => [
    index('cash_ledger_user_idx').on(t.userId, t.id),
    // the activity feed's cash movements, newest first. Not partial on kind: a migration run
    // in one transaction with the one that added 'transfer_in' could not name it.
    index('cash_ledger_user_time_idx').on(t.userId, t.createdAt, t.id),
    check(
      'cash_ledger_shares',
      sql`(${t.symbol} IS NULL) = (${t.qty} IS NULL) AND (${t.qty} IS NULL OR ${t.qty} > 0)`,
    ),
    uniqueIndex('cash_ledger_idem_key')
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
  ],
)

export const positions = pgTable(
  'positions',
  {
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    symbol: text('symbol')
      .notNull()
      .references(() => symbols.symbol),
    /** shares held; negative only for a market maker's short position (users.short_limit_qty) */
    qty: bigint('qty', { mode: 'number' }).notNull().default(0),
    /** shares held by open sell orders (issue 4); available = qty - reserved_qty */
    reservedQty: bigint('reserved_qty', { mode: 'number' }).notNull().default(0),
    /** total cost of the shares held, in cents (short: negative, the proceeds) */
    costCents: cents('cost_cents').notNull().default(0),
    /** average cost basis per share, cents (rounded), derived by Postgres; null when flat */
    avgCostCents: cents('avg_cost_cents').generatedAlwaysAs(
      sql`CASE WHEN qty <> 0 THEN round(cost_cents::numeric / qty)::bigint END`,
    ),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.symbol] }),
    // qty − reserved_qty ≥ −users.short_limit_qty: the positions_short_limit trigger
    check('positions_reserved_nonneg', sql`${t.reservedQty} >= 0`),
  ],
)

export const orderSide = pgEnum('order_side', ['buy', 'sell'])
export const orderType = pgEnum('order_type', ['limit', 'market', 'stop', 'stop_limit'])
export const orderTif = pgEnum('order_tif', ['GTC', 'DAY', 'IOC', 'FOK'])
export const orderStatus = pgEnum('order_status', [
  'pending',
  'open',
  'partial',
  'filled',
  'canceled',
  'rejected',
  'expired',
])

/** Orders (issue 4). id is the engine's order id. */
/** An order request's terms, prices in cents (orders.request). */
export interface OrderRequest {
  symbol: string
  side: 'buy' | 'sell'
  type: 'limit' | 'market' | 'stop' | 'stop_limit'
  qty: number
  price_cents: number | null
  stop_price_cents: number | null
  time_in_force: 'day' | 'gtc' | 'ioc' | 'fok'
  post_only: boolean
  client_order_id: string | null
}

export const orders = pgTable(
  'orders',
  {
    id: id().primaryKey().generatedAlwaysAsIdentity(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    symbol: text('symbol')
      .notNull()
      .references(() => symbols.symbol),
    side: orderSide('side').notNull(),
    type: orderType('type').notNull(),
    timeInForce: orderTif('time_in_force').notNull(),
    postOnly: boolean('post_only').notNull().default(false),
    qty: bigint('qty', { mode: 'number' }).notNull(),
    priceCents: cents('price_cents'),
    stopPriceCents: cents('stop_price_cents'),
    /**
     * buy orders: the per-share price their cash reservation was made at (the limit price, or
     * the collar of a market/stop order); null means price_cents. A fill releases qty × this
     * (src/orders/fills.ts), so a fill at a better price frees the difference.
     */
    reservePriceCents: cents('reserve_price_cents'),
    status: orderStatus('status').notNull().default('pending'),
    filledQty: bigint('filled_qty', { mode: 'number' }).notNull().default(0),
    /** volume-weighted average fill price in cents (rounded), null before the first fill */
    avgPriceCents: cents('avg_price_cents'),
    /** what this order still holds: cash for buys, shares for sells */
    reservedCashCents: cents('reserved_cash_cents').notNull().default(0),
    reservedQty: bigint('reserved_qty', { mode: 'number' }).notNull().default(0),
    reason: text('reason'),
    clientOrderId: text('client_order_id'),
    idempotencyKey: text('idempotency_key'),
    /**
     * the request as the client sent it, normalized: what a repeated key must match, and what the
     * replay answers with (qty may be reduced since); null for orders placed before it was kept
     */
    request: jsonb('request').$type<OrderRequest>(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** when the order became completely filled */
    filledAt: timestamp('filled_at', { withTimezone: true }),
  },
  (t) => [
    index('orders_user_idx').on(t.userId, t.id),
    index('orders_open_idx')
      .on(t.symbol, t.status)
      .where(sql`${t.status} IN ('pending', 'open', 'partial')`),
    uniqueIndex('orders_client_order_id_key')
      .on(t.userId, t.clientOrderId)
      .where(sql`${t.clientOrderId} IS NOT NULL`),
    uniqueIndex('orders_idem_key')
      .on(t.userId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
    check('orders_qty_pos', sql`${t.qty} > 0`),
    check('orders_filled_range', sql`${t.filledQty} >= 0 AND ${t.filledQty} <= ${t.qty}`),
    check('orders_reserved_nonneg', sql`${t.reservedCashCents} >= 0 AND ${t.reservedQty} >= 0`),
    check(
      'orders_reserve_price_pos',
      sql`${t.reservePriceCents} IS NULL OR ${t.reservePriceCents} > 0`,
    ),
  ],
)

/**
 * Fills (issue 4): one row per order side of an engine match, so each user sees their own
 * executions. (symbol, seq) names the engine event (the symbol DO's fill sequence); the unique
 * key on (symbol, seq, order_id) makes applying the same event twice a no-op.
 */
export const fills = pgTable(
  'fills',
  {
    id: id().primaryKey().generatedAlwaysAsIdentity(),
    orderId: id('order_id')
      .notNull()
      .references(() => orders.id),
    /** the other side's order; null for a fill at an external venue (the street's side) */
    counterpartyOrderId: id('counterparty_order_id').references(() => orders.id),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    symbol: text('symbol')
      .notNull()
      .references(() => symbols.symbol),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    side: orderSide('side').notNull(),
    /** this order took liquidity (false: it was the resting maker) */
    taker: boolean('taker').notNull(),
    qty: bigint('qty', { mode: 'number' }).notNull(),
    priceCents: cents('price_cents').notNull(),
    ts: timestamp('ts', { withTimezone: true }).notNull(),
    /**
     * the trade date whose clearing submission took this fill (src/settlement/service.ts); null
     * until then. A fill that arrives after its date's submission goes in the next one.
     */
    clearingDate: date('clearing_date', { mode: 'string' }),
    /** where it executed: BOURSE (our book) or the external venue a routed order went to */
    venue: text('venue').notNull().default('BOURSE'),
    /** the venue's ExecID (external fills only) */
    execId: text('exec_id'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('fills_event_key').on(t.symbol, t.seq, t.orderId),
    // a venue's ExecID is unique per order there (FIX), not across orders
    uniqueIndex('fills_venue_order_exec_key')
      .on(t.venue, t.orderId, t.execId)
      .where(sql`${t.execId} IS NOT NULL`),
    check(
      'fills_venue_side',
      sql`(${t.execId} IS NULL) = (${t.counterpartyOrderId} IS NOT NULL) AND (${t.execId} IS NULL) = (${t.venue} = 'BOURSE')`,
    ),
    index('fills_order_idx').on(t.orderId),
    index('fills_user_idx').on(t.userId, t.id),
    // the activity feed and statements: a user's fills by time
    index('fills_user_ts_idx').on(t.userId, t.ts, t.id),
    index('fills_ts_idx').on(t.ts),
    index('fills_unsubmitted_idx')
      .on(t.userId)
      .where(sql`${t.clearingDate} IS NULL`),
    check('fills_qty_pos', sql`${t.qty} > 0`),
    check('fills_price_pos', sql`${t.priceCents} > 0`),
  ],
)

export const orderEventType = pgEnum('order_event_type', [
  'canceled',
  'expired',
  'amended',
  'rejected',
])

/**
 * What a symbol's book did to an order besides filling it, as applied to Postgres (issue 4): one
 * row per book event, keyed like fills by the book's command sequence, so that the gateway (at
 * once) and the outbox drain (later, or after a crash) apply each exactly once.
 */
export const orderEvents = pgTable(
  'order_events',
  {
    symbol: text('symbol')
      .notNull()
      .references(() => symbols.symbol),
    /** the book command's sequence number */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    orderId: id('order_id')
      .notNull()
      .references(() => orders.id),
    type: orderEventType('type').notNull(),
    /** canceled/expired: the open quantity that ended; amended: the new open quantity */
    qty: bigint('qty', { mode: 'number' }),
    /** shares released (cut, canceled or rejected) */
    releasedQty: bigint('released_qty', { mode: 'number' }).notNull(),
    reason: text('reason'),
    ts: timestamp('ts', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.symbol, t.seq, t.orderId] })],
)

/**
 * Best execution (issue 7): for every order routed to a venue, the NBBO when the route was
 * decided and where it went. Its fills there are `fills` with that venue; price improvement or
 * slippage is each fill's price against the NBBO side it took (the trade report shows both).
 */
export const routedOrders = pgTable(
  'routed_orders',
  {
    orderId: id('order_id')
      .primaryKey()
      .references(() => orders.id),
    symbol: text('symbol')
      .notNull()
      .references(() => symbols.symbol),
    venue: text('venue').notNull(),
    clOrdId: text('cl_ord_id').notNull(),
    /** shares sent to the venue (what the internal leg left), at the order's own limit */
    qty: bigint('qty', { mode: 'number' }).notNull(),
    limitCents: cents('limit_cents').notNull(),
    nbboBidCents: cents('nbbo_bid_cents'),
    nbboBidVenue: text('nbbo_bid_venue'),
    nbboAskCents: cents('nbbo_ask_cents'),
    nbboAskVenue: text('nbbo_ask_venue'),
    /** when the route was decided (the book's time) */
    decidedAt: timestamp('decided_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('routed_orders_qty_pos', sql`${t.qty} > 0`)],
)

/**
 * Append-only audit trail, one hash chain per user: hash = SHA-256 over the entry and the
 * previous entry's hash (src/audit/chain.ts). Appending locks the user's row, the same lock
 * every money change takes, so chains never fork and users never contend with each other.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id().primaryKey().generatedAlwaysAsIdentity(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    action: text('action').notNull(),
    data: jsonb('data').notNull(),
    prevHash: text('prev_hash'),
    hash: text('hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [uniqueIndex('audit_log_user_seq_key').on(t.userId, t.seq)],
)

/**
 * End-of-day runs (src/settlement/eod.ts), one per trade date: written once every symbol's book
 * has closed the day, so a second run for the date does nothing.
 */
export const eodRuns = pgTable('eod_runs', {
  tradeDate: date('trade_date', { mode: 'string' }).primaryKey(),
  /** books closed, and DAY orders they expired */
  symbols: integer('symbols').notNull(),
  expired: integer('expired').notNull(),
  /** when the run completed */
  createdAt: createdAt(),
})

/**
 * The clearing submission of each trade date (src/settlement/clearing.ts): written once, then
 * served as it is (the file the clearinghouse got must never change under it).
 */
export const clearingSubmissions = pgTable('clearing_submissions', {
  tradeDate: date('trade_date', { mode: 'string' }).primaryKey(),
  settleDate: date('settle_date', { mode: 'string' }).notNull(),
  rows: integer('rows').notNull(),
  controlQty: bigint('control_qty', { mode: 'number' }).notNull(),
  controlCents: cents('control_cents').notNull(),
  checksum: text('checksum').notNull(),
  csv: text('csv').notNull(),
  createdAt: createdAt(),
})

export const obligationStatus = pgEnum('obligation_status', [
  'pending',
  'settled',
  'disputed',
  /** a discrepancy an admin closed: handled outside, its proceeds no longer held */
  'closed',
])

/**
 * What each account owes or is owed for a trade date, per symbol: the submission's lines (flat
 * ones too, which the file leaves out), written with it. `proceeds_cents`, the gross sale
 * proceeds, stay unsettled cash until the clearinghouse confirms the line (status `settled`).
 */
export const settlementObligations = pgTable(
  'settlement_obligations',
  {
    tradeDate: date('trade_date', { mode: 'string' })
      .notNull()
      .references(() => clearingSubmissions.tradeDate),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    symbol: text('symbol')
      .notNull()
      .references(() => symbols.symbol),
    settleDate: date('settle_date', { mode: 'string' }).notNull(),
    /** net shares: + received, − delivered */
    qty: bigint('qty', { mode: 'number' }).notNull(),
    /** net cash: + collected, − paid */
    cashCents: cents('cash_cents').notNull(),
    proceedsCents: cents('proceeds_cents').notNull(),
    status: obligationStatus('status').notNull().default('pending'),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.tradeDate, t.userId, t.symbol] }),
    index('settlement_obligations_open_idx')
      .on(t.userId)
      .where(sql`${t.status} <> 'settled'`),
    index('settlement_obligations_settled_idx')
      .on(t.userId, t.settledAt)
      .where(sql`${t.status} = 'settled'`),
  ],
)

/** The clearinghouse's confirmation file of a trade date, as received, and what it settled. */
export const settlementConfirmations = pgTable('settlement_confirmations', {
  tradeDate: date('trade_date', { mode: 'string' })
    .primaryKey()
    .references(() => clearingSubmissions.tradeDate),
  checksum: text('checksum').notNull(),
  csv: text('csv').notNull(),
  settled: integer('settled').notNull(),
  discrepancies: integer('discrepancies').notNull(),
  receivedBy: id('received_by')
    .notNull()
    .references(() => users.id),
  createdAt: createdAt(),
})

export const discrepancyKind = pgEnum('discrepancy_kind', [
  'missing',
  'extra',
  'qty_mismatch',
  'amount_mismatch',
  'settle_date_mismatch',
])
export const discrepancyResolution = pgEnum('discrepancy_resolution', ['settled', 'closed'])

/**
 * The review queue: every line where the confirmation and our obligation differ. Only an admin
 * resolves one (never the code), and the resolution is kept with who and when.
 */
export const settlementDiscrepancies = pgTable(
  'settlement_discrepancies',
  {
    id: id().primaryKey().generatedAlwaysAsIdentity(),
    tradeDate: date('trade_date', { mode: 'string' })
      .notNull()
      .references(() => settlementConfirmations.tradeDate),
    /** the account and symbol as the line names them (an extra line may name anything) */
    account: text('account').notNull(),
    symbol: text('symbol').notNull(),
    kind: discrepancyKind('kind').notNull(),
    /** ours (null for an extra line) and theirs (null for a missing one) */
    expected: jsonb('expected'),
    confirmed: jsonb('confirmed'),
    resolution: discrepancyResolution('resolution'),
    note: text('note'),
    resolvedBy: id('resolved_by').references(() => users.id),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('settlement_discrepancies_line_key').on(t.tradeDate, t.account, t.symbol),
    index('settlement_discrepancies_open_idx')
      .on(t.id)
      .where(sql`${t.resolution} IS NULL`),
  ],
)

/**
 * Daily position reconciliation runs: balances and positions recomputed from the ledger, the
 * fills and the open orders, compared with the stored ones (src/accounts/reconciliation.ts).
 */
export const reconciliationRuns = pgTable('reconciliation_runs', {
  id: id().primaryKey().generatedAlwaysAsIdentity(),
  /** what started it: 'cron' or 'admin:<user id>' */
  trigger: text('trigger').notNull(),
  accounts: integer('accounts').notNull(),
  positions: integer('positions').notNull(),
  differences: integer('differences').notNull(),
  /** the differences found (at most 100) */
  details: jsonb('details').notNull(),
  createdAt: createdAt(),
})
