// A user's activity, pure: fills, the cash movements a customer recognises and settlements, in
// one order (newest first), the opaque cursor that pages through it, their API shape, and the
// monthly statement built from them.
import { INSTANT_KEY } from '../db/instant.ts'
import { csvLine } from '../lib/csv.ts'
import type { CsvValue } from '../lib/csv.ts'
import { formatCents } from '../lib/money.ts'
import { addDays, nyInstant } from '../settlement/calendar.ts'

export const ACTIVITY_TYPES = ['fill', 'cash', 'settlement'] as const
export type ActivityType = (typeof ACTIVITY_TYPES)[number]

/**
 * The ledger kinds shown as cash activity. Not `reserve`/`release` (holds of open orders, which
 * move no cash) nor `trade` (the fills themselves, shown as fills).
 */
export const CASH_ACTIVITY_KINDS = [
  'deposit',
  'withdrawal',
  'transfer_in',
  'fee',
  'adjustment',
] as const
export type CashActivityKind = (typeof CASH_ACTIVITY_KINDS)[number]

/** Where an activity sits in the feed: its exact instant (instantKey), type and own key. */
export interface FeedPosition {
  at: string
  type: ActivityType
  /** fill and cash: the row's id; settlement: `<trade date>:<symbol>` */
  ref: string
}

interface Timed {
  time: Date
  /** `time` to the microsecond, as Postgres has it */
  at: string
}

export type Activity =
  | (Timed & {
      type: 'fill'
      fillId: number
      symbol: string
      seq: number
      side: 'buy' | 'sell'
      qty: number
      priceCents: number
      orderId: number
      taker: boolean
    })
  | (Timed & {
      type: 'cash'
      ledgerId: number
      kind: CashActivityKind
      amountCents: number
      symbol: string | null
      qty: number | null
    })
  | (Timed & {
      type: 'settlement'
      tradeDate: string
      settleDate: string
      symbol: string
      /** net shares: + received, − delivered */
      qty: number
      /** net cash: + collected, − paid */
      cashCents: number
      proceedsCents: number
    })

export function positionOf(a: Activity): FeedPosition {
  switch (a.type) {
    case 'fill':
      return { at: a.at, type: a.type, ref: String(a.fillId) }
    case 'cash':
      return { at: a.at, type: a.type, ref: String(a.ledgerId) }
    case 'settlement':
      return { at: a.at, type: a.type, ref: `${a.tradeDate}:${a.symbol}` }
  }
}

/** At one instant fills come before cash, cash before settlements (in time order). */
const TYPE_RANK: Record<ActivityType, number> = { fill: 0, cash: 1, settlement: 2 }

const cmp = <T>(a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0)

/** Time order (oldest first): instant, then type, then the row's key. */
export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  return (
    cmp(a.at, b.at) ||
    TYPE_RANK[a.type] - TYPE_RANK[b.type] ||
    (a.type === 'settlement' ? cmp(a.ref, b.ref) : Number(a.ref) - Number(b.ref))
  )
}

/**
 * How a source of type `source` is cut at a cursor, in a newest-first feed: the cursor's own
 * type continues below its key at the same instant; a type ranked before it keeps that instant
 * too, one ranked after it starts below it.
 */
export function cutAt(source: ActivityType, cursor: FeedPosition): 'same_type' | 'at_or_before' | 'before' {
  const d = TYPE_RANK[source] - TYPE_RANK[cursor.type]
  return d === 0 ? 'same_type' : d < 0 ? 'at_or_before' : 'before'
}

/** The sources' activities merged, newest first. */
export const newestFirst = (sources: Activity[][]) =>
  sources.flat().sort((a, b) => comparePositions(positionOf(b), positionOf(a)))

/**
 * One page of the feed from each source's newest `limit + 1` activities after the cursor: the
 * newest `limit` of them all, and whether any is left (then the last one is the next cursor).
 */
export function feedPage(sources: Activity[][], limit: number) {
  const all = newestFirst(sources)
  const page = all.slice(0, limit)
  const next = all.length > limit ? encodeCursor(positionOf(page[page.length - 1])) : null
  return { activities: page, next_cursor: next }
}

const toBase64Url = (s: string) =>
  btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')

export const encodeCursor = (p: FeedPosition) => toBase64Url(`${p.at}|${p.type}|${p.ref}`)

const REF = {
  fill: /^[1-9]\d{0,15}$/,
  cash: /^[1-9]\d{0,15}$/,
  settlement: /^\d{4}-\d\d-\d\d:[A-Z][A-Z0-9.]{0,9}$/,
}

