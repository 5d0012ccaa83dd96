// The external feed's line protocol and the NBBO across venues: best price per side, the larger
// size on a tie, stale quotes dropped, bad lines refused.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { NbboBook, parseFeedLine } from '../../src/execution/nbbo.ts'
import type { VenueQuote } from '../../src/execution/nbbo.ts'

const quote = (venue: string, bid: string, bidSize: number, ask: string, askSize: number, ts: number) =>
  parseFeedLine(`Q|${venue}|AAPL|${bid}|${bidSize}|${ask}|${askSize}|${ts}`) as VenueQuote

describe('feed lines', () => {
  test('quotes and trades parse to integer cents; an empty side is null', () => {
    expect(parseFeedLine('Q|NSIM|AAPL|149.99|300|150.01|200|1790000000000')).toEqual({
      type: 'quote', venue: 'NSIM', symbol: 'AAPL', bid: 14_999, bidSize: 300, ask: 15_001, askSize: 200, ts: 1_790_000_000_000,
    })
    expect(parseFeedLine('Q|NSIM|AAPL|0|0|150.01|200|1790000000000')).toMatchObject({ bid: null, bidSize: 0, ask: 15_001 })
    expect(parseFeedLine('T|NSIM|AAPL|150.5|10|1790000000001')).toEqual({
      type: 'trade', venue: 'NSIM', symbol: 'AAPL', price: 15_050, qty: 10, ts: 1_790_000_000_001,
    })
  })

  test('anything else is not a line: wrong arity, prices, sizes, names, a crossed quote', () => {
    for (const bad of [
      '', 'Q|NSIM|AAPL|149.99|300|150.01|200', 'Q|NSIM|AAPL|149.999|300|150.01|200|1',
      'Q|NSIM|AAPL|-1|300|150.01|200|1', 'Q|NSIM|AAPL|149.99|3.5|150.01|200|1', 'Q|nsim|AAPL|1|1|2|1|1',
      'Q|NSIM|AAPL|150.02|1|150.01|1|1', 'T|NSIM|AAPL|0|10|1', 'T|NSIM|AAPL|1.00|0|1', 'X|NSIM|AAPL|1|1|1',
    ]) {
      expect(parseFeedLine(bad)).toBeUndefined()
    }
  })

  test('never throws, whatever the line', () => {
    fc.assert(fc.property(fc.string(), (line) => void parseFeedLine(line)))
    fc.assert(fc.property(fc.array(fc.constantFrom('Q', 'T', 'NSIM', 'AAPL', '1', '0', '1.00', '', '|')), (parts) => {
      void parseFeedLine(parts.join('|'))
    }))
  })
})

describe('NBBO', () => {
  test('the best bid and the best offer may come from different venues; a tie goes to the larger size', () => {
    const book = new NbboBook(5_000)
    book.apply(quote('NSIM', '149.98', 100, '150.02', 100, 1_000), 1_000)
    book.apply(quote('ARCA', '149.99', 50, '150.03', 100, 1_000), 1_000)
    const nbbo = book.apply(quote('BATS', '149.99', 80, '150.02', 300, 1_000), 1_000)
    expect(nbbo).toEqual({
      symbol: 'AAPL',
      bid: { price: 14_999, size: 80, venue: 'BATS' },
      ask: { price: 15_002, size: 300, venue: 'BATS' },
      crossed: false,
      ts: 1_000,
    })
  })

  test('a venue’s new quote replaces its old one; an older one is ignored; quotes age by our clock', () => {
    const book = new NbboBook(5_000)
    book.apply(quote('NSIM', '149.99', 100, '150.01', 100, 1_000), 1_000)
    book.apply(quote('ARCA', '149.90', 100, '150.10', 100, 4_000), 4_000)
    expect(book.apply(quote('NSIM', '149.95', 100, '150.05', 100, 2_000), 2_000).bid).toEqual({ price: 14_995, size: 100, venue: 'NSIM' })
    expect(book.apply(quote('NSIM', '149.99', 100, '150.01', 100, 1_500), 4_000).bid?.price).toBe(14_995)
    // at 8 s NSIM's (received at 2 s) is stale, ARCA's (received at 4 s) is not
    expect(book.nbbo('AAPL', 8_000)).toMatchObject({ bid: { venue: 'ARCA' }, ask: { venue: 'ARCA' }, ts: 4_000 })
    expect(book.nbbo('AAPL', 20_000)).toEqual({ symbol: 'AAPL', bid: null, ask: null, crossed: false, ts: 0 })
    expect(book.nbbo('MSFT', 0)).toEqual({ symbol: 'MSFT', bid: null, ask: null, crossed: false, ts: 0 })
  })

  test('a venue clock behind ours still counts; one far ahead is refused; a dropped venue is gone', () => {
    const book = new NbboBook(5_000)
    // stamped an hour ago by its clock, received now: fresh
    expect(book.apply(quote('NSIM', '149.99', 100, '150.01', 100, 1_000), 3_601_000).bid?.venue).toBe('NSIM')
    // stamped an hour ahead: would freeze the venue's quote, refused
    book.apply(quote('ARCA', '149.98', 100, '150.02', 100, 7_300_000), 3_601_000)
    expect(book.nbbo('AAPL', 3_601_000).ask).toEqual({ price: 15_001, size: 100, venue: 'NSIM' })
    book.drop('NSIM')
    expect(book.nbbo('AAPL', 3_601_000)).toMatchObject({ bid: null, ask: null })
  })

  test('venues that cross each other make a crossed NBBO, flagged', () => {
    const book = new NbboBook(5_000)
    book.apply(quote('NSIM', '100.05', 100, '100.10', 100, 1), 1)
    expect(book.apply(quote('ARCA', '99.90', 100, '100.02', 100, 1), 1)).toMatchObject({
      bid: { price: 10_005, venue: 'NSIM' },
      ask: { price: 10_002, venue: 'ARCA' },
      crossed: true,
    })
  })

  test('the NBBO is the best over the venues’ fresh quotes, whatever their order (property)', () => {
    const venues = ['A', 'B', 'C']
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...venues), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 50 })), { minLength: 1, maxLength: 30 }),
        (events) => {
          const book = new NbboBook(1_000_000)
          const latest = new Map<string, { bid: number; ask: number }>()
          events.forEach(([venue, bid, spread], i) => {
            book.apply({ type: 'quote', venue, symbol: 'X', bid, bidSize: 1, ask: bid + spread, askSize: 1, ts: i + 1 }, i + 1)
            latest.set(venue, { bid, ask: bid + spread })
          })
          const nbbo = book.nbbo('X', events.length)
          expect(nbbo.bid?.price).toBe(Math.max(...[...latest.values()].map((q) => q.bid)))
          expect(nbbo.ask?.price).toBe(Math.min(...[...latest.values()].map((q) => q.ask)))
        },
      ),
    )
  })
})
