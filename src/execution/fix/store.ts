// What a FIX session keeps across connections and restarts: its two sequence numbers and the
// application messages it sent, so that a ResendRequest can be answered. Synchronous, because
// a Durable Object's SQLite storage is: the session calls it in the middle of a step.

export interface SentMessage {
  readonly seq: number
  /** The message exactly as it was first sent (encoded, header and trailer included). */
  readonly message: Uint8Array
}

export interface SessionStore {
  /** The MsgSeqNum of the next message we send; 1 for a new session. */
  nextOutgoingSeq(): number
  /** The MsgSeqNum we expect next from the peer; 1 for a new session. */
  nextIncomingSeq(): number
  setNextOutgoingSeq(seq: number): void
  setNextIncomingSeq(seq: number): void
  /** Keeps an application message we sent; the same seq again replaces it. */
  saveOutgoing(seq: number, message: Uint8Array): void
  /** The kept messages with begin ≤ seq ≤ end, by seq ascending. */
  outgoingBetween(begin: number, end: number): SentMessage[]
  /** A new sequence (ResetSeqNumFlag): both numbers back to 1, the kept messages forgotten. */
  reset(): void
}

/** The store in memory: for tests and the simulated venue. */
export class MemorySessionStore implements SessionStore {
  private outgoing = 1
  private incoming = 1
  private readonly sent = new Map<number, Uint8Array>()

  nextOutgoingSeq(): number {
    return this.outgoing
  }

  nextIncomingSeq(): number {
    return this.incoming
  }

  setNextOutgoingSeq(seq: number): void {
    this.outgoing = seq
  }

  setNextIncomingSeq(seq: number): void {
    this.incoming = seq
  }

  saveOutgoing(seq: number, message: Uint8Array): void {
    this.sent.set(seq, message)
  }

  outgoingBetween(begin: number, end: number): SentMessage[] {
    return [...this.sent]
      .filter(([seq]) => seq >= begin && seq <= end)
      .sort(([a], [b]) => a - b)
      .map(([seq, message]) => ({ seq, message }))
  }

  reset(): void {
    this.outgoing = 1
    this.incoming = 1
    this.sent.clear()
  }
}
