// The checks a message passes, once its turn in the sequence comes, before the session acts on
// it; a message that fails gets a session-level Reject (35=3) and still uses up its MsgSeqNum.

import { getField, msgTypeOf, type FixMessage } from './codec.ts'
import {
  FixFieldError,
  RejectReason,
  parseNonNegativeInt,
  parseSeqNum,
  parseUtcTimestamp,
} from './fields.ts'

/** Heartbeat, TestRequest, ResendRequest, Reject, SequenceReset, Logout, Logon. */
export const SESSION_MSG_TYPES: ReadonlySet<string> = new Set(['0', '1', '2', '3', '4', '5', 'A'])

/** The application messages a session carries, and how to tell a valid one. */
export interface ApplicationDictionary {
  readonly msgTypes: ReadonlySet<string>
  /** Throws FixFieldError when the message is not a valid one of its type. */
  validate(message: FixMessage): void
}

export interface Expected {
  /** Our CompID: the peer's TargetCompID (56). */
  readonly senderCompId: string
  /** The peer's CompID: its SenderCompID (49). */
  readonly targetCompId: string
  readonly application: ApplicationDictionary
}

export interface Problem {
  readonly tag: number
  readonly reason: RejectReason
  readonly text: string
}

/** Why the message (numbered `seq`, which is the one expected) cannot be acted on, if it cannot. */
export function findProblem(message: FixMessage, seq: number, expected: Expected): Problem | undefined {
  try {
    check(message, seq, expected)
    return undefined
  } catch (error) {
    if (!(error instanceof FixFieldError)) throw error
    return { tag: error.tag, reason: error.reason, text: error.message }
  }
}

function check(message: FixMessage, seq: number, expected: Expected): void {
  const empty = message.find(([, value]) => value === '')
  if (empty) fail(empty[0], RejectReason.TagWithoutValue, 'has no value')
  const msgType = msgTypeOf(message) as string
  const sender = required(message, 49)
  const target = required(message, 56)
  const sendingTime = timestamp(message, 52)
  if (sender !== expected.targetCompId) fail(49, RejectReason.CompIdProblem, `is ${sender}`)
  if (target !== expected.senderCompId) fail(56, RejectReason.CompIdProblem, `is ${target}`)
  // A resent message says when it was first sent; a SequenceReset-GapFill stands for messages
  // that are not resent, so it need not.
  if (getField(message, 43) === 'Y' && msgType !== '4') {
    if (timestamp(message, 122) > sendingTime) {
      fail(122, RejectReason.SendingTimeAccuracy, 'OrigSendingTime is after SendingTime')
    }
  }
  switch (msgType) {
    case '0':
    case '5':
      return
    case '1':
      required(message, 112)
      return
    case '2': {
      const begin = sequenceNumber(message, 7)
      const end = integer(message, 16)
      if (end !== 0 && end < begin) fail(16, RejectReason.ValueIncorrect, 'EndSeqNo is below BeginSeqNo')
      return
    }
    case '3':
      sequenceNumber(message, 45)
      return
    case '4':
      if (getField(message, 123) === 'Y' && sequenceNumber(message, 36) <= seq) {
        fail(36, RejectReason.ValueIncorrect, `NewSeqNo is not above MsgSeqNum ${seq}`)
      }
      return
    case 'A':
      required(message, 98)
      integer(message, 108)
      return
  }
  if (!expected.application.msgTypes.has(msgType)) {
    fail(35, RejectReason.InvalidMsgType, `MsgType ${msgType} is not supported`)
  }
  expected.application.validate(message)
}

function fail(tag: number, reason: RejectReason, what: string): never {
  throw new FixFieldError(tag, reason, `tag ${tag}: ${what}`)
}

function required(message: FixMessage, tag: number): string {
  return getField(message, tag) ?? fail(tag, RejectReason.RequiredTagMissing, 'is required')
}

function sequenceNumber(message: FixMessage, tag: number): number {
  return (
    parseSeqNum(required(message, tag)) ??
    fail(tag, RejectReason.IncorrectDataFormat, 'is not a positive integer')
  )
}

function integer(message: FixMessage, tag: number): number {
  return (
    parseNonNegativeInt(required(message, tag)) ??
    fail(tag, RejectReason.IncorrectDataFormat, 'is not a non-negative integer')
  )
}

function timestamp(message: FixMessage, tag: number): number {
  return (
    parseUtcTimestamp(required(message, tag)) ??
    fail(tag, RejectReason.IncorrectDataFormat, 'is not a UTCTimestamp YYYYMMDD-HH:MM:SS.sss')
  )
}
