// FIX 4.4 tag=value encoding: a message is its fields in wire order between BodyLength (9) and
// CheckSum (10), MsgType (35) first. Encoding adds 8, 9 and 10; the framer cuts a byte stream
// (chunks split anywhere) into such messages and discards garbled ones without ever throwing,
// as the session rules ask: a garbled message is ignored, not rejected, and reading resumes at
// the next BeginString.

/** One tag=value pair. Repeated tags (repeating groups) stay in order. */
export type Field = readonly [tag: number, value: string]
/** A message's fields from MsgType (35) on, without BeginString, BodyLength and CheckSum. */
export type FixMessage = readonly Field[]

const BEGIN_STRING = 'FIX.4.4'
const SOH = 0x01
const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** Every frame starts with these bytes: where the framer resynchronises. */
const FRAME_START = encoder.encode(`8=${BEGIN_STRING}\x019=`)
/** The standard header's fields, in the order FIX 4.4 lists them; the rest keep their order. */
const HEADER_ORDER = [35, 49, 56, 34, 43, 97, 52, 122]
const COMPUTED_TAGS = new Set([8, 9, 10])
/** A BodyLength above this is garbled rather than awaited: no order-flow message comes near. */
const MAX_BODY_LENGTH = 1 << 20
/** Leading zeros aside, no BodyLength needs more digits; bounds the wait on "9=000…". */
const MAX_LENGTH_DIGITS = 10

/** The value of the first `tag` in the message. */
export function getField(message: FixMessage, tag: number): string | undefined {
  return message.find(([t]) => t === tag)?.[1]
}

/** Every value of `tag`, in message order. */
export function getFields(message: FixMessage, tag: number): string[] {
  return message.filter(([t]) => t === tag).map(([, value]) => value)
}

/** The message's MsgType (35). */
export function msgTypeOf(message: FixMessage): string | undefined {
  return getField(message, 35)
}

/**
 * The message on the wire. Throws on what no peer could read: no MsgType, a tag that is not a
 * positive integer, 8, 9 or 10 among the fields (they are computed), an empty value or an SOH
 * inside a value.
 */
export function encode(message: FixMessage): Uint8Array {
  if (msgTypeOf(message) === undefined) throw new Error('a FIX message needs MsgType (35)')
  const ordered = [
    ...HEADER_ORDER.flatMap((tag) => message.filter(([t]) => t === tag)),
    ...message.filter(([t]) => !HEADER_ORDER.includes(t)),
  ]
  let body = ''
  for (const [tag, value] of ordered) {
    if (!Number.isSafeInteger(tag) || tag <= 0 || COMPUTED_TAGS.has(tag)) {
      throw new Error(`cannot encode tag ${tag}`)
    }
    if (value === '' || value.includes('\x01')) {
      throw new Error(`tag ${tag}: a value is non-empty and has no SOH`)
    }
    body += `${tag}=${value}\x01`
  }
  const bodyBytes = encoder.encode(body)
  const head = encoder.encode(`8=${BEGIN_STRING}\x019=${bodyBytes.length}\x01`)
  const frame = new Uint8Array(head.length + bodyBytes.length + 7)
  frame.set(head)
  frame.set(bodyBytes, head.length)
  const trailerAt = head.length + bodyBytes.length
  const sum = checksum(frame, trailerAt)
  frame.set(encoder.encode(`10=${String(sum).padStart(3, '0')}\x01`), trailerAt)
  return frame
}

/** A single encoded message back to its fields; throws unless `bytes` is exactly one valid frame. */
export function decode(bytes: Uint8Array): FixMessage {
  const framer = new FixFramer()
  const out = framer.push(bytes)
  const only = out[0]
  if (out.length !== 1 || only.kind !== 'message' || framer.buffered > 0) {
    throw new Error('not exactly one valid FIX message')
  }
  return only.message
}

export type FrameResult =
  | { readonly kind: 'message'; readonly message: FixMessage }
  | { readonly kind: 'garbled'; readonly reason: string; readonly discarded: number }

/**
 * Cuts a byte stream into messages. push() takes any chunk and returns the messages it
 * completed, and a `garbled` result for each run of bytes it discarded: bytes before a
 * BeginString, an unreadable BodyLength, a declared body that runs into the next message or
 * does not end in a CheckSum, a wrong CheckSum, a body that is not tag=value fields with
 * MsgType first. The results do not depend on how the stream was chunked, except that the
 * garbled bytes may be reported in several pieces.
 */
export class FixFramer {
  private buffer: Uint8Array = new Uint8Array(0)

  /** Bytes held back: an incomplete message, or the start of what may become one. */
  get buffered(): number {
    return this.buffer.length
  }

