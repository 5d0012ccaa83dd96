// The venue's FIX 4.4 acceptor over TCP: one FixSession per configured initiator CompID, its
// sequence numbers and sent messages in a MemorySessionStore that outlives connections (as a
// real venue's does), ticked on a timer. The fault controls act here, on whole application
// messages: a dropped one still has its MsgSeqNum, so the session layers see a gap and recover.
import { createServer, type Server, type Socket } from 'node:net'
import {
  FixFramer,
  FixSession,
  MemorySessionStore,
  encode,
  getField,
  msgTypeOf,
  orderFlow,
  toFix,
  type ApplicationMessage,
  type FixMessage,
  type SessionOutput,
} from '../../../src/execution/fix/index.ts'
import { SESSION_MSG_TYPES } from '../../../src/execution/fix/validate.ts'
import type { Faults } from './faults.ts'
import { listen } from './listen.ts'

export interface AcceptorOptions {
  readonly compId: string
  /** The initiators' CompIDs: a Logon from any other is closed without an answer. */
  readonly initiators: readonly string[]
  readonly tickMs: number
  readonly faults: Faults
  readonly clock: () => number
  /** An application message the session delivered, in sequence order. */
  readonly deliver: (initiator: string, message: FixMessage) => void
  readonly log: (line: string) => void
}

interface Counterparty {
  readonly compId: string
  readonly session: FixSession
  socket: Socket | null
}

export class FixAcceptor {
  private readonly server: Server
  private readonly counterparties = new Map<string, Counterparty>()
  private readonly timer: ReturnType<typeof setInterval>

  constructor(private readonly options: AcceptorOptions) {
    for (const compId of options.initiators) {
      const session = new FixSession(
        {
          role: 'acceptor',
          senderCompId: options.compId,
          targetCompId: compId,
          heartBtInt: 30, // the initiator's HeartBtInt is the one used
          application: orderFlow,
          clock: options.clock,
        },
        new MemorySessionStore(),
      )
      this.counterparties.set(compId, { compId, session, socket: null })
    }
    this.server = createServer((socket) => this.onConnection(socket))
    this.timer = setInterval(() => {
      for (const party of this.counterparties.values()) this.apply(party, party.session.tick())
    }, options.tickMs)
  }

  listen(port: number, host: string): Promise<number> {
    return listen(this.server, port, host)
  }

  /** Sends an application message to the initiator (kept and numbered even while it is away). */
  send(initiator: string, message: ApplicationMessage): void {
    const party = this.counterparty(initiator)
    const output = party.session.send(toFix(message))
    const written = output.send.length > 0
    if (written && this.options.faults.take('drop-outbound')) {
      this.options.log(`${initiator}: dropped outbound ${message.type} (fault control)`)
      output.send.length = 0
    }
    this.apply(party, output)
    if (written) this.countTowardsDisconnect(party)
  }

  /** Cuts the connection of one initiator, or all, without a Logout. */
  disconnect(initiator?: string): void {
    const parties = initiator === undefined ? [...this.counterparties.values()] : [this.counterparty(initiator)]
    for (const party of parties) this.cut(party, 'disconnected (fault control)')
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    for (const party of this.counterparties.values()) this.cut(party, 'venue stopping')
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** The first message says who connected: it must be a configured initiator not already on. */
  private onConnection(socket: Socket) {
    const framer = new FixFramer()
    let party: Counterparty | null = null
    socket.on('error', (error) => this.options.log(`fix: ${error.message}`))
    socket.on('close', () => {
      if (party?.socket !== socket) return
      party.socket = null
      this.apply(party, party.session.disconnected())
    })
    socket.on('data', (chunk) => {
      for (const result of framer.push(chunk)) {
        // A connection the venue closed or cut says nothing more to the session.
        if (socket.destroyed || (party && party.socket !== socket)) return
        if (result.kind === 'garbled') {
          this.options.log(`fix: garbled input discarded (${result.reason})`)
          continue
        }
        party ??= this.claim(socket, result.message)
        if (party) this.receive(party, result.message)
      }
    })
  }

  private claim(socket: Socket, first: FixMessage): Counterparty | null {
    const sender = getField(first, 49) ?? '(none)'
    const party = this.counterparties.get(sender)
    if (!party || party.socket) {
      this.options.log(`fix: connection from ${sender} refused (${party ? 'already connected' : 'unknown CompID'})`)
      socket.destroy()
      return null
    }
    party.socket = socket
    this.apply(party, party.session.connect())
    return party
  }

  private receive(party: Counterparty, message: FixMessage) {
    const application = !SESSION_MSG_TYPES.has(msgTypeOf(message) as string)
    // A resend is never dropped: recovery always gets there.
    const firstSending = getField(message, 43) !== 'Y'
    if (application && firstSending && party.session.state === 'active') {
      if (this.options.faults.take('drop-inbound')) {
        return this.options.log(`${party.compId}: dropped inbound MsgSeqNum ${getField(message, 34)} (fault control)`)
      }
    }
    this.apply(party, party.session.receive(encode(message)))
    if (application) this.countTowardsDisconnect(party)
  }

  /** Writes what the session says to, hands over what it delivered, closes when it says so. */
  private apply(party: Counterparty, output: SessionOutput) {
    for (const bytes of output.send) party.socket?.write(bytes)
    for (const event of output.events) this.options.log(`${party.compId}: ${describe(event)}`)
    for (const message of output.deliver) this.options.deliver(party.compId, message)
    if (output.close && party.socket) {
      party.socket.end()
      party.socket = null // free for the initiator's next connection
    }
  }

  private countTowardsDisconnect(party: Counterparty) {
    if (this.options.faults.expire('disconnect-after')) this.cut(party, 'disconnected after N messages (fault control)')
  }

  private cut(party: Counterparty, reason: string) {
    if (!party.socket) return
    this.options.log(`${party.compId}: ${reason}`)
    party.socket.destroy()
    party.socket = null
    this.apply(party, party.session.disconnected())
  }

  private counterparty(compId: string): Counterparty {
    const party = this.counterparties.get(compId)
    if (!party) throw new Error(`no session with ${compId}`)
    return party
  }
}

function describe(event: SessionOutput['events'][number]): string {
  const { type, ...details } = event
  return Object.keys(details).length === 0 ? type : `${type} ${JSON.stringify(details)}`
}
