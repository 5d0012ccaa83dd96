// One Durable Object per venue feed (idFromName(venue)): it holds the TCP connection to the
// venue's market-data feed (cloudflare:sockets), reads its lines (src/execution/feed.ts) and hands
// each symbol's events to that symbol's object, which keeps the NBBO. An alarm every few seconds
// reconnects a dropped feed, so the connection outlives a restart or an eviction.
import { connect } from 'cloudflare:sockets'
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env.ts'
import { readFeed } from '../execution/feed.ts'
import type { FeedEvent } from '../execution/nbbo.ts'
import { isListed } from '../orders/listed.ts'
import { keepTarget, keptTarget, rearm } from './venue-target.ts'
import type { VenueTarget } from './venue-target.ts'

const UNLISTED_TTL_MS = 60_000

export interface FeedStatus {
  venue: string
  address: string | null
  connected: boolean
  /** events handed on, lines that were not the protocol's, events of unlisted symbols */
  events: number
  bad: number
  unlisted: number
  lastError: string | null
}

export class MarketFeed extends DurableObject<Env> {
  private reading: Promise<void> | undefined
  /** symbols found not listed, and when */
  private readonly unlisted = new Map<string, number>()
  /** the symbols this connection gave quotes for */
  private readonly seen = new Set<string>()
  private readonly stats = { events: 0, bad: 0, unlisted: 0, lastError: null as string | null }

  /** Reads the feed at `address` (host:port) from now on, and keeps reading it. */
  async follow(address: string): Promise<FeedStatus> {
    this.start(await keepTarget(this.ctx, address))
    return this.status()
  }

  async status(): Promise<FeedStatus> {
    const target = await keptTarget(this.ctx)
    const kept = { venue: target?.venue ?? '', address: target?.address ?? null }
    return { ...kept, connected: !!this.reading, ...this.stats }
  }

  override async alarm(): Promise<void> {
    const target = await keptTarget(this.ctx)
    if (!target) return
    this.start(target)
    await rearm(this.ctx)
  }

  private start(target: VenueTarget) {
    if (this.reading) return
    this.reading = this.read(target).finally(() => (this.reading = undefined))
  }

  private async read({ venue, address }: VenueTarget) {
    const socket = connect(address)
    try {
      const read = await readFeed(socket.readable, (events) => this.handOn(events))
      this.stats.bad += read.bad
      this.stats.lastError = 'the feed ended'
    } catch (err) {
      this.stats.lastError = String(err)
    } finally {
      await socket.close().catch(() => {})
      await this.venueDown(venue)
    }
  }

  /**
   * Whether we list the symbol. A feed names thousands we do not: each is asked again a minute
   * later, not on every read (isListed looks an unknown symbol up at once, for orders' sake).
   */
  private async listed(symbol: string): Promise<boolean> {
    const checked = this.unlisted.get(symbol)
    if (checked !== undefined && Date.now() - checked < UNLISTED_TTL_MS) return false
    const listed = await isListed(this.env, symbol)
    if (listed) this.unlisted.delete(symbol)
    else this.unlisted.set(symbol, Date.now())
    return listed
  }

  /** The feed is gone: its quotes must not stand in any symbol's NBBO. */
  private async venueDown(venue: string) {
    const symbols = [...this.seen]
    this.seen.clear()
    await Promise.all(
      symbols.map((symbol) =>
        this.env.SYMBOL_BOOK.get(this.env.SYMBOL_BOOK.idFromName(symbol)).venueDown(venue).catch(() => {}),
      ),
    )
  }

  /** Each listed symbol's events to its object, in the order they came. */
  private async handOn(events: FeedEvent[]) {
    const bySymbol = new Map<string, FeedEvent[]>()
    for (const e of events) bySymbol.set(e.symbol, [...(bySymbol.get(e.symbol) ?? []), e])
    await Promise.all(
      [...bySymbol].map(async ([symbol, own]) => {
        // an object must not be created for any symbol a feed names
        if (!(await this.listed(symbol))) {
          this.stats.unlisted += own.length
          return
        }
        // one symbol's object failing must not stop the others' quotes, nor the feed
        const book = this.env.SYMBOL_BOOK.get(this.env.SYMBOL_BOOK.idFromName(symbol))
        await book.venueEvents(own).then(
          () => {
            this.seen.add(symbol)
            this.stats.events += own.length
          },
          (err) => (this.stats.lastError = `${symbol}: ${String(err)}`),
        )
      }),
    )
  }
}
