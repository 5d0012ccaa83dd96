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
  private readonly link: VenueLink
  private running: Promise<void> | undefined

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.link = new VenueLink(sqlStore(ctx.storage), {
      senderCompId: SENDER_COMP_ID,
      targetCompId: ctx.id.name ?? 'VENUE',
      heartBtInt: HEARTBEAT_SECONDS,
    })
  }

  /** Keeps a session with the venue at `address` (host:port) from now on. */
  async open(address: string): Promise<VenueSessionStatus> {
    if ((await this.ctx.storage.get(ADDRESS_KEY)) !== address) {
      await this.ctx.storage.put(ADDRESS_KEY, address)
    }
    this.start(address)
    await this.ctx.storage.setAlarm(Date.now() + RECONNECT_MS)
    return this.status()
  }

  async status(): Promise<VenueSessionStatus> {
    return {
      venue: this.ctx.id.name ?? '',
      address: (await this.ctx.storage.get<string>(ADDRESS_KEY)) ?? null,
      connected: this.link.connected,
      state: this.link.state,
      events: this.link.events.slice(-10),
    }
  }

  /** An order-flow message to the venue (numbered and kept while disconnected). */
  send(message: ApplicationMessage): Promise<void> {
    return this.link.send(message)
  }

  /** What the venue sent, in order, after `afterId`. */
  inbox(afterId: number, limit = 100): InboxEntry[] {
    return this.link.inbox(afterId, limit)
  }

  override async alarm(): Promise<void> {
    const address = await this.ctx.storage.get<string>(ADDRESS_KEY)
    if (!address) return
    this.start(address)
    await this.ctx.storage.setAlarm(Date.now() + RECONNECT_MS)
  }

  private start(address: string) {
    if (this.running) return
    const ticks = setInterval(() => void this.link.tick().catch(() => {}), TICK_MS)
    this.running = this.link
      .run(connect(address))
      .catch(() => {})
      .finally(() => {
        clearInterval(ticks)
        this.running = undefined
      })
  }
}