/** The position a cursor names, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): FeedPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined
  let text: string
  try {
    text = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'))
  } catch {
    return undefined
  }
  const [at, type, ref, ...rest] = text.split('|')
  if (rest.length > 0 || !INSTANT_KEY.test(at ?? '')) return undefined
  if (!(ACTIVITY_TYPES as readonly string[]).includes(type)) return undefined
  if (!REF[type as ActivityType].test(ref ?? '')) return undefined
  return { at, type: type as ActivityType, ref }
}

/** An activity as the API shows it: a fill's or a cash movement's `amount` is the cash it moved. */
export function activityView(a: Activity) {
  const time = a.time.toISOString()
  switch (a.type) {
    case 'fill':
      return {
        id: `fill_${a.fillId}`,
        type: a.type,
        time,
        symbol: a.symbol,
        side: a.side,
        qty: a.qty,
        price: formatCents(a.priceCents),
        amount: formatCents(fillAmountCents(a)),
        order_id: a.orderId,
        trade_id: `${a.symbol}-${a.seq}`,
        liquidity: a.taker ? 'taker' : 'maker',
      }
    case 'cash':
      return {
        id: `cash_${a.ledgerId}`,
        type: a.type,
        time,
        kind: a.kind,
        amount: formatCents(a.amountCents),
        symbol: a.symbol,
        qty: a.qty,
      }
    case 'settlement':
      return {
        id: `settlement_${a.tradeDate}_${a.symbol}`,
        type: a.type,
        time,
        symbol: a.symbol,
        trade_date: a.tradeDate,
        settle_date: a.settleDate,
        qty: a.qty,
        /** the net cash it settled: moved at execution, by the fills (no `amount`) */
        settled_amount: formatCents(a.cashCents),
        proceeds: formatCents(a.proceedsCents),
      }
  }
}

/** A fill's cash: a buy pays qty × price, a sell collects it. */
export const fillAmountCents = (f: { side: 'buy' | 'sell'; qty: number; priceCents: number }) =>
  (f.side === 'buy' ? -1 : 1) * f.qty * f.priceCents

/** The cash an activity moved. A settlement moves none: its trades' cash moved at execution. */
export function cashMovedCents(a: Activity): number {
  if (a.type === 'fill') return fillAmountCents(a)
  if (a.type === 'cash') return a.amountCents
  return 0
}

/** A statement's month, `YYYY-MM`: from its first New York midnight to the next month's. */
export function monthWindow(month: string): { start: Date; end: Date } {
  const first = `${month}-01`
  const next = addDays(first, 32).slice(0, 7)
  return { start: nyInstant(first, 0), end: nyInstant(`${next}-01`, 0) }
}

/**
 * Shares held at an instant, from what is held now and the share movements since then (fills:
 * + bought, − sold; transfers in: +), undone one by one. Symbols held at that instant only,
 * by symbol.
 */
export function holdingsAt(
  current: { symbol: string; qty: number }[],
  since: { symbol: string; qty: number }[],
): { symbol: string; qty: number }[] {
  const held = new Map(current.map((p) => [p.symbol, p.qty]))
  for (const m of since) held.set(m.symbol, (held.get(m.symbol) ?? 0) - m.qty)
  return [...held]
    .filter(([, qty]) => qty !== 0)
    .sort(([a], [b]) => cmp(a, b))
    .map(([symbol, qty]) => ({ symbol, qty }))
}

export const STATEMENT_COLUMNS = [
  'record',
  'time',
  'activity_id',
  'type',
  'kind',
  'symbol',
  'side',
  'qty',
  'price',
  'amount',
  'order_id',
  'trade_id',
  'trade_date',
  'settle_date',
  'settled_amount',
  'cash',
] as const

type StatementRow = Partial<Record<(typeof STATEMENT_COLUMNS)[number], CsvValue>>

export interface Statement {
  month: string
  start: Date
  /** the month's end, or now while it lasts */
  asOf: Date
  openingCashCents: number
  closingCashCents: number
  /** oldest first */
  activities: Activity[]
  holdings: { symbol: string; qty: number }[]
}

function statementRow(a: Activity): StatementRow {
  const v = activityView(a)
  const base = { record: 'activity', time: v.time, activity_id: v.id, type: v.type }
  switch (v.type) {
    case 'fill':
      return {
        ...base,
        kind: v.liquidity,
        symbol: v.symbol,
        side: v.side,
        qty: v.qty,
        price: v.price,
        amount: v.amount,
        order_id: v.order_id,
        trade_id: v.trade_id,
      }
    case 'cash':
      return { ...base, kind: v.kind, symbol: v.symbol, qty: v.qty, amount: v.amount }
    case 'settlement':
      return {
        ...base,
        kind: 'settled',
        symbol: v.symbol,
        qty: v.qty,
        trade_date: v.trade_date,
        settle_date: v.settle_date,
        settled_amount: v.settled_amount,
      }
  }
}

/**
 * The statement as CSV: a header, the opening cash, every activity of the month (oldest first),
 * the closing cash and the shares held at the end. The `amount`s are the cash each activity
 * moved, so opening + Σ amount = closing.
 */
export function statementCsv(s: Statement): string {
  const rows: StatementRow[] = [
    { record: 'opening_cash', time: s.start.toISOString(), cash: formatCents(s.openingCashCents) },
    ...s.activities.map(statementRow),
    { record: 'closing_cash', time: s.asOf.toISOString(), cash: formatCents(s.closingCashCents) },
    ...s.holdings.map((h) => ({
      record: 'position',
      time: s.asOf.toISOString(),
      symbol: h.symbol,
      qty: h.qty,
    })),
  ]
  return [STATEMENT_COLUMNS, ...rows.map((r) => STATEMENT_COLUMNS.map((c) => r[c]))]
    .map(csvLine)
    .join('')
}
