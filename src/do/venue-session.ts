// One Durable Object per venue FIX session (idFromName(venue)): our initiator (src/execution/
// venue-link.ts) over a TCP connection from cloudflare:sockets, its sequence numbers, sent
// messages and received executions in the object's SQLite storage, so they survive restarts. It
// ticks every second while connected; its alarm reconnects a dropped session every few seconds.
import { connect } from 'cloudflare:sockets'
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env.ts'
import type { ApplicationMessage } from '../execution/fix/messages.ts'
import type { SessionEvent, SessionState } from '../execution/fix/session.ts'
import { VenueLink } from '../execution/venue-link.ts'
import type { InboxEntry } from '../execution/venue-link.ts'
import { sqlStore } from './sql-store.ts'

const RECONNECT_MS = 5_000
const TICK_MS = 1_000
const HEARTBEAT_SECONDS = 30
const ADDRESS_KEY = 'address'
/** the venue's name: an alarm can start this object by its id alone, without it */
const VENUE_KEY = 'venue'
/** our CompID at every venue */
export const SENDER_COMP_ID = 'BOURSE'

export interface VenueSessionStatus {
  venue: string
  address: string | null
  connected: boolean
  state: SessionState
  events: SessionEvent[]
}

export class VenueSession extends DurableObject<Env> {
  /** our session with the venue; made once its name is known (stored by open()) */
  private link: VenueLink | undefined
  private running: Promise<void> | undefined

  /** Keeps a session with the venue at `address` (host:port) from now on. */
  async open(address: string): Promise<VenueSessionStatus> {
    const venue = this.ctx.id.name
    if (!venue) throw new Error('a VenueSession is opened by its venue name (idFromName)')
    if ((await this.ctx.storage.get(VENUE_KEY)) !== venue) await this.ctx.storage.put(VENUE_KEY, venue)
    if ((await this.ctx.storage.get(ADDRESS_KEY)) !== address) {
      await this.ctx.storage.put(ADDRESS_KEY, address)
    }
    this.start(venue, address)
    await this.ctx.storage.setAlarm(Date.now() + RECONNECT_MS)
    return this.status()
  }

  async status(): Promise<VenueSessionStatus> {
    return {
      venue: (await this.ctx.storage.get<string>(VENUE_KEY)) ?? '',
      address: (await this.ctx.storage.get<string>(ADDRESS_KEY)) ?? null,
      connected: this.link?.connected ?? false,
      state: this.link?.state ?? 'disconnected',
      events: this.link?.events.slice(-10) ?? [],
    }
  }

  /** An order-flow message to the venue (numbered and kept while disconnected). */
  async send(message: ApplicationMessage): Promise<void> {
    return (await this.session()).send(message)
  }

  /** What the venue sent, in order, after `afterId`. */
  async inbox(afterId: number, limit = 100): Promise<InboxEntry[]> {
    return (await this.session()).inbox(afterId, limit)
  }

  override async alarm(): Promise<void> {
    const [venue, address] = await Promise.all([
      this.ctx.storage.get<string>(VENUE_KEY),
      this.ctx.storage.get<string>(ADDRESS_KEY),
    ])
    if (!venue || !address) return
    this.start(venue, address)
    await this.ctx.storage.setAlarm(Date.now() + RECONNECT_MS)
  }

  private async session(): Promise<VenueLink> {
    const venue = await this.ctx.storage.get<string>(VENUE_KEY)
    if (!venue) throw new Error('this venue session was never opened')
    return this.linkTo(venue)
  }

  private linkTo(venue: string): VenueLink {
    this.link ??= new VenueLink(sqlStore(this.ctx.storage), {
      senderCompId: SENDER_COMP_ID,
      targetCompId: venue,
      heartBtInt: HEARTBEAT_SECONDS,
      durable: () => this.ctx.storage.sync(),
    })
    return this.link
  }

  private start(venue: string, address: string) {
    if (this.running) return
    const link = this.linkTo(venue)
    const ticks = setInterval(() => void link.tick().catch(() => {}), TICK_MS)
    this.running = link
      .run(connect(address))
      .catch(() => {})
      .finally(() => {
        clearInterval(ticks)
        this.running = undefined
      })
  }
}
