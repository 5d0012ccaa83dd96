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

const RECONNECT_MS = 5_000
const ADDRESS_KEY = 'address'

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
  private readonly stats = { events: 0, bad: 0, unlisted: 0, lastError: null as string | null }

  /** Reads the feed at `address` (host:port) from now on, and keeps reading it. */
  async follow(address: string): Promise<FeedStatus> {
    if ((await this.ctx.storage.get(ADDRESS_KEY)) !== address) {
      await this.ctx.storage.put(ADDRESS_KEY, address)
    }
    this.start(address)
    await this.ctx.storage.setAlarm(Date.now() + RECONNECT_MS)
    return this.status()
  }

  async status(): Promise<FeedStatus> {
    const address = (await this.ctx.storage.get<string>(ADDRESS_KEY)) ?? null
    return { venue: this.ctx.id.name ?? '', address, connected: !!this.reading, ...this.stats }
  }

  override async alarm(): Promise<void> {
    const address = await this.ctx.storage.get<string>(ADDRESS_KEY)
    if (!address) return
    this.start(address)
    await this.ctx.storage.setAlarm(Date.now() + RECONNECT_MS)
  }

  private start(address: string) {
    if (this.reading) return
    this.reading = this.read(address).finally(() => (this.reading = undefined))
  }

  private async read(address: string) {
    try {
      const socket = connect(address)
      const read = await readFeed(socket.readable, (events) => this.handOn(events))
      this.stats.bad += read.bad
      this.stats.lastError = 'the feed ended'
    } catch (err) {
      this.stats.lastError = String(err)
    }
  }

  /** Each listed symbol's events to its object, in the order they came. */
  private async handOn(events: FeedEvent[]) {
    const bySymbol = new Map<string, FeedEvent[]>()
    for (const e of events) bySymbol.set(e.symbol, [...(bySymbol.get(e.symbol) ?? []), e])
    await Promise.all(
      [...bySymbol].map(async ([symbol, own]) => {
        // an object must not be created for any symbol a feed names
        if (!(await isListed(this.env, symbol))) {
          this.stats.unlisted += own.length
          return
        }
        await this.env.SYMBOL_BOOK.get(this.env.SYMBOL_BOOK.idFromName(symbol)).venueEvents(own)
        this.stats.events += own.length
      }),
    )
  }
}
