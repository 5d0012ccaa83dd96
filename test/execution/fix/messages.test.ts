// The order-flow messages: typed values ↔ FIX fields, prices exact, and a clear FixFieldError
// (tag and SessionRejectReason) for each way a message can be wrong.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { decode, encode, type FixMessage } from '../../../src/execution/fix/codec.ts'
import { FixFieldError } from '../../../src/execution/fix/fields.ts'
import { fromFix, orderFlow, toFix, type ApplicationMessage } from '../../../src/execution/fix/messages.ts'

const id = fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/)
const symbol = fc.constantFrom('AAPL', 'MSFT', 'BRK.B')
const side = fc.constantFrom('buy' as const, 'sell' as const)
const qty = fc.integer({ min: 1, max: 10_000_000 })
const cents = fc.integer({ min: 1, max: 10 ** 9 })
const time = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
const timeInForce = fc.constantFrom('day' as const, 'gtc' as const, 'ioc' as const, 'fok' as const)
const terms = fc.oneof(
  fc.record({ ordType: fc.constant('market' as const) }),
  fc.record({ ordType: fc.constant('limit' as const), price: cents }),
)
const order = fc
  .tuple(fc.record({ clOrdId: id, symbol, side, orderQty: qty, timeInForce, transactTime: time }), terms)
  .map(([a, b]) => ({ ...a, ...b }))

const applicationMessage: fc.Arbitrary<ApplicationMessage> = fc.oneof(
  order.map((o) => ({ type: 'new-order-single' as const, ...o })),
  fc.tuple(order, id).map(([o, origClOrdId]) => ({ type: 'order-cancel-replace-request' as const, origClOrdId, ...o })),
  fc.record({
    type: fc.constant('order-cancel-request' as const),
    origClOrdId: id,
    clOrdId: id,
    symbol,
    side,
    orderQty: qty,
    transactTime: time,
  }),
  fc.record(
    {
      type: fc.constant('execution-report' as const),
      orderId: id,
      clOrdId: id,
      origClOrdId: id,
      execId: id,
      execType: fc.constantFrom('new' as const, 'canceled' as const, 'replaced' as const, 'rejected' as const),
      ordStatus: fc.constantFrom('new' as const, 'canceled' as const, 'rejected' as const),
      symbol,
      side,
      orderQty: qty,
      leavesQty: fc.nat(),
      cumQty: fc.nat(),
      avgPx: fc.constantFrom('0', '150.25', '150.253333'),
      text: fc.constantFrom('ok', 'price band ✗'),
    },
    { requiredKeys: ['type', 'orderId', 'clOrdId', 'execId', 'execType', 'ordStatus', 'symbol', 'side', 'leavesQty', 'cumQty', 'avgPx'] },
  ),
  fc.record({
    type: fc.constant('execution-report' as const),
    orderId: id,
    clOrdId: id,
    execId: id,
    execType: fc.constant('trade' as const),
    ordStatus: fc.constantFrom('partially-filled' as const, 'filled' as const),
    symbol,
    side,
    orderQty: qty,
    lastQty: qty,
    lastPx: cents,
    leavesQty: fc.nat(),
    cumQty: qty,
    avgPx: fc.constant('150.10'),
  }),
  fc.record(
    {
      type: fc.constant('order-cancel-reject' as const),
      orderId: id,
      clOrdId: id,
      origClOrdId: id,
      ordStatus: fc.constantFrom('new' as const, 'filled' as const, 'canceled' as const),
      responseTo: fc.constantFrom('cancel' as const, 'replace' as const),
      reason: fc.constantFrom('too-late-to-cancel' as const, 'unknown-order' as const, 'other' as const),
      text: fc.constant('no such order'),
    },
    { requiredKeys: ['type', 'orderId', 'clOrdId', 'origClOrdId', 'ordStatus', 'responseTo'] },
  ),
)

