// A FIX 4.4 session, initiator or acceptor, as a state machine with no I/O and no timers: every
// input (connected, bytes received, a message to send, time passing, disconnected) returns what
// to do — bytes to write, application messages to hand over in sequence order, what happened,
// whether to close the connection. The clock is injected; tick() is how time passes.

import { FixFramer, decode, encode, getField, msgTypeOf, type Field, type FixMessage } from './codec.ts'
import { RejectReason, formatUtcTimestamp, parseNonNegativeInt, parseSeqNum } from './fields.ts'
import type { SessionStore } from './store.ts'
import {
  SESSION_MSG_TYPES,
  findProblem,
  type ApplicationDictionary,
  type Problem,
} from './validate.ts'

export interface SessionConfig {
  readonly role: 'initiator' | 'acceptor'
  readonly senderCompId: string
  readonly targetCompId: string
  /** Seconds. The initiator proposes it in its Logon; the acceptor adopts the initiator's. */
  readonly heartBtInt: number
  /** Silence from the peer beyond HeartBtInt before a TestRequest (default HeartBtInt / 5). */
  readonly testRequestGraceMs?: number
  /** How long to wait for the peer's Logon, and for the answer to our Logout (default 10 s). */
  readonly logonTimeoutMs?: number
  readonly logoutTimeoutMs?: number
  /** Initiator only: start a new sequence at every Logon (ResetSeqNumFlag 141=Y). */
  readonly resetOnLogon?: boolean
  readonly application: ApplicationDictionary
  /** Epoch milliseconds. */
  readonly clock: () => number
}

export type SessionEvent =
  | { readonly type: 'logged-on'; readonly heartBtInt: number; readonly reset: boolean }
  | { readonly type: 'logged-out'; readonly text: string | undefined }
  /** A message above the expected seq: ResendRequest sent for expected… (16=0). */
  | { readonly type: 'gap-detected'; readonly expected: number; readonly received: number }
  /** Every message held back behind a gap has been acted on. */
  | { readonly type: 'gap-filled'; readonly nextIncoming: number }
  | { readonly type: 'sequence-reset'; readonly newSeqNo: number; readonly gapFill: boolean }
  | { readonly type: 'resend-served'; readonly begin: number; readonly end: number }
  | { readonly type: 'garbled'; readonly reason: string }
  /** We sent a session-level Reject for the peer's message `refSeqNum`. */
  | ({ readonly type: 'rejected'; readonly refSeqNum: number; readonly refMsgType: string } & Problem)
  /** The peer rejected one of ours. */
  | { readonly type: 'reject-received'; readonly refSeqNum: number; readonly text: string | undefined }
  | { readonly type: 'disconnected'; readonly reason: string }

export interface SessionOutput {
  /** Bytes to write, in order. */
  readonly send: Uint8Array[]
  /** Application messages, in MsgSeqNum order, each exactly once. */
  readonly deliver: FixMessage[]
  readonly events: SessionEvent[]
  /** Close the connection (after writing `send`). */
  close: boolean
}

export type SessionState = 'disconnected' | 'awaiting-logon' | 'logon-sent' | 'active' | 'logout-sent'

const DEFAULT_TIMEOUT_MS = 10_000

export class FixSession {
  private stateNow: SessionState = 'disconnected'
  private framer = new FixFramer()
  private heartBtIntMs: number
  private lastSentAt = 0
  private lastReceivedAt = 0
  /** When we connected (awaiting a Logon) or sent our Logout (awaiting the answer). */
  private waitingSince = 0
  private testRequest: { id: string; sentAt: number } | null = null
  /** the MsgSeqNum of our Logon on this connection (initiator) */
  private logonSeq = 0
  private resendRequestedAt: number | null = null
  /** Messages above the expected seq, held until the gap before them is filled. */
  private readonly heldBack = new Map<number, FixMessage | 'already-handled'>()
  private out: SessionOutput = emptyOutput()

