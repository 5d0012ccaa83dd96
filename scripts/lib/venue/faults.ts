// The venue's fault controls, all counters: how many of the next messages or orders a fault
// takes. They are set by hand (the handle, the CLI's admin lines), never by chance, so a test
// that arms one knows exactly which message it hits.

export type Fault =
  /** Inbound application messages read and thrown away (their MsgSeqNum is then a gap). */
  | 'drop-inbound'
  /** Outbound application messages numbered and kept but not written. */
  | 'drop-outbound'
  /** NewOrderSingles answered with a rejected ExecutionReport. */
  | 'reject-orders'
  /** Application messages (either way) after which the connection is cut. */
  | 'disconnect-after'

export class Faults {
  private readonly counts = new Map<Fault, number>()

  arm(fault: Fault, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`not a count: ${count}`)
    this.counts.set(fault, count)
  }

  remaining(fault: Fault): number {
    return this.counts.get(fault) ?? 0
  }

  /** Whether the fault takes this one: true while its count lasts, counting it down. */
  take(fault: Fault): boolean {
    const left = this.remaining(fault)
    if (left > 0) this.counts.set(fault, left - 1)
    return left > 0
  }

  /** Counts one down; true when that was the last (the moment a countdown fault fires). */
  expire(fault: Fault): boolean {
    return this.take(fault) && this.remaining(fault) === 0
  }
}
