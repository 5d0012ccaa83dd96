// A symbol's market-data subscribers, inside its Durable Object. Sockets are accepted with the
// hibernation API (ctx.acceptWebSocket): an idle subscriber costs nothing, pings are answered by
// the platform without waking the object, and what a socket subscribed to survives hibernation in
// its attachment. After each command the object calls publish(); the feed (feed.ts) turns the
// book's new state into quotes, trades and depth deltas, and each tier's throttle (throttle.ts:
// one per tier, shared by all its subscribers) decides what leaves now and what is conflated for
// later. A tier's message is serialized once and sent to each of its sockets that subscribed to
// its channel: the fan-out costs a send per socket, nothing more.
//
// A slow or stuck reader is caught by what it has not proved it read (src/lib/read-checks.ts): a
// socket more than maxUnackedBytes behind is closed with 4008 (the client reconnects and resumes
// with since=<seq>).
import type { Depth } from '../engine/types.ts'
import { problemBody } from '../errors.ts'
import { DEPTH_LEVELS, MarketFeed } from './feed.ts'
import type { Trade } from './feed.ts'
import { CLOSE, PING, PONG, parseClientMessage } from './protocol.ts'
import type { Channel, ServerMessage } from './protocol.ts'
import { TierThrottle, depthSnapshotMessage, depthUpdateMessage, nbboMessage, quoteMessage } from './throttle.ts'
import type { Tier } from './throttle.ts'
import { Histogram } from '../monitoring/histogram.ts'
import { ReadChecks, sendChecked } from '../lib/read-checks.ts'
import type { Reading } from '../lib/read-checks.ts'
import type { Nbbo } from '../execution/nbbo.ts'

/** What a socket keeps across hibernation. */
interface Attachment {
  userId: number
  tier: Tier
  channels: Channel[]
  /** since=<seq> of the upgrade, for its first depth subscription */
  since?: number
  reading?: Reading
}

/** Which channel each kind of message belongs to. */
const CHANNEL_OF = {
  quote: 'quotes',
  trade: 'trades',
  trades: 'trades',
  depth_update: 'depth',
  nbbo: 'nbbo',
} as const satisfies Record<string, Channel>

/** Headers the Worker passes with an upgrade it authenticated (routes.ts). */
export const UPGRADE_USER = 'x-bourse-user'
export const UPGRADE_TIER = 'x-bourse-tier'

/** Connections one user may hold to one symbol. */
export const MAX_CONNECTIONS_PER_USER = 10
/** Messages a client may send per CLIENT_WINDOW_MS. */
const MAX_CLIENT_MESSAGES = 50
const MAX_CLIENT_MESSAGE_BYTES = 4096
const CLIENT_WINDOW_MS = 10_000
/** Default for how far (bytes sent, unacknowledged) a reader may fall behind. */
export const MAX_UNACKED_BYTES = 4 << 20

/** What the hub needs of its object. */
export interface HubHost {
  ctx: DurableObjectState
  symbol(): string
  /** the book now: its command seq and its top levels */
  depth(levels: number): Depth & { seq: number }
  /** the venues' NBBO now */
  nbbo(): Nbbo
}

interface Connection {
  userId: number
  tier: Tier
  channels: Set<Channel>
  /** the upgrade's since=<seq>, until the first depth subscription uses it */
  since: number | undefined
  reading: ReadChecks
  /** messages received in the current window, and when the window started */
  received: number
  windowStart: number
}

export class MarketDataHub {
  /** microseconds from a book event to the message carrying it going out, per message sent */
  readonly lag = new Histogram()
  private feed: MarketFeed | undefined
  private readonly connections = new Map<WebSocket, Connection>()
  /** each tier's throttle, subscribed to every channel */
  private readonly tiers = new Map<Tier, TierThrottle>()
  /** every socket of the object is in `connections` (see wake) */
  private awake = false
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  private flushAt = Infinity

