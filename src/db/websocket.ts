// The WebSocket the Postgres driver talks through, with its sends coalesced. The driver writes a
// query as several protocol messages in a row (Parse, Bind, Describe, Execute, Sync): one frame
// each costs workerd about 0.1 ms, and the driver's own coalescing (neonConfig.coalesceWrites)
// waits for a setTimeout(0), about 1 ms per round trip. Here the messages written in one turn of
// the event loop leave together at its end (a microtask), as one frame.

/** What the driver uses of a WebSocket. */
interface Socket {
  binaryType: string
  addEventListener(type: string, listener: (event: never) => void): void
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}
type SocketConstructor = new (url: string) => Socket

export function coalescing(Base: SocketConstructor): SocketConstructor {
  return class CoalescingWebSocket {
    readonly #ws: Socket
    #queued: Uint8Array[] = []

    constructor(url: string) {
      this.#ws = new Base(url)
    }

    get binaryType() {
      return this.#ws.binaryType
    }

    set binaryType(type: string) {
      this.#ws.binaryType = type
    }

    addEventListener(type: string, listener: (event: never) => void) {
      this.#ws.addEventListener(type, listener)
    }

    send(data: Uint8Array) {
      this.#queued.push(data)
      if (this.#queued.length === 1) queueMicrotask(() => this.#flush())
    }

    close(code?: number, reason?: string) {
      this.#flush()
      this.#ws.close(code, reason)
    }

    #flush() {
      const queued = this.#queued
      if (queued.length === 0) return
      this.#queued = []
      if (queued.length === 1) return this.#ws.send(queued[0])
      const frame = new Uint8Array(queued.reduce((n, b) => n + b.byteLength, 0))
      let at = 0
      for (const b of queued) {
        frame.set(b, at)
        at += b.byteLength
      }
      this.#ws.send(frame)
    }
  }
}
