// A FIX initiator for the venue tests: a FixSession over node:net on the real clock, its store
// kept across connections, every order-flow message it receives kept in arrival order.
import { connect, type Socket } from 'node:net'
import {
  FixSession,
  MemorySessionStore,
  fromFix,
  orderFlow,
  toFix,
  type ApplicationMessage,
  type FixMessage,
  type SessionEvent,
  type SessionOutput,
} from '../../../src/execution/fix/index.ts'

export class Initiator {
  readonly session: FixSession
  /** ExecutionReports and OrderCancelRejects as delivered: in sequence order, each once. */
  readonly received: ApplicationMessage[] = []
  readonly events: SessionEvent[] = []
  private socket: Socket | null = null
  private readonly timer: ReturnType<typeof setInterval>
  private readonly listeners = new Set<() => void>()

  constructor(
    private readonly port: number,
    compId = 'BOURSE',
    venueCompId = 'NSIM',
  ) {
    const config = {
      role: 'initiator' as const,
      senderCompId: compId,
      targetCompId: venueCompId,
      // One second, so that a lost last message shows as a gap at the next Heartbeat soon.
      heartBtInt: 1,
      application: orderFlow,
      clock: Date.now,
    }
    this.session = new FixSession(config, new MemorySessionStore())
    this.timer = setInterval(() => this.apply(this.session.tick()), 50)
  }

  get connected(): boolean {
    return this.socket !== null
  }

  /** Connects and logs on; resolves once logged on, rejects if the venue closes first. */
  async logon(): Promise<void> {
    const socket = connect(this.port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    this.socket = socket
    socket.on('data', (chunk) => {
      if (this.socket === socket) this.apply(this.session.receive(chunk))
    })
    socket.on('error', () => {}) // a reset shows as 'close' next
    socket.on('close', () => {
      if (this.socket !== socket) return
      this.socket = null
      this.apply(this.session.disconnected())
    })
    this.apply(this.session.connect())
    await this.waitFor(() => {
      if (this.session.state === 'active') return true
      if (!this.socket) throw new Error('closed before logged on')
      return undefined
    }, 'logged on')
  }

  send(message: ApplicationMessage): void {
    this.sendFields(toFix(message))
  }

  /** Body fields as given: header fields among them (43, 122) go into the header. */
  sendFields(fields: FixMessage): void {
    this.apply(this.session.send(fields))
  }

  /**
   * Resolves with the first value `check` returns that is not undefined, checked now and after
   * everything the session does; rejects after `timeoutMs`, or when `check` throws.
   */
  waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 4_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        this.listeners.delete(listener)
        clearTimeout(timeout)
      }
      const listener = () => {
        try {
          const value = check()
          if (value === undefined) return
          done()
          resolve(value)
        } catch (error) {
          done()
          reject(error)
        }
      }
      const timeout = setTimeout(() => {
        done()
        reject(new Error(`timed out waiting for ${what}`))
      }, timeoutMs)
      this.listeners.add(listener)
      listener()
    })
  }

  close(): void {
    clearInterval(this.timer)
    const socket = this.socket
    this.socket = null
    socket?.destroy()
  }

  private apply(output: SessionOutput) {
    for (const bytes of output.send) this.socket?.write(bytes)
    this.events.push(...output.events)
    for (const message of output.deliver) this.received.push(fromFix(message))
    if (output.close) {
      const socket = this.socket
      this.socket = null
      socket?.end()
    }
    for (const listener of [...this.listeners]) listener()
  }
}
