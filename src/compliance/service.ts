// The trade report from Postgres: the fills' two sides paired into executions, read a page at a
// time (keyset on execution time, symbol, fill sequence) and written out as the reader takes
// them, so a year of trades never sits in memory at once.
import { and, asc, eq, gte, isNull, lt, or, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Db } from '../db/client.ts'
import { instantKey } from '../db/instant.ts'
import { fills, routedOrders, users } from '../db/schema.ts'
import { tradeReportRecord } from './reports.ts'
import type { ExecutedTrade, ReportFormat, Role } from './reports.ts'

export const REPORT_PAGE_SIZE = 1000

/** Where a page ended: its last execution. */
export interface TradeCursor {
  /** exact execution time (instantKey) */
  at: string
  symbol: string
  seq: number
}

const sellSide = alias(fills, 'sell_side')
const buyer = alias(users, 'buyer')
const seller = alias(users, 'seller')
const bySymbol = sql`${fills.symbol} COLLATE "C"`

type TradeRow = {
  executedAt: Date
  symbol: string
  seq: number
  qty: number
  priceCents: number
  venue: string
  side: 'buy' | 'sell'
  orderId: number
  userId: number
  took: boolean
  role: Role
  otherOrderId: number | null
  otherUserId: number | null
  otherRole: Role | null
  nbboBidCents: number | null
  nbboAskCents: number | null
  routedQty: number | null
}

/** Our side and the other (null: the street, at a venue), as the buy and the sell side. */
function executedTrade(r: TradeRow): ExecutedTrade {
  const ours = { orderId: r.orderId, accountId: r.userId, role: r.role }
  const other = r.otherOrderId === null ? null : { orderId: r.otherOrderId, accountId: r.otherUserId!, role: r.otherRole! }
  const [buy, sell] = r.side === 'buy' ? [ours, other] : [other, ours]
  return {
    executedAt: r.executedAt,
    venue: r.venue,
    symbol: r.symbol,
    seq: r.seq,
    qty: r.qty,
    priceCents: r.priceCents,
    buy,
    sell,
    aggressor: r.took === (r.side === 'buy') ? 'buy' : 'sell',
    route: r.routedQty === null ? null : { nbboBidCents: r.nbboBidCents, nbboAskCents: r.nbboAskCents, routedQty: r.routedQty },
  }
}

/** Executions in [from, to) after `after`, oldest first, at most `limit`. */
export async function tradePage(
  db: Db,
  window: { from: Date; to: Date },
  after: TradeCursor | undefined,
  limit: number,
): Promise<{ trades: ExecutedTrade[]; last?: TradeCursor }> {
  const rows = await db
    .select({
      executedAt: fills.ts,
      at: instantKey(fills.ts),
      symbol: fills.symbol,
      seq: fills.seq,
      qty: fills.qty,
      priceCents: fills.priceCents,
      venue: fills.venue,
      side: fills.side,
      orderId: fills.orderId,
      userId: fills.userId,
      took: fills.taker,
      role: buyer.role,
      otherOrderId: sellSide.orderId,
      otherUserId: sellSide.userId,
      otherRole: seller.role,
      nbboBidCents: routedOrders.nbboBidCents,
      nbboAskCents: routedOrders.nbboAskCents,
      routedQty: routedOrders.qty,
    })
    .from(fills)
    .leftJoin(
      sellSide,
      and(
        eq(sellSide.symbol, fills.symbol),
        eq(sellSide.seq, fills.seq),
        eq(sellSide.orderId, fills.counterpartyOrderId),
      ),
    )
    .innerJoin(buyer, eq(buyer.id, fills.userId))
    .leftJoin(seller, eq(seller.id, sellSide.userId))
    .leftJoin(routedOrders, and(eq(routedOrders.orderId, fills.orderId), isNull(fills.counterpartyOrderId)))
    .where(
      and(
        // an execution once: our book's from its buy side, a venue's from our only side
        or(eq(fills.side, 'buy'), isNull(fills.counterpartyOrderId)),
        gte(fills.ts, window.from),
        lt(fills.ts, window.to),
        after &&
          sql`(${fills.ts}, ${bySymbol}, ${fills.seq}) > (${after.at}::timestamptz, ${after.symbol} COLLATE "C", ${after.seq})`,
      ),
    )
    .orderBy(asc(fills.ts), bySymbol, asc(fills.seq))
    .limit(limit)
  const trades = rows.map(executedTrade)
  const end = rows.at(-1)
  return { trades, last: end && { at: end.at, symbol: end.symbol, seq: end.seq } }
}

/**
 * The report as a stream of bytes, its first page already read (so a failing query is still a
 * proper error response). `done` runs once when the stream ends, fails or is canceled.
 */
export async function tradeReport(
  db: Db,
  window: { from: Date; to: Date },
  format: ReportFormat,
  done: () => Promise<void>,
  pageSize = REPORT_PAGE_SIZE,
): Promise<ReadableStream<Uint8Array>> {
  let finished = false
  const finish = async () => {
    if (finished) return
    finished = true
    await done()
  }
  const encoder = new TextEncoder()
  const lines = (trades: ExecutedTrade[]) => trades.map((t) => format.line(tradeReportRecord(t)))
  let page = await tradePage(db, window, undefined, pageSize).catch(async (err) => {
    await finish()
    throw err
  })
  let text = format.header + lines(page.trades).join('')
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (text) controller.enqueue(encoder.encode(text))
        if (page.trades.length < pageSize) {
          controller.close()
          await finish()
          return
        }
        page = await tradePage(db, window, page.last, pageSize)
        text = lines(page.trades).join('')
      } catch (err) {
        console.error('trade report failed while streaming', err)
        controller.error(err)
        await finish()
      }
    },
    cancel: finish,
  })
}
