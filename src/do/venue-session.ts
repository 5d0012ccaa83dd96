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
import { keepTarget, keptTarget, rearm } from './venue-target.ts'
import type { VenueTarget } from './venue-target.ts'

const TICK_MS = 1_000
const HEARTBEAT_SECONDS = 30
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
    this.start(await keepTarget(this.ctx, address))
    return this.status()
  }

  async status(): Promise<VenueSessionStatus> {
    const target = await keptTarget(this.ctx)
    return {
      venue: target?.venue ?? '',
      address: target?.address ?? null,
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
    const target = await keptTarget(this.ctx)
    if (!target) return
    this.start(target)
    await rearm(this.ctx)
  }

  private async session(): Promise<VenueLink> {
    const target = await keptTarget(this.ctx)
    if (!target) throw new Error('this venue session was never opened')
    return this.linkTo(target.venue)
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

  private start({ venue, address }: VenueTarget) {
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
