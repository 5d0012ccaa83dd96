// The simulated venue ("NASDAQ-like") for development and tests: a FIX 4.4 acceptor in front of
// its own book per symbol, a market-data feed of that book, and fault controls that make the
// recovery paths run. startVenue() listens on both ports and returns the handle.
import type { VenueQuote } from '../../../src/execution/nbbo.ts'
import { FixAcceptor } from './acceptor.ts'
import type { Level } from './book.ts'
import { Exchange } from './exchange.ts'
import { Faults } from './faults.ts'
import { FeedServer } from './feed.ts'

export interface VenueOptions {
  /** 0 (the default) for an ephemeral port. */
  readonly fixPort?: number
  readonly feedPort?: number
  readonly host?: string
  /** The venue's SenderCompID, default NSIM. */
  readonly compId?: string
  /** The CompIDs that may log on, one session each; default ['BOURSE']. */
  readonly initiators?: readonly string[]
  /** The venue's name on its feed, default NSIM. */
  readonly venue?: string
  /** Symbol → reference price in cents; default AAPL 150.00 and MSFT 410.00. */
  readonly symbols?: Readonly<Record<string, number>>
  /** Seeds every choice the venue makes (quote sizes, spreads); default 1. */
  readonly seed?: number
  readonly levels?: number
  /** Delay before it quotes again after a trade; default 100 ms. */
  readonly requoteMs?: number
  /** How often the sessions' clocks are looked at (heartbeats, timeouts); default 200 ms. */
  readonly tickMs?: number
  readonly maxOrderQty?: number
  readonly log?: (line: string) => void
}

export interface Venue {
  readonly fixPort: number
  readonly feedPort: number
  /** The symbol's top of book, as the feed shows it. */
  quote(symbol: string): VenueQuote
  /** Price and size per level, best first, the venue's quotes and client orders together. */
  depth(symbol: string): { bids: Level[]; asks: Level[] }
  /** The next `count` application messages from initiators are read and thrown away. */
  dropInbound(count: number): void
  /** The next `count` application messages to initiators are numbered and kept, not written. */
  dropOutbound(count: number): void
  /** Cuts the connection of one initiator (all without one), no Logout. */
  disconnect(initiator?: string): void
  /** Cuts the connection that carries the `count`-th application message from now (either way). */
  disconnectAfter(count: number): void
  /** The next `count` NewOrderSingles are rejected. */
  rejectOrders(count: number): void
  /** Orders are acknowledged but trade only after resume(), in arrival order. */
  pause(): void
  resume(): void
  stop(): Promise<void>
}

export const DEFAULT_SYMBOLS: Readonly<Record<string, number>> = { AAPL: 15_000, MSFT: 41_000 }

export async function startVenue(options: VenueOptions = {}): Promise<Venue> {
  const log = options.log ?? (() => {})
  const clock = Date.now
  const faults = new Faults()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, ms)
    timers.add(timer)
  }
  // Each part calls the others only once messages flow, after all three exist.
  const feed = new FeedServer(() => exchange.symbols.map((symbol) => exchange.quote(symbol)), log)
  const acceptor = new FixAcceptor({
    compId: options.compId ?? 'NSIM',
    initiators: options.initiators ?? ['BOURSE'],
    tickMs: options.tickMs ?? 200,
    faults,
    clock,
    deliver: (initiator, message) => exchange.handle(initiator, message),
    log,
  })
  const exchange = new Exchange({
    venue: options.venue ?? 'NSIM',
    symbols: new Map(Object.entries(options.symbols ?? DEFAULT_SYMBOLS)),
    seed: options.seed ?? 1,
    levels: options.levels ?? 5,
    requoteMs: options.requoteMs ?? 100,
    maxOrderQty: options.maxOrderQty ?? 1_000_000,
    faults,
    clock,
    later,
    report: (initiator, message) => acceptor.send(initiator, message),
    publish: (event) => feed.publish(event),
    log,
  })
  const host = options.host ?? '127.0.0.1'
  let fixPort: number
  let feedPort: number
  try {
    fixPort = await acceptor.listen(options.fixPort ?? 0, host)
    feedPort = await feed.listen(options.feedPort ?? 0, host)
  } catch (error) {
    await Promise.allSettled([acceptor.close(), feed.close()])
    throw error
  }
  log(`FIX acceptor on ${host}:${fixPort}, feed on ${host}:${feedPort}`)
  return {
    fixPort,
    feedPort,
    quote: (symbol) => exchange.quote(symbol),
    depth: (symbol) => exchange.depth(symbol),
    dropInbound: (count) => faults.arm('drop-inbound', count),
    dropOutbound: (count) => faults.arm('drop-outbound', count),
    disconnect: (initiator) => acceptor.disconnect(initiator),
    disconnectAfter: (count) => faults.arm('disconnect-after', count),
    rejectOrders: (count) => faults.arm('reject-orders', count),
    pause: () => exchange.pause(),
    resume: () => exchange.resume(),
    async stop() {
      for (const timer of timers) clearTimeout(timer)
      await Promise.all([acceptor.close(), feed.close()])
    },
  }
}