  constructor(
    private readonly config: SessionConfig,
    private readonly store: SessionStore,
  ) {
    this.heartBtIntMs = config.heartBtInt * 1000
  }

  get state(): SessionState {
    return this.stateNow
  }

  /** The transport is connected: the initiator sends its Logon, the acceptor waits for one. */
  connect(): SessionOutput {
    return this.step(() => {
      if (this.stateNow !== 'disconnected') throw new Error(`connect() while ${this.stateNow}`)
      const now = this.config.clock()
      this.framer = new FixFramer()
      this.heldBack.clear()
      this.testRequest = null
      this.resendRequestedAt = null
      this.lastSentAt = this.lastReceivedAt = this.waitingSince = now
      if (this.config.role === 'acceptor') {
        this.stateNow = 'awaiting-logon'
        return
      }
      const reset = this.config.resetOnLogon === true
      if (reset) this.store.reset()
      this.heartBtIntMs = this.config.heartBtInt * 1000
      this.logonSeq = this.store.nextOutgoingSeq()
      this.sendSessionMessage(logon(this.config.heartBtInt, reset))
      this.stateNow = 'logon-sent'
    })
  }

  /** Bytes from the peer, split anywhere. */
  receive(bytes: Uint8Array): SessionOutput {
    return this.step(() => {
      for (const result of this.framer.push(bytes)) {
        if (!this.isConnected()) return
        if (result.kind === 'garbled') this.out.events.push({ type: 'garbled', reason: result.reason })
        else this.onMessage(result.message)
      }
    })
  }

  /**
   * Sends an application message (header added here). It is numbered and kept even when not
   * logged on, and then reaches the peer when it asks for the gap after the next Logon.
   */
  send(message: FixMessage): SessionOutput {
    return this.step(() => {
      const msgType = msgTypeOf(message)
      if (msgType === undefined || SESSION_MSG_TYPES.has(msgType)) {
        throw new Error(`send() takes application messages, not MsgType ${msgType}`)
      }
      const seq = this.store.nextOutgoingSeq()
      const bytes = encode(this.withHeader(message, seq))
      this.store.saveOutgoing(seq, bytes)
      this.store.setNextOutgoingSeq(seq + 1)
      if (this.stateNow === 'active') this.write(bytes)
    })
  }

  /** Starts the Logout handshake; the connection closes on the peer's Logout or a timeout. */
  logout(text?: string): SessionOutput {
    return this.step(() => {
      if (this.stateNow === 'disconnected') return
      if (this.stateNow !== 'active') return this.close('logout before logged on')
      this.sendSessionMessage(logout(text))
      this.stateNow = 'logout-sent'
      this.waitingSince = this.config.clock()
    })
  }

  /** Time passes: heartbeats, test requests, and the timeouts that close the connection. */
  tick(): SessionOutput {
    return this.step(() => {
      const now = this.config.clock()
      const state = this.stateNow
      if (state === 'awaiting-logon' || state === 'logon-sent') {
        const timeout = this.config.logonTimeoutMs ?? DEFAULT_TIMEOUT_MS
        if (now - this.waitingSince >= timeout) this.close('no Logon in time')
        return
      }
      if (state === 'logout-sent') {
        const timeout = this.config.logoutTimeoutMs ?? DEFAULT_TIMEOUT_MS
        if (now - this.waitingSince >= timeout) this.close('no answer to our Logout in time')
        return
      }
      if (state !== 'active' || this.heartBtIntMs === 0) return
      const patience = this.heartBtIntMs + (this.config.testRequestGraceMs ?? this.heartBtIntMs / 5)
      if (this.testRequest && now - this.testRequest.sentAt >= patience) {
        return this.close(`TestRequest ${this.testRequest.id} not answered`)
      }
      if (!this.testRequest && now - this.lastReceivedAt >= patience) {
        const id = `TEST-${this.store.nextOutgoingSeq()}`
        this.sendSessionMessage([[35, '1'], [112, id]])
        this.testRequest = { id, sentAt: now }
      }
      if (now - this.lastSentAt >= this.heartBtIntMs) this.sendSessionMessage([[35, '0']])
    })
  }

