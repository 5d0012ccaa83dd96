// One Durable Object per venue FIX session (idFromName(venue)): our initiator (src/execution/
// venue-link.ts) over a TCP connection from cloudflare:sockets, its sequence numbers, sent
// messages and received executions in the object's SQLite storage, so they survive restarts. It
// ticks every second while connected; its alarm reconnects a dropped session every few seconds.
// The venue's ExecutionReports and OrderCancelRejects go on to their symbols' objects
// (SymbolBook.venueReports) in the order they came, behind a cursor kept in storage: at least
// once, and each applied once there. One the session could not read is kept in the inbox and
// reported (an alert; the status counts them): never applied, never dropped silently.
import { connect } from 'cloudflare:sockets'
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env.ts'
import type {
  ApplicationMessage, ExecutionReport, NewOrderSingle, OrderCancelReject, OrderCancelRequest,
} from '../execution/fix/messages.ts'
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
/** the last inbox entry handed on to the symbols' objects */
const FORWARDED_KEY = 'forwarded'
const FORWARD_BATCH = 100

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
  /** a forward() is running; `again`: more arrived meanwhile */
  private forwarding: { again: boolean } | undefined

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

  /** A child order or its cancel (src/do/symbol-book.ts): sent once per ClOrdID. */
  async sendOnce(message: NewOrderSingle | OrderCancelRequest): Promise<void> {
    return (await this.session()).sendOnce(message)
  }

  /** What the venue sent, in order, after `afterId`. */
  async inbox(afterId: number, limit = 100): Promise<InboxEntry[]> {
    return (await this.session()).inbox(afterId, limit)
  }

  override async alarm(): Promise<void> {
    const target = await keptTarget(this.ctx)
    if (!target) return
    this.start(target)
    await this.forward()
    await rearm(this.ctx)
  }

  /**
   * Hands the inbox's order messages after the cursor to their symbols' objects, in order; the
   * cursor moves only past what they took. A failure waits for the next tick or alarm.
   */
  private async forward(): Promise<void> {
    if (this.forwarding) {
      this.forwarding.again = true
      return
    }
    this.forwarding = { again: true }
    try {
      const target = await keptTarget(this.ctx)
      const link = target && this.linkTo(target.venue)
      while (link && this.forwarding.again) {
        this.forwarding.again = false
        let cursor = (await this.ctx.storage.get<number>(FORWARDED_KEY)) ?? 0
        for (let entries = link.inbox(cursor, FORWARD_BATCH); entries.length > 0; entries = link.inbox(cursor, FORWARD_BATCH)) {
          for (const [symbol, reports] of bySymbol(entries, (id) => link.symbolOf(id))) {
            const book = this.env.SYMBOL_BOOK.get(this.env.SYMBOL_BOOK.idFromName(symbol))
            await book.venueReports(target.venue, reports)
          }
          cursor = entries.at(-1)!.id
          await this.ctx.storage.put(FORWARDED_KEY, cursor)
        }
      }
    } catch (error) {
      console.error(JSON.stringify({ msg: 'forwarding executions failed', error: String(error) }))
    } finally {
      this.forwarding = undefined
    }
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
      delivered: () => void this.forward(),
    })
    return this.link
  }

  private start({ venue, address }: VenueTarget) {
    if (this.running) return
    const link = this.linkTo(venue)
    const ticks = setInterval(() => void link.tick().then(() => this.forward()).catch(() => {}), TICK_MS)
    this.running = link
      .run(connect(address))
      .catch(() => {})
      .finally(() => {
        clearInterval(ticks)
        this.running = undefined
      })
  }
}

/** What a symbol's object hears from a venue about its orders. */
export type VenueMessage = ExecutionReport | OrderCancelReject

/**
 * The inbox's order messages by symbol, in order (a cancel reject's symbol is the one we sent its
 * cancel for). An entry the session could not read is reported: a person must look at it.
 */
function bySymbol(entries: InboxEntry[], symbolOf: (clOrdId: string) => string | undefined) {
  const messages = new Map<string, VenueMessage[]>()
  for (const { id, message, error } of entries) {
    if (error !== null) console.error(JSON.stringify({ msg: 'unreadable venue message kept', inbox_id: id, error }))
    const symbol =
      message?.type === 'execution-report' ? message.symbol
      : message?.type === 'order-cancel-reject' ? symbolOf(message.clOrdId)
      : undefined
    if (symbol) messages.set(symbol, [...(messages.get(symbol) ?? []), message as VenueMessage])
  }
  return messages
}
