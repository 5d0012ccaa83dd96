// What the public API sends and takes, named for clients. Every shape is the server's own: the
// zod schemas its validators check and the view functions its routes answer with, imported as
// types only (nothing of the server reaches a bundle), so a change on the server shows up here
// as a type error in its clients.
import type { z } from 'zod'
import type { accountView, ledgerView, positionView, symbolView } from '../accounts/routes.ts'
import type { shareTransferBody } from '../accounts/schema.ts'
import type { passwordChangeBody } from '../auth/schema.ts'
import type { QuoteRecord } from '../marketdata/quotes.ts'
import type { activityView } from '../accounts/activities.ts'
import type { AccountEvent } from '../accounts/stream.ts'
import type { TokenPair } from '../auth/service.ts'
import type { problemBody } from '../errors.ts'
import type { OrderBody } from '../orders/schema.ts'
import type { ackView, orderView } from '../orders/views.ts'
import type { ReadCheckMessage } from '../marketdata/protocol.ts'

export type { OrderBody, TokenPair }
export type {
  Channel,
  ClientMessage,
  DepthSnapshotMessage,
  DepthUpdateMessage,
  QuoteMessage,
  ReadCheckMessage,
  ServerMessage,
  TradeMessage,
  TradesMessage,
  WireLevel,
  WireTrade,
} from '../marketdata/protocol.ts'

/** RFC 9457 problem+json: `code` is the stable machine code; some carry more members. */
export type Problem = ReturnType<typeof problemBody> & Record<string, unknown>

export type Account = ReturnType<typeof accountView>
export type Position = ReturnType<typeof positionView>
export type SymbolInfo = ReturnType<typeof symbolView>
export type Activity = ReturnType<typeof activityView>
export type Fill = Extract<Activity, { type: 'fill' }>
/** a cash ledger entry: a deposit, a withdrawal, a transfer in, a trade's cash */
export type LedgerEntry = ReturnType<typeof ledgerView>
export type ShareTransferBody = z.input<typeof shareTransferBody>
export type PasswordChangeBody = z.input<typeof passwordChangeBody>
/** GET /v1/quotes/:symbol: the best bid and offer with sizes, and the last trade */
export type Quote = QuoteRecord

/** POST /v1/orders: the order as the book acked it */
export type PlacedOrder = ReturnType<typeof ackView>
/** GET /v1/orders/:id (with `fills`), GET /v1/orders (without): the order as Postgres has it */
export type Order = ReturnType<typeof orderView>
export type CanceledOrder = Order & { canceled_qty: number }
export type AmendedOrder = Order & { open_qty: number; reduced_by: number }

export interface OrderList {
  orders: Order[]
  /** the last id of the page; pass it as `cursor` for the next (null on the last page) */
  next_cursor: number | null
}

export type BatchResult =
  | { index: number; status: 201; replayed: boolean; order: PlacedOrder }
  | { index: number; status: number; error: Problem }

export interface BatchReply {
  placed: number
  refused: number
  results: BatchResult[]
}

/** GET /v1/book/:symbol: levels [price, qty, orders], best first */
export interface Book {
  symbol: string
  seq: number
  bids: [price: string, qty: number, orders: number][]
  asks: [price: string, qty: number, orders: number][]
}

export interface NbboSide {
  price: string
  size: number
  venue: string
}

export interface Nbbo {
  symbol: string
  bid: NbboSide | null
  ask: NbboSide | null
  crossed: boolean
  ts: string | null
}

export interface TotpEnrollment {
  secret: string
  otpauth_uri: string
}

/** GET /v1/stream: the user's own order updates and balance changes, numbered by `seq` */
type Sent<E> = E extends unknown ? Omit<E, 'key' | 'userId'> & { seq: number } : never
export type StreamEvent = Sent<AccountEvent>
export type StreamMessage =
  | StreamEvent
  | { type: 'hello' | 'reset'; seq: number }
  | { type: 'pong' }
  | ReadCheckMessage
  | { type: 'error'; code: string; message: string }
