// The order-flow messages as typed values: prices in integer cents, quantities in whole shares,
// times in epoch milliseconds. toFix() writes the body fields (the session adds the header);
// fromFix() reads them back and throws FixFieldError, which the session turns into a Reject.

import { getFields, msgTypeOf, type Field, type FixMessage } from './codec.ts'
import {
  FixFieldError,
  RejectReason,
  formatPrice,
  formatUtcTimestamp,
  parsePrice,
  parseShares,
  parseUtcTimestamp,
} from './fields.ts'
import type { ApplicationDictionary } from './validate.ts'

export type Side = 'buy' | 'sell'
export type OrdType = 'market' | 'limit'
export type TimeInForce = 'day' | 'gtc' | 'ioc' | 'fok'
export type ExecType =
  | 'new'
  | 'done-for-day'
  | 'canceled'
  | 'replaced'
  | 'pending-cancel'
  | 'rejected'
  | 'pending-new'
  | 'expired'
  | 'pending-replace'
  | 'trade'
  | 'order-status'
export type OrdStatus =
  | 'new'
  | 'partially-filled'
  | 'filled'
  | 'done-for-day'
  | 'canceled'
  | 'pending-cancel'
  | 'rejected'
  | 'pending-new'
  | 'expired'
  | 'pending-replace'
export type CxlRejReason =
  | 'too-late-to-cancel'
  | 'unknown-order'
  | 'broker-option'
  | 'already-pending'
  | 'duplicate-clordid'
  | 'other'

/** A limit order carries its price (cents); a market order none. */
type Pricing = { readonly ordType: 'market' } | { readonly ordType: 'limit'; readonly price: number }

type OrderTerms = Pricing & {
  readonly clOrdId: string
  readonly symbol: string
  readonly side: Side
  readonly orderQty: number
  readonly timeInForce: TimeInForce
  readonly transactTime: number
}

export type NewOrderSingle = OrderTerms & { readonly type: 'new-order-single' }

export type OrderCancelReplaceRequest = OrderTerms & {
  readonly type: 'order-cancel-replace-request'
  readonly origClOrdId: string
}

export interface OrderCancelRequest {
  readonly type: 'order-cancel-request'
  readonly origClOrdId: string
  readonly clOrdId: string
  readonly symbol: string
  readonly side: Side
  readonly orderQty: number
  readonly transactTime: number
}

export interface ExecutionReport {
  readonly type: 'execution-report'
  readonly orderId: string
  readonly clOrdId: string
  readonly origClOrdId?: string
  readonly execId: string
  readonly execType: ExecType
  readonly ordStatus: OrdStatus
  readonly symbol: string
  readonly side: Side
  readonly orderQty?: number
  /** This execution's shares and price (cents): on trades only. */
  readonly lastQty?: number
  readonly lastPx?: number
  readonly leavesQty: number
  readonly cumQty: number
  /**
   * The venue's average price as it wrote it, which may have more than 2 decimals: what is
   * booked is each trade's LastQty × LastPx, never this.
   */
  readonly avgPx: string
  readonly text?: string
}

export interface OrderCancelReject {
  readonly type: 'order-cancel-reject'
  readonly orderId: string
  readonly clOrdId: string
  readonly origClOrdId: string
  readonly ordStatus: OrdStatus
  /** CxlRejResponseTo (434): which request this answers. */
  readonly responseTo: 'cancel' | 'replace'
  readonly reason?: CxlRejReason
  readonly text?: string
}

export type ApplicationMessage =
  | NewOrderSingle
  | OrderCancelRequest
  | OrderCancelReplaceRequest
  | ExecutionReport
  | OrderCancelReject

const MSG_TYPE = {
  'new-order-single': 'D',
  'order-cancel-request': 'F',
  'order-cancel-replace-request': 'G',
  'execution-report': '8',
  'order-cancel-reject': '9',
} as const satisfies Record<ApplicationMessage['type'], string>