  /** The transport closed. Sequence numbers stay in the store for the next connection. */
  disconnected(): SessionOutput {
    return this.step(() => {
      if (this.stateNow !== 'disconnected') this.close('connection closed')
      this.out.close = false
    })
  }

  private isConnected(): boolean {
    return this.stateNow !== 'disconnected'
  }

  private step(action: () => void): SessionOutput {
    this.out = emptyOutput()
    action()
    return this.out
  }

  private onMessage(message: FixMessage) {
    this.lastReceivedAt = this.config.clock()
    this.testRequest = null // the peer is there: whatever it sent answers the test
    const msgType = msgTypeOf(message) as string
    if (this.stateNow === 'awaiting-logon' || this.stateNow === 'logon-sent') {
      if (msgType === 'A') return this.onLogon(message)
      if (msgType === '5') return this.onLogout(message)
      return this.close(`first message was MsgType ${msgType}, not a Logon`)
    }
    const seq = parseSeqNum(getField(message, 34))
    if (seq === undefined) return this.logoutAndClose('MsgSeqNum (34) missing or not a number')
    // SequenceReset-Reset moves the expected number whatever its own MsgSeqNum says.
    if (msgType === '4' && getField(message, 123) !== 'Y') return this.onSequenceReset(message, seq)
    const expected = this.store.nextIncomingSeq()
    if (seq < expected) {
      if (getField(message, 43) === 'Y') return // a copy of one already acted on
      return this.logoutAndClose(`MsgSeqNum too low, expecting ${expected} but received ${seq}`)
    }
    if (seq > expected) {
      // A ResendRequest is served at once, or two sides missing messages would wait on each
      // other; a Logout is answered at once, the gap is asked for after the next Logon.
      const actNow = (msgType === '2' || msgType === '5') && !this.problemOf(message, seq)
      this.heldBack.set(seq, actNow ? 'already-handled' : message)
      if (actNow) this.act(message)
      if (this.isConnected()) this.requestResend(seq)
      return
    }
    this.actInOrder(message, seq)
    this.releaseHeldBack()
  }

  private onLogon(message: FixMessage) {
    const seq = parseSeqNum(getField(message, 34))
    const heartBtInt = parseNonNegativeInt(getField(message, 108))
    const reset = getField(message, 141) === 'Y'
    if (seq === undefined) return this.logoutAndClose('Logon: MsgSeqNum (34) missing or not a number')
    if (getField(message, 98) !== '0') return this.logoutAndClose('Logon: EncryptMethod (98) must be 0')
    if (heartBtInt === undefined) return this.logoutAndClose('Logon: HeartBtInt (108) is required')
    const problem = this.problemOf(message, seq)
    // Not the counterparty configured: it gets no message numbered in our sequence.
    if (problem?.reason === RejectReason.CompIdProblem) return this.close(`Logon: ${problem.text}`)
    if (problem) return this.logoutAndClose(`Logon: ${problem.text}`)
    if (this.config.role === 'acceptor') {
      if (reset) this.store.reset()
      this.heartBtIntMs = heartBtInt * 1000
    }
    const expected = this.store.nextIncomingSeq()
    if (seq < expected) {
      return this.logoutAndClose(`MsgSeqNum too low, expecting ${expected} but received ${seq}`)
    }
    if (this.config.role === 'acceptor') this.sendSessionMessage(logon(heartBtInt, reset))
    this.stateNow = 'active'
    this.out.events.push({ type: 'logged-on', heartBtInt: this.heartBtIntMs / 1000, reset })
    if (this.config.role === 'initiator') {
      // what was sent while our Logon was in flight, numbered after it, goes now (not at the
      // peer's next gap check, a heartbeat away)
      const queued = this.store.outgoingBetween(this.logonSeq + 1, this.store.nextOutgoingSeq() - 1)
      for (const m of queued) this.write(m.message)
    }
    if (seq > expected) {
      this.heldBack.set(seq, 'already-handled')
      this.requestResend(seq)
    } else {
      this.store.setNextIncomingSeq(seq + 1)
    }
  }