  constructor(
    private readonly host: HubHost,
    private readonly maxUnackedBytes = MAX_UNACKED_BYTES,
  ) {
    host.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG))
  }

  /** Accepts an upgrade the Worker authenticated (the user and its tier are the Worker's word). */
  accept(upgrade: { userId: number; tier: Tier; since?: number; protocol?: string; path: string }) {
    const { userId, tier, since, protocol } = upgrade
    const tag = `user:${userId}`
    if (this.host.ctx.getWebSockets(tag).length >= MAX_CONNECTIONS_PER_USER) {
      const detail = `At most ${MAX_CONNECTIONS_PER_USER} market-data connections per symbol`
      return Response.json(problemBody(429, 'too_many_connections', detail, upgrade.path), {
        status: 429,
        headers: { 'content-type': 'application/problem+json' },
      })
    }
    this.wake()
    const { 0: client, 1: server } = new WebSocketPair()
    this.host.ctx.acceptWebSocket(server, [tag])
    server.serializeAttachment({ userId, tier, channels: [], since } satisfies Attachment)
    this.connection(server)
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: protocol ? { 'sec-websocket-protocol': protocol } : {},
    })
  }

  /** A client's message (pings in the exact form never get here: the platform answers them). */
  message(ws: WebSocket, data: string | ArrayBuffer) {
    this.wake()
    const conn = this.connection(ws)
    // a client's messages are a few dozen bytes: a big one is not parsed at all
    if ((typeof data === 'string' ? data.length : data.byteLength) > MAX_CLIENT_MESSAGE_BYTES) {
      ws.close(CLOSE.messageTooBig, `messages are at most ${MAX_CLIENT_MESSAGE_BYTES} bytes`)
      return this.forget(ws)
    }
    const msg = parseClientMessage(data)
    // answers to read checks come as fast as the object sends: they do not count as the client's
    if ('op' in msg && msg.op === 'ack' && conn.reading.acknowledge(msg.token)) return this.remember(ws, conn)
    const now = Date.now()
    if (now - conn.windowStart >= CLIENT_WINDOW_MS) {
      conn.received = 0
      conn.windowStart = now
    }
    if (++conn.received > MAX_CLIENT_MESSAGES) {
      ws.close(CLOSE.tooManyMessages, `at most ${MAX_CLIENT_MESSAGES} messages per 10 s`)
      return this.forget(ws)
    }
    if ('type' in msg) return this.send(ws, conn, msg)
    if (msg.op === 'ping') return this.send(ws, conn, { type: 'pong' })
    if (msg.op === 'ack') return // of a check already answered, or of an earlier life of the object
    if (msg.op === 'unsubscribe') {
      for (const c of msg.channels) conn.channels.delete(c)
      this.remember(ws, conn)
      return this.send(ws, conn, { type: 'unsubscribed', channels: msg.channels })
    }
    this.subscribe(ws, conn, msg.channels, msg.since)
  }

  close(ws: WebSocket) {
    this.forget(ws)
  }

  /** After a command: what changed goes out to each subscriber, as its throttle allows. */
  publish(trades: Trade[], ts: number) {
    this.wake()
    if (this.connections.size === 0) return
    const update = this.theFeed().observe(this.bookDepth(), trades, ts)
    if (!update.quote && !update.depth && update.trades.length === 0) return
    const now = Date.now()
    // every throttle gets every update, subscribed to or not: one that missed some would later
    // merge deltas with a hole in them
    for (const [tier, throttle] of this.tiers) this.distribute(tier, throttle.offer(update, now))
    this.scheduleFlush()
  }

  /** The venues' NBBO changed: to the `nbbo` subscribers, as each tier's throttle allows. */
  publishNbbo(nbbo: Nbbo) {
    this.wake()
    if (this.connections.size === 0) return
    const now = Date.now()
    for (const [tier, throttle] of this.tiers) this.distribute(tier, throttle.offerNbbo(nbbo, now))
    this.scheduleFlush()
  }

  /**
   * The sockets this instance did not accept itself (it woke from hibernation, or restarted)
   * join once, each with a snapshot of its depth; from then on `connections` has them all.
   */
  private wake() {
    if (this.awake) return
    this.awake = true
    for (const ws of this.host.ctx.getWebSockets()) this.connection(ws)
  }

  /** A tier's messages, each serialized once, to its sockets subscribed to the channel. */
  private distribute(tier: Tier, messages: ServerMessage[]) {
    for (const message of messages) {
      const channel = CHANNEL_OF[message.type as keyof typeof CHANNEL_OF]
      const text = JSON.stringify(message)
      let sent = false
      for (const [ws, conn] of this.connections) {
        if (conn.tier === tier && conn.channels.has(channel)) {
          this.sendText(ws, conn, text)
          sent = true
        }
      }
      // market-data lag: the book's event time to its message leaving (throttling included)
      if (sent && 'ts' in message) this.lag.record((Date.now() - message.ts) * 1000)
    }
  }

  private throttle(tier: Tier): TierThrottle {
    let throttle = this.tiers.get(tier)
    if (!throttle) {
      throttle = new TierThrottle(this.host.symbol(), tier)
      this.tiers.set(tier, throttle)
    }
    return throttle
  }

  private subscribe(ws: WebSocket, conn: Connection, channels: Channel[], asked?: number) {
    const feed = this.theFeed()
    // the book may have moved since the last publish: bring the feed up to date first
    this.publish([], Date.now())
    const since = asked ?? conn.since
    if (channels.includes('depth')) conn.since = undefined
    for (const c of channels) conn.channels.add(c)
    this.remember(ws, conn)
    this.send(ws, conn, { type: 'subscribed', channels: [...conn.channels] })
    const symbol = this.host.symbol()
    if (channels.includes('quotes')) this.send(ws, conn, quoteMessage(symbol, feed.currentQuote()))
    if (channels.includes('nbbo')) this.send(ws, conn, nbboMessage(this.host.nbbo()))
    if (channels.includes('depth')) {
      // nothing can change the book between these lines and the replies (one thread, no await)
      const missed = since === undefined ? undefined : feed.since(since)
      if (missed) this.send(ws, conn, depthUpdateMessage(symbol, missed))
      else if (missed === undefined) {
        this.send(ws, conn, depthSnapshotMessage(symbol, feed.snapshot()))
      }
    }
  }

  private send(ws: WebSocket, conn: Connection, message: ServerMessage) {
    this.sendText(ws, conn, JSON.stringify(message))
  }

  private sendText(ws: WebSocket, conn: Connection, text: string) {
    if (!sendChecked(ws, conn.reading, text, () => this.remember(ws, conn))) this.forget(ws)
  }

  private scheduleFlush() {
    let next = Infinity
    for (const throttle of this.tiers.values()) next = Math.min(next, throttle.nextFlushAt() ?? Infinity)
    if (next === Infinity || next >= this.flushAt) return
    clearTimeout(this.flushTimer)
    this.flushAt = next
    this.flushTimer = setTimeout(() => this.flush(), Math.max(0, next - Date.now()))
  }

  private flush() {
    this.flushAt = Infinity
    const now = Date.now()
    for (const [tier, throttle] of this.tiers) this.distribute(tier, throttle.flush(now))
    this.scheduleFlush()
  }

  /** The socket's state; rebuilt from its attachment after hibernation. */
  private connection(ws: WebSocket): Connection {
    let conn = this.connections.get(ws)
    if (conn) return conn
    const { userId, tier, channels, since, reading } = ws.deserializeAttachment() as Attachment
    const now = Date.now()
    this.throttle(tier)
    conn = {
      userId,
      tier,
      channels: new Set(channels),
      since,
      reading: new ReadChecks(this.maxUnackedBytes, reading),
      received: 0,
      windowStart: now,
    }
    this.connections.set(ws, conn)
    // back from hibernation with depth: this life of the feed numbers afresh, so start over
    if (channels.includes('depth')) {
      this.send(ws, conn, depthSnapshotMessage(this.host.symbol(), this.theFeed().snapshot()))
    }
    return conn
  }

  private remember(ws: WebSocket, conn: Connection) {
    const { userId, tier, channels, since, reading } = conn
    ws.serializeAttachment({ userId, tier, channels: [...channels], since, reading: reading.saved() } satisfies Attachment)
  }

  private forget(ws: WebSocket) {
    this.connections.delete(ws)
  }

  private theFeed(): MarketFeed {
    if (!this.feed) {
      const { seq, ...depth } = this.host.depth(DEPTH_LEVELS)
      this.feed = new MarketFeed(seq, depth, Date.now())
    }
    return this.feed
  }

  private bookDepth(): Depth {
    const { bids, asks } = this.host.depth(DEPTH_LEVELS)
    return { bids, asks }
  }
}