const SIDE: Record<Side, string> = { buy: '1', sell: '2' }
const ORD_TYPE: Record<OrdType, string> = { market: '1', limit: '2' }
const TIME_IN_FORCE: Record<TimeInForce, string> = { day: '0', gtc: '1', ioc: '3', fok: '4' }
const EXEC_TYPE: Record<ExecType, string> = {
  new: '0',
  'done-for-day': '3',
  canceled: '4',
  replaced: '5',
  'pending-cancel': '6',
  rejected: '8',
  'pending-new': 'A',
  expired: 'C',
  'pending-replace': 'E',
  trade: 'F',
  'order-status': 'I',
}
const ORD_STATUS: Record<OrdStatus, string> = {
  new: '0',
  'partially-filled': '1',
  filled: '2',
  'done-for-day': '3',
  canceled: '4',
  'pending-cancel': '6',
  rejected: '8',
  'pending-new': 'A',
  expired: 'C',
  'pending-replace': 'E',
}
const RESPONSE_TO: Record<OrderCancelReject['responseTo'], string> = { cancel: '1', replace: '2' }
const CXL_REJ_REASON: Record<CxlRejReason, string> = {
  'too-late-to-cancel': '0',
  'unknown-order': '1',
  'broker-option': '2',
  'already-pending': '3',
  'duplicate-clordid': '6',
  other: '99',
}

/** The message's body fields, MsgType first. */
export function toFix(message: ApplicationMessage): FixMessage {
  const fields: Field[] = [[35, MSG_TYPE[message.type]]]
  const add = (tag: number, value: string | undefined) => {
    if (value !== undefined) fields.push([tag, value])
  }
  const shares = (qty: number | undefined) => (qty === undefined ? undefined : formatShares(qty))
  const price = (cents: number | undefined) => (cents === undefined ? undefined : formatPrice(cents))
  switch (message.type) {
    case 'new-order-single':
    case 'order-cancel-replace-request':
      add(41, message.type === 'order-cancel-replace-request' ? message.origClOrdId : undefined)
      add(11, message.clOrdId)
      add(55, message.symbol)
      add(54, SIDE[message.side])
      add(38, shares(message.orderQty))
      add(40, ORD_TYPE[message.ordType])
      add(44, message.ordType === 'limit' ? formatPrice(message.price) : undefined)
      add(59, TIME_IN_FORCE[message.timeInForce])
      add(60, formatUtcTimestamp(message.transactTime))
      break
    case 'order-cancel-request':
      add(41, message.origClOrdId)
      add(11, message.clOrdId)
      add(55, message.symbol)
      add(54, SIDE[message.side])
      add(38, shares(message.orderQty))
      add(60, formatUtcTimestamp(message.transactTime))
      break
    case 'execution-report':
      add(37, message.orderId)
      add(11, message.clOrdId)
      add(41, message.origClOrdId)
      add(17, message.execId)
      add(150, EXEC_TYPE[message.execType])
      add(39, ORD_STATUS[message.ordStatus])
      add(55, message.symbol)
      add(54, SIDE[message.side])
      add(38, shares(message.orderQty))
      add(32, shares(message.lastQty))
      add(31, price(message.lastPx))
      add(151, shares(message.leavesQty))
      add(14, shares(message.cumQty))
      add(6, message.avgPx)
      add(58, message.text)
      break
    case 'order-cancel-reject':
      add(37, message.orderId)
      add(11, message.clOrdId)
      add(41, message.origClOrdId)
      add(39, ORD_STATUS[message.ordStatus])
      add(434, RESPONSE_TO[message.responseTo])
      add(102, message.reason === undefined ? undefined : CXL_REJ_REASON[message.reason])
      add(58, message.text)
      break
  }
  return fields
}

/** Reads an order-flow message; throws FixFieldError naming the first field that is wrong. */
export function fromFix(message: FixMessage): ApplicationMessage {
  const read = new FieldReader(message)
  const msgType = msgTypeOf(message)
  switch (msgType) {
    case 'D':
      return { type: 'new-order-single', ...orderTerms(read) }
    case 'G':
      return { type: 'order-cancel-replace-request', origClOrdId: read.text(41), ...orderTerms(read) }
    case 'F':
      return {
        type: 'order-cancel-request',
        origClOrdId: read.text(41),
        clOrdId: read.text(11),
        symbol: read.text(55),
        side: read.code(54, SIDE),
        orderQty: read.positiveShares(38),
        transactTime: read.time(60),
      }
    case '8':
      return executionReport(read)
    case '9':
      return {
        type: 'order-cancel-reject',
        orderId: read.text(37),
        clOrdId: read.text(11),
        origClOrdId: read.text(41),
        ordStatus: read.code(39, ORD_STATUS),
        responseTo: read.code(434, RESPONSE_TO),
        ...optional('reason', read.has(102) ? read.code(102, CXL_REJ_REASON) : undefined),
        ...optional('text', read.optionalText(58)),
      }
    default:
      throw new FixFieldError(35, RejectReason.InvalidMsgType, `tag 35: MsgType ${msgType} is not order flow`)
  }
}