  private onLogout(message: FixMessage) {
    const text = getField(message, 58)
    this.out.events.push({ type: 'logged-out', text })
    if (this.stateNow === 'active') this.sendSessionMessage(logout())
    this.close(text === undefined ? 'logged out' : `logged out: ${text}`)
  }

  private onSequenceReset(message: FixMessage, seq: number) {
    const newSeqNo = parseSeqNum(getField(message, 36))
    const expected = this.store.nextIncomingSeq()
    if (newSeqNo === undefined || newSeqNo < expected) {
      const text = `tag 36: NewSeqNo must be a sequence number not below ${expected}`
      return this.reject(message, seq, { tag: 36, reason: RejectReason.ValueIncorrect, text })
    }
    this.store.setNextIncomingSeq(newSeqNo)
    this.out.events.push({ type: 'sequence-reset', newSeqNo, gapFill: false })
    this.releaseHeldBack()
  }

  /** The message numbered `seq`, which is the expected one: checked, counted, acted on. */
  private actInOrder(message: FixMessage, seq: number) {
    const problem = this.problemOf(message, seq)
    if (problem) {
      this.store.setNextIncomingSeq(seq + 1) // a rejected message still uses up its number
      this.reject(message, seq, problem)
      // FIX 4.4 ends the session after these two: the peer is not who, or not when, it says.
      const fatal = [RejectReason.CompIdProblem, RejectReason.SendingTimeAccuracy] as number[]
      if (fatal.includes(problem.reason)) this.logoutAndClose(problem.text)
      return
    }
    if (msgTypeOf(message) === '4') {
      const newSeqNo = Number(getField(message, 36))
      this.store.setNextIncomingSeq(newSeqNo)
      this.out.events.push({ type: 'sequence-reset', newSeqNo, gapFill: true })
      return
    }
    this.store.setNextIncomingSeq(seq + 1)
    this.act(message)
  }

  /** What a valid message asks for; sequence numbers are counted by the caller. */
  private act(message: FixMessage) {
    switch (msgTypeOf(message)) {
      case '0':
        return
      case '1':
        return this.sendSessionMessage([[35, '0'], [112, getField(message, 112) as string]])
      case '2':
        return this.serveResend(Number(getField(message, 7)), Number(getField(message, 16)))
      case '3': {
        const refSeqNum = Number(getField(message, 45))
        this.out.events.push({ type: 'reject-received', refSeqNum, text: getField(message, 58) })
        return
      }
      case '5':
        return this.onLogout(message)
      case 'A':
        return this.logoutAndClose('Logon received while logged on')
      default:
        this.out.deliver.push(message)
    }
  }

  /** Acts on held-back messages whose turn has come. */
  private releaseHeldBack() {
    while (this.stateNow === 'active' || this.stateNow === 'logout-sent') {
      const expected = this.store.nextIncomingSeq()
      for (const seq of this.heldBack.keys()) if (seq < expected) this.heldBack.delete(seq)
      const next = this.heldBack.get(expected)
      if (next === undefined) break
      this.heldBack.delete(expected)
      if (next === 'already-handled') this.store.setNextIncomingSeq(expected + 1)
      else this.actInOrder(next, expected)
    }
    if (this.heldBack.size === 0 && this.resendRequestedAt !== null) {
      this.resendRequestedAt = null
      this.out.events.push({ type: 'gap-filled', nextIncoming: this.store.nextIncomingSeq() })
    }
  }