function errorOf(message: FixMessage): FixFieldError {
  try {
    fromFix(message)
  } catch (error) {
    if (error instanceof FixFieldError) return error
    throw error
  }
  throw new Error('expected a FixFieldError')
}

const limitBuy: FixMessage = [
  [35, 'D'],
  [11, 'c-1'],
  [55, 'AAPL'],
  [54, '1'],
  [38, '100'],
  [40, '2'],
  [44, '150.25'],
  [59, '0'],
  [60, '20260105-14:30:00.000'],
]

describe('order-flow messages', () => {
  test('a limit buy on the wire', () => {
    const built = toFix({
      type: 'new-order-single',
      clOrdId: 'c-1',
      symbol: 'AAPL',
      side: 'buy',
      orderQty: 100,
      ordType: 'limit',
      price: 15_025,
      timeInForce: 'day',
      transactTime: Date.UTC(2026, 0, 5, 14, 30),
    })
    expect(built).toEqual(limitBuy)
    expect(fromFix(built)).toMatchObject({ price: 15_025, orderQty: 100, side: 'buy' })
  })

  test('an execution report for a trade', () => {
    const report = fromFix([
      [35, '8'], [37, 'V-1'], [11, 'c-1'], [17, 'E-1'], [150, 'F'], [39, '1'], [55, 'AAPL'], [54, '1'],
      [38, '100'], [32, '40'], [31, '150.2'], [151, '60'], [14, '40'], [6, '150.2'],
    ])
    expect(report).toEqual({
      type: 'execution-report', orderId: 'V-1', clOrdId: 'c-1', execId: 'E-1', execType: 'trade',
      ordStatus: 'partially-filled', symbol: 'AAPL', side: 'buy', orderQty: 100, lastQty: 40,
      lastPx: 15_020, leavesQty: 60, cumQty: 40, avgPx: '150.2',
    })
  })

  test('round trip: typed → fields → bytes → fields → typed', () => {
    fc.assert(
      fc.property(applicationMessage, (message) => {
        expect(fromFix(decode(encode(toFix(message))))).toEqual(message)
      }),
    )
  })

  const replace = (tag: number, value: string) => limitBuy.map(([t, v]): [number, string] => [t, t === tag ? value : v])
  test.each([
    ['a price with 3 decimals', replace(44, '150.255'), 44, 6],
    ['a price that is not a number', replace(44, '1.5e2'), 44, 6],
    ['a fractional quantity', replace(38, '100.5'), 38, 6],
    ['a quantity of 0', replace(38, '0'), 38, 5],
    ['an unsupported side', replace(54, '5'), 54, 5],
    ['an unsupported TimeInForce', replace(59, '6'), 59, 5],
    ['a TransactTime that is not a UTCTimestamp', replace(60, '2026-01-05'), 60, 6],
    ['a limit order without a price', limitBuy.filter(([t]) => t !== 44), 44, 1],
    ['a market order with a price', replace(40, '1'), 44, 5],
    ['a symbol twice', [...limitBuy, [55, 'MSFT']] as FixMessage, 55, 13],
    ['a trade report without LastPx', [[35, '8'], [37, 'V'], [11, 'c'], [17, 'E'], [150, 'F'], [39, '2'], [55, 'A'], [54, '1'], [32, '1'], [151, '0'], [14, '1'], [6, '1']] as FixMessage, 31, 1],
    ['a MsgType that is not order flow', [[35, 'V']] as FixMessage, 35, 11],
  ])('refuses %s', (_, message, tag, reason) => {
    const error = errorOf(message)
    expect({ tag: error.tag, reason: error.reason as number }).toEqual({ tag, reason })
    expect(error.message).toContain(`tag ${tag}`)
  })

  test('the dictionary the session checks application messages with', () => {
    expect([...orderFlow.msgTypes].sort()).toEqual(['8', '9', 'D', 'F', 'G'])
    expect(() => orderFlow.validate(limitBuy)).not.toThrow()
    expect(() => orderFlow.validate(replace(44, '150.255'))).toThrow(FixFieldError)
  })
})