/** For SessionConfig.application: the order-flow messages, checked by reading them. */
export const orderFlow: ApplicationDictionary = {
  msgTypes: new Set(Object.values(MSG_TYPE)),
  validate(message) {
    fromFix(message)
  },
}

function orderTerms(read: FieldReader): OrderTerms {
  const terms = {
    clOrdId: read.text(11),
    symbol: read.text(55),
    side: read.code(54, SIDE),
    orderQty: read.positiveShares(38),
    timeInForce: read.code(59, TIME_IN_FORCE),
    transactTime: read.time(60),
  }
  if (read.code(40, ORD_TYPE) === 'limit') return { ...terms, ordType: 'limit', price: read.price(44) }
  if (read.has(44)) {
    throw new FixFieldError(44, RejectReason.ValueIncorrect, 'tag 44: a market order has no Price')
  }
  return { ...terms, ordType: 'market' }
}

function executionReport(read: FieldReader): ExecutionReport {
  const execType = read.code(150, EXEC_TYPE)
  const trade = execType === 'trade'
  return {
    type: 'execution-report',
    orderId: read.text(37),
    clOrdId: read.text(11),
    ...optional('origClOrdId', read.optionalText(41)),
    execId: read.text(17),
    execType,
    ordStatus: read.code(39, ORD_STATUS),
    symbol: read.text(55),
    side: read.code(54, SIDE),
    ...optional('orderQty', read.has(38) ? read.shares(38) : undefined),
    // A trade says what traded; other reports may carry 32=0 and 31=0, or nothing.
    ...optional('lastQty', trade ? read.positiveShares(32) : read.has(32) ? read.shares(32) : undefined),
    ...optional('lastPx', trade || read.has(31) ? read.price(31) : undefined),
    leavesQty: read.shares(151),
    cumQty: read.shares(14),
    avgPx: read.decimal(6),
    ...optional('text', read.optionalText(58)),
  }
}

/** `{ key: value }`, or nothing when the value is undefined: optional fields stay absent. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}

function formatShares(qty: number): string {
  if (!Number.isSafeInteger(qty) || qty < 0) throw new RangeError(`not a number of shares: ${qty}`)
  return String(qty)
}

const DECIMAL = /^\d+(\.\d+)?$/

/** Reads the fields of one message, each at most once. */
class FieldReader {
  constructor(private readonly message: FixMessage) {}

  has(tag: number): boolean {
    return this.optionalText(tag) !== undefined
  }

  optionalText(tag: number): string | undefined {
    const values = getFields(this.message, tag)
    if (values.length > 1) this.fail(tag, RejectReason.TagAppearsMoreThanOnce, 'appears more than once')
    return values[0]
  }

  text(tag: number): string {
    return this.optionalText(tag) ?? this.fail(tag, RejectReason.RequiredTagMissing, 'is required')
  }

  code<T extends string>(tag: number, table: Record<T, string>): T {
    const value = this.text(tag)
    const name = (Object.keys(table) as T[]).find((key) => table[key] === value)
    return name ?? this.fail(tag, RejectReason.ValueIncorrect, `${JSON.stringify(value)} is not supported`)
  }

  shares(tag: number): number {
    return parseShares(tag, this.text(tag))
  }

  positiveShares(tag: number): number {
    const qty = this.shares(tag)
    return qty > 0 ? qty : this.fail(tag, RejectReason.ValueIncorrect, 'must be above 0')
  }

  price(tag: number): number {
    return parsePrice(tag, this.text(tag))
  }

  decimal(tag: number): string {
    const value = this.text(tag)
    return DECIMAL.test(value) ? value : this.fail(tag, RejectReason.IncorrectDataFormat, 'is not a decimal')
  }

  time(tag: number): number {
    return (
      parseUtcTimestamp(this.text(tag)) ??
      this.fail(tag, RejectReason.IncorrectDataFormat, 'is not a UTCTimestamp')
    )
  }

  private fail(tag: number, reason: RejectReason, what: string): never {
    throw new FixFieldError(tag, reason, `tag ${tag}: ${what}`)
  }
}