  /**
   * Asks for everything from the expected seq on. One request at a time: a message above the
   * gap asks again only once the last request is a heartbeat interval old (it or its answer
   * may have been lost).
   */
  private requestResend(received: number) {
    const now = this.config.clock()
    const patience = Math.max(this.heartBtIntMs, 1000)
    if (this.resendRequestedAt !== null && now - this.resendRequestedAt < patience) return
    const expected = this.store.nextIncomingSeq()
    this.out.events.push({ type: 'gap-detected', expected, received })
    this.sendSessionMessage([[35, '2'], [7, String(expected)], [16, '0']])
    this.resendRequestedAt = now
  }

  /**
   * Sends again what we sent numbered begin…end (end 0: up to the last): application messages
   * as they were with PossDupFlag and OrigSendingTime, each run of session messages (never
   * resent) as one SequenceReset-GapFill.
   */
  private serveResend(begin: number, endSeqNo: number) {
    const last = this.store.nextOutgoingSeq() - 1
    const end = endSeqNo === 0 || endSeqNo > last ? last : endSeqNo
    if (begin > end) return
    this.out.events.push({ type: 'resend-served', begin, end })
    let next = begin
    for (const { seq, message } of this.store.outgoingBetween(begin, end)) {
      if (seq > next) this.write(encode(this.gapFill(next, seq)))
      this.write(encode(this.possibleDuplicate(decode(message))))
      next = seq + 1
    }
    if (next <= end) this.write(encode(this.gapFill(next, end + 1)))
  }

  private gapFill(seq: number, newSeqNo: number): FixMessage {
    const now = formatUtcTimestamp(this.config.clock())
    const fields: Field[] = [[35, '4'], [43, 'Y'], [122, now], [123, 'Y'], [36, String(newSeqNo)]]
    return this.withHeader(fields, seq)
  }

  private possibleDuplicate(original: FixMessage): FixMessage {
    const firstSent = getField(original, 52) as string
    const now = formatUtcTimestamp(this.config.clock())
    return [
      ...original.map(([tag, value]): Field => [tag, tag === 52 ? now : value]),
      [43, 'Y'],
      [122, firstSent],
    ]
  }

  private problemOf(message: FixMessage, seq: number): Problem | undefined {
    return findProblem(message, seq, this.config)
  }

  private reject(message: FixMessage, seq: number, problem: Problem) {
    const refMsgType = msgTypeOf(message) as string
    this.out.events.push({ type: 'rejected', refSeqNum: seq, refMsgType, ...problem })
    if (refMsgType === '3') return // a Reject is never rejected: that could go on forever
    this.sendSessionMessage([
      [35, '3'],
      [45, String(seq)],
      [371, String(problem.tag)],
      [372, refMsgType],
      [373, String(problem.reason)],
      [58, problem.text],
    ])
  }

  /** A session message: numbered, sent, not kept (a resend replaces it with a gap fill). */
  private sendSessionMessage(message: FixMessage) {
    const seq = this.store.nextOutgoingSeq()
    this.store.setNextOutgoingSeq(seq + 1)
    this.write(encode(this.withHeader(message, seq)))
  }

  private write(bytes: Uint8Array) {
    this.out.send.push(bytes)
    this.lastSentAt = this.config.clock()
  }

  private withHeader(message: FixMessage, seq: number): FixMessage {
    return [
      [49, this.config.senderCompId],
      [56, this.config.targetCompId],
      [34, String(seq)],
      [52, formatUtcTimestamp(this.config.clock())],
      ...message,
    ]
  }

  private logoutAndClose(text: string) {
    this.sendSessionMessage(logout(text))
    this.close(text)
  }

  private close(reason: string) {
    this.stateNow = 'disconnected'
    this.out.close = true
    this.out.events.push({ type: 'disconnected', reason })
  }
}

function logon(heartBtInt: number, reset: boolean): FixMessage {
  const fields: Field[] = [[35, 'A'], [98, '0'], [108, String(heartBtInt)]]
  return reset ? [...fields, [141, 'Y']] : fields
}

function logout(text?: string): FixMessage {
  return text === undefined ? [[35, '5']] : [[35, '5'], [58, text]]
}

function emptyOutput(): SessionOutput {
  return { send: [], deliver: [], events: [], close: false }
}