  push(chunk: Uint8Array): FrameResult[] {
    this.buffer = concat(this.buffer, chunk)
    const results: FrameResult[] = []
    for (;;) {
      const start = indexOf(this.buffer, FRAME_START, 0)
      if (start !== 0) {
        const keep = start > 0 ? this.buffer.length - start : partialStartLength(this.buffer)
        this.discard(this.buffer.length - keep, 'bytes before BeginString (8=FIX.4.4)', results)
        if (start < 0) return results
      }
      const step = this.readFrame()
      if (step === 'incomplete') return results
      if (step.kind === 'message') {
        results.push(step)
        continue
      }
      // Resynchronise on the next BeginString after this one.
      const next = indexOf(this.buffer, FRAME_START, 1)
      const keep = next > 0 ? this.buffer.length - next : partialStartLength(this.buffer.subarray(1))
      this.discard(this.buffer.length - keep, step.reason, results)
    }
  }

  private discard(count: number, reason: string, results: FrameResult[]) {
    if (count <= 0) return
    this.buffer = this.buffer.subarray(count)
    results.push({ kind: 'garbled', reason, discarded: count })
  }

  /** The frame at the start of the buffer: a message (consumed), garbled, or not all here yet. */
  private readFrame():
    | { kind: 'message'; message: FixMessage }
    | { kind: 'garbled'; reason: string }
    | 'incomplete' {
    const buf = this.buffer
    let at = FRAME_START.length
    let bodyLength = 0
    for (; at < buf.length && buf[at] !== SOH; at++) {
      const digit = buf[at] - 0x30
      if (digit < 0 || digit > 9) return { kind: 'garbled', reason: 'BodyLength (9) is not a number' }
      bodyLength = bodyLength * 10 + digit
      if (bodyLength > MAX_BODY_LENGTH || at - FRAME_START.length >= MAX_LENGTH_DIGITS) {
        return { kind: 'garbled', reason: `BodyLength (9) above ${MAX_BODY_LENGTH}` }
      }
    }
    if (at === buf.length) return 'incomplete'
    if (at === FRAME_START.length) return { kind: 'garbled', reason: 'BodyLength (9) is empty' }
    const bodyStart = at + 1
    const trailerStart = bodyStart + bodyLength
    const frameEnd = trailerStart + 7 // 10=nnn<SOH>
    // No field here carries raw data, so a declared body holding the next BeginString is wrong.
    const next = indexOf(buf, FRAME_START, bodyStart)
    if (next >= 0 && next < frameEnd) {
      return { kind: 'garbled', reason: 'BodyLength (9) runs into the next message' }
    }
    if (buf.length < frameEnd) return 'incomplete'
    if (bodyLength === 0 || buf[trailerStart - 1] !== SOH || !isTrailer(buf, trailerStart)) {
      return { kind: 'garbled', reason: 'no CheckSum (10=nnn) where BodyLength (9) ends' }
    }
    const declared = Number(decoder.decode(buf.subarray(trailerStart + 3, trailerStart + 6)))
    const actual = checksum(buf, trailerStart)
    if (declared !== actual) {
      return { kind: 'garbled', reason: `CheckSum (10) is ${declared}, the bytes sum to ${actual}` }
    }
    const message = parseBody(buf.subarray(bodyStart, trailerStart))
    if (typeof message === 'string') return { kind: 'garbled', reason: message }
    this.buffer = buf.subarray(frameEnd)
    return { kind: 'message', message }
  }
}

/** Sum of the bytes before CheckSum, modulo 256. */
function checksum(bytes: Uint8Array, end: number): number {
  let sum = 0
  for (let i = 0; i < end; i++) sum += bytes[i]
  return sum % 256
}

/** `10=` three digits and SOH at `at`. */
function isTrailer(buf: Uint8Array, at: number): boolean {
  const isDigit = (b: number) => b >= 0x30 && b <= 0x39
  return (
    buf[at] === 0x31 &&
    buf[at + 1] === 0x30 &&
    buf[at + 2] === 0x3d &&
    isDigit(buf[at + 3]) &&
    isDigit(buf[at + 4]) &&
    isDigit(buf[at + 5]) &&
    buf[at + 6] === SOH
  )
}

const TAG = /^[1-9]\d{0,8}$/

/** The body's tag=value fields (each ending in SOH, MsgType first), or why they are not. */
function parseBody(body: Uint8Array): FixMessage | string {
  const fields: Field[] = []
  let from = 0
  while (from < body.length) {
    const end = body.indexOf(SOH, from)
    const eq = body.indexOf(0x3d, from)
    if (eq < 0 || eq > end) return 'a field without "="'
    const tag = decoder.decode(body.subarray(from, eq))
    if (!TAG.test(tag)) return `tag ${JSON.stringify(tag)} is not a number`
    // An empty value is kept: the session rejects it naming the tag (reason 4).
    fields.push([Number(tag), decoder.decode(body.subarray(eq + 1, end))])
    from = end + 1
  }
  if (fields[0]?.[0] !== 35) return 'MsgType (35) is not the third field'
  return fields
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice()
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const last = haystack.length - needle.length
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

/** How many trailing bytes could be the beginning of a BeginString still arriving. */
function partialStartLength(buf: Uint8Array): number {
  for (let n = Math.min(FRAME_START.length - 1, buf.length); n > 0; n--) {
    const tail = buf.subarray(buf.length - n)
    if (tail.every((b, i) => b === FRAME_START[i])) return n
  }
  return 0
}
