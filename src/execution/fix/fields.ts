// FIX field values as the session and the order messages read them: sequence numbers,
// UTCTimestamp, prices (integer cents here, exact decimal strings on the wire) and share
// quantities. A value that does not read is a FixFieldError naming the tag and the
// SessionRejectReason (373) the session sends back in its Reject.

import { formatCents, parseCents } from '../../lib/money.ts'

/** SessionRejectReason (373) codes of FIX 4.4 that this layer sends. */
export const RejectReason = {
  RequiredTagMissing: 1,
  TagWithoutValue: 4,
  ValueIncorrect: 5,
  IncorrectDataFormat: 6,
  CompIdProblem: 9,
  SendingTimeAccuracy: 10,
  InvalidMsgType: 11,
  TagAppearsMoreThanOnce: 13,
} as const
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason]

/** A field that is missing, repeated or unreadable: what a session-level Reject reports. */
export class FixFieldError extends Error {
  constructor(
    readonly tag: number,
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message)
    this.name = 'FixFieldError'
  }
}

const POSITIVE_INT = /^[1-9]\d{0,14}$/
const NON_NEGATIVE_INT = /^(0|[1-9]\d{0,14})$/

/** MsgSeqNum and the other sequence numbers: 1, 2, …; undefined for anything else. */
export function parseSeqNum(text: string | undefined): number | undefined {
  return text !== undefined && POSITIVE_INT.test(text) ? Number(text) : undefined
}

/** A non-negative integer (HeartBtInt, EndSeqNo where 0 means "no end"); undefined otherwise. */
export function parseNonNegativeInt(text: string | undefined): number | undefined {
  return text !== undefined && NON_NEGATIVE_INT.test(text) ? Number(text) : undefined
}

const UTC_TIMESTAMP = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?$/

/** Epoch milliseconds → UTCTimestamp `YYYYMMDD-HH:MM:SS.sss`. */
export function formatUtcTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString() // 2026-01-05T14:30:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`
}

/**
 * UTCTimestamp → epoch milliseconds; the milliseconds are optional in FIX 4.4. Undefined for
 * anything else, impossible dates (Feb 30) included. Leap seconds are not accepted.
 */
export function parseUtcTimestamp(text: string | undefined): number | undefined {
  const m = text === undefined ? null : UTC_TIMESTAMP.exec(text)
  if (!m) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number)
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, Number(m[7] ?? 0))
  // Date.UTC rolls 31 April over to 1 May: a date that does not come back was not a date.
  const back = new Date(ms)
  const same =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second
  return same ? ms : undefined
}

/** Integer cents → a FIX Price, `"12.30"`: written from integers, never through a float. */
export function formatPrice(cents: number): string {
  return formatCents(cents)
}

/** A FIX Price → integer cents; at most 2 decimals (zeros past them allowed), no sign, no exponent. */
export function parsePrice(tag: number, text: string): number {
  try {
    return parseCents(text.replace(/^(\d+\.\d{2})0+$/, '$1'))
  } catch {
    throw new FixFieldError(
      tag,
      RejectReason.IncorrectDataFormat,
      `tag ${tag}: ${JSON.stringify(text)} is not a price in cents (digits, at most 2 decimals)`,
    )
  }
}

/** A quantity of shares: a whole number, written without decimals. */
export function parseShares(tag: number, text: string): number {
  const shares = parseNonNegativeInt(text)
  if (shares === undefined) {
    throw new FixFieldError(
      tag,
      RejectReason.IncorrectDataFormat,
      `tag ${tag}: ${JSON.stringify(text)} is not a whole number of shares`,
    )
  }
  return shares
}
