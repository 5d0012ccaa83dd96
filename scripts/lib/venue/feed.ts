// The venue's market-data feed over TCP, in the line protocol src/execution/nbbo.ts reads: each
// client gets every symbol's quote when it connects, then a Q line whenever a top of book
// changes and a T line per trade, one event per newline-terminated line.
import { createServer, type Server, type Socket } from 'node:net'
import { formatCents } from '../../../src/lib/money.ts'
import type { VenueQuote, VenueTrade } from '../../../src/execution/nbbo.ts'
import { listen } from './listen.ts'

/** One event as its feed line, newline included; an empty side is `0|0`. */
export function formatFeedLine(event: VenueQuote | VenueTrade): string {
  if (event.type === 'trade') {
    return `T|${event.venue}|${event.symbol}|${formatCents(event.price)}|${event.qty}|${event.ts}\n`
  }
  const side = (price: number | null, size: number) => (price === null ? '0|0' : `${formatCents(price)}|${size}`)
  const bid = side(event.bid, event.bidSize)
  const ask = side(event.ask, event.askSize)
  return `Q|${event.venue}|${event.symbol}|${bid}|${ask}|${event.ts}\n`
}

export class FeedServer {
  private readonly server: Server
  private readonly clients = new Set<Socket>()

  /** `snapshot` gives the quotes a new client starts from. */
  constructor(
    private readonly snapshot: () => VenueQuote[],
    private readonly log: (line: string) => void,
  ) {
    this.server = createServer((socket) => this.onConnection(socket))
  }

  /** Listens; resolves to the port (an ephemeral one for port 0). */
  listen(port: number, host: string): Promise<number> {
    return listen(this.server, port, host)
  }

  publish(event: VenueQuote | VenueTrade): void {
    const line = formatFeedLine(event)
    for (const client of this.clients) client.write(line)
  }

  close(): Promise<void> {
    for (const client of this.clients) client.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private onConnection(socket: Socket) {
    this.clients.add(socket)
    this.log(`feed: client ${socket.remoteAddress}:${socket.remotePort} connected`)
    socket.on('error', (error) => this.log(`feed: ${error.message}`))
    socket.on('close', () => this.clients.delete(socket))
    // A client only listens; what it writes is read and discarded, so it never blocks.
    socket.resume()
    socket.write(this.snapshot().map(formatFeedLine).join(''))
  }
}
