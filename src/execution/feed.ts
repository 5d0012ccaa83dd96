// Reading a venue's market-data feed (the line protocol of nbbo.ts) from a byte stream: a
// cloudflare:sockets socket in the Worker, anything readable in tests. Lines may arrive split
// anywhere; each read's events go to the sink together, so a burst costs one call.
import { parseFeedLine } from './nbbo.ts'
import type { FeedEvent } from './nbbo.ts'

/** A line longer than this is not the protocol's: dropped, and the reader goes on. */
const MAX_LINE = 512

export class LineSplitter {
  private readonly decoder = new TextDecoder()
  private partial = ''
  /** an over-long line is being dropped: the rest of it, up to its newline, goes too */
  private skipping = false
  /** characters dropped from over-long lines so far */
  dropped = 0

  push(chunk: Uint8Array): string[] {
    const lines = (this.partial + this.decoder.decode(chunk, { stream: true })).split('\n')
    this.partial = lines.pop()!
    if (this.skipping && lines.length > 0) {
      this.dropped += lines.shift()!.length
      this.skipping = false
    }
    if (this.partial.length > MAX_LINE || this.skipping) {
      this.dropped += this.partial.length
      this.partial = ''
      this.skipping = true
    }
    return lines.filter((line) => {
      if (line.length <= MAX_LINE) return true
      this.dropped += line.length
      return false
    })
  }
}

export interface FeedStats {
  events: number
  /** lines that were not the protocol's (counted, skipped) */
  bad: number
}

/** Reads the stream to its end, handing each read's events to `sink`. */
export async function readFeed(
  readable: ReadableStream<Uint8Array>,
  sink: (events: FeedEvent[]) => void | Promise<void>,
): Promise<FeedStats> {
  const stats: FeedStats = { events: 0, bad: 0 }
  const splitter = new LineSplitter()
  const reader = readable.getReader()
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return stats
      const events: FeedEvent[] = []
      for (const line of splitter.push(value)) {
        if (line.trim() === '') continue
        const event = parseFeedLine(line)
        if (event) events.push(event)
        else stats.bad++
      }
      stats.events += events.length
      if (events.length) await sink(events)
    }
  } finally {
    reader.releaseLock()
  }
}
