// The tag=value codec: exact bytes, round trips under any chunking, and garbled input that is
// discarded (never thrown) with the next valid message still read.
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { decode, encode, FixFramer, getFields, type FixMessage } from '../../../src/execution/fix/codec.ts'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replaceAll('\x01', '|')
const bytes = (s: string) => new TextEncoder().encode(s.replaceAll('|', '\x01'))

/** A frame built by hand: checksum and body length as given, or right when left out. */
function handFrame(body: string, opts: { bodyLength?: number; checksum?: string } = {}): Uint8Array {
  const b = bytes(body)
  const head = bytes(`8=FIX.4.4|9=${opts.bodyLength ?? b.length}|`)
  const sum = [...head, ...b].reduce((s, x) => s + x, 0) % 256
  const tail = bytes(`10=${opts.checksum ?? String(sum).padStart(3, '0')}|`)
  return new Uint8Array([...head, ...b, ...tail])
}

function frameAll(chunks: Uint8Array[]) {
  const framer = new FixFramer()
  const results = chunks.flatMap((chunk) => framer.push(chunk))
  return {
    messages: results.flatMap((r) => (r.kind === 'message' ? [r.message] : [])),
    garbled: results.filter((r) => r.kind === 'garbled'),
    buffered: framer.buffered,
  }
}

/** Splits `whole` at the given cut points. */
function chunked(whole: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const p of [...points, whole.length]) {
    chunks.push(whole.subarray(from, p))
    from = p
  }
  return chunks
}

const concat = (parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]))

const heartbeat: FixMessage = [
  [35, '0'],
  [49, 'BOURSE'],
  [56, 'VENUE'],
  [34, '7'],
  [52, '20260105-14:30:00.000'],
]

// Values: any text without SOH (non-ASCII included); tags: anything but the computed 8, 9, 10.
const value = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
).filter((v) => !v.includes('\x01'))
const tag = fc.integer({ min: 11, max: 20_000 }).filter((t) => ![34, 35, 43, 49, 52, 56, 97, 122].includes(t))
const message: fc.Arbitrary<FixMessage> = fc
  .tuple(fc.constantFrom('0', 'D', '8', 'AE'), fc.array(fc.tuple(tag, value), { maxLength: 12 }))
  .map(([type, body]) => [[35, type], ...body])

describe('encode', () => {
  test('BeginString, BodyLength and CheckSum around the fields, the header first', () => {
    const wire = encode([[52, '20260105-14:30:00.000'], [34, '7'], [56, 'VENUE'], [49, 'BOURSE'], [35, '0']])
    const body = '35=0|49=BOURSE|56=VENUE|34=7|52=20260105-14:30:00.000|'
    expect(text(wire)).toBe(text(handFrame(body)))
    expect(text(wire)).toBe(`8=FIX.4.4|9=${body.length}|${body}10=${text(wire).slice(-4, -1)}|`)
  })

  test('the body length counts bytes, not characters', () => {
    const wire = encode([[35, 'D'], [58, 'café ✓']])
    expect(text(wire)).toStartWith('8=FIX.4.4|9=18|') // 5 + 13 bytes, 15 characters
    expect(decode(wire)).toEqual([[35, 'D'], [58, 'café ✓']])
  })

  test('repeated tags keep their order (repeating groups)', () => {
    const group: FixMessage = [[35, 'D'], [453, '2'], [448, 'A'], [447, 'D'], [448, 'B'], [447, 'D']]
    const decoded = decode(encode(group))
    expect(decoded).toEqual(group)
    expect(getFields(decoded, 448)).toEqual(['A', 'B'])
  })

  test.each([
    ['no MsgType', [[58, 'x']]],
    ['an empty value', [[35, 'D'], [58, '']]],
    ['an SOH inside a value', [[35, 'D'], [58, 'a\x01b']]],
    ['a computed tag', [[35, 'D'], [10, '000']]],
    ['tag 0', [[35, 'D'], [0, 'x']]],
  ] as [string, FixMessage][])('refuses %s', (_, fields) => {
    expect(() => encode(fields)).toThrow()
  })
})

describe('FixFramer', () => {
  test('several messages in one chunk, and one message a byte at a time', () => {
    const a = encode(heartbeat)
    const b = encode([[35, 'D'], [11, 'c-1']])
    expect(frameAll([concat([a, b, a])]).messages).toEqual([heartbeat, [[35, 'D'], [11, 'c-1']], heartbeat])
    const oneByOne = [...a].map((x) => new Uint8Array([x]))
    expect(frameAll(oneByOne)).toEqual({ messages: [heartbeat], garbled: [], buffered: 0 })
  })

  test('an incomplete message waits for the rest', () => {
    const wire = encode(heartbeat)
    const framer = new FixFramer()
    expect(framer.push(wire.subarray(0, 30))).toEqual([])
    expect(framer.buffered).toBe(30)
    expect(framer.push(wire.subarray(30))).toEqual([{ kind: 'message', message: heartbeat }])
  })

  test('round trip: any messages, any chunking, the same messages', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), fc.array(fc.nat()), (messages, cuts) => {
        const whole = concat(messages.map(encode))
        const out = frameAll(chunked(whole, cuts))
        expect(out).toEqual({ messages, garbled: [], buffered: 0 })
      }),
    )
  })

  describe('garbled input is discarded and reading resumes at the next BeginString', () => {
    const next = encode(heartbeat)
    test.each([
      ['a wrong CheckSum', handFrame('35=0|34=1|', { checksum: '000' }), /CheckSum/],
      ['a CheckSum that is not 3 digits', handFrame('35=0|34=1|', { checksum: '1x3' }), /CheckSum/],
      ['a BodyLength too short', handFrame('35=0|34=1|', { bodyLength: 5 }), /where BodyLength/],
      ['a BodyLength too long', handFrame('35=0|34=1|', { bodyLength: 40 }), /next message/],
      ['a BodyLength that is no number', bytes('8=FIX.4.4|9=1a|35=0|10=000|'), /not a number/],
      ['an empty BodyLength', bytes('8=FIX.4.4|9=|35=0|10=000|'), /empty/],
      ['a huge BodyLength', bytes('8=FIX.4.4|9=99999999|35=0|'), /above/],
      ['no BeginString', bytes('9=10|35=0|34=1|10=123|'), /BeginString/],
      ['another FIX version', bytes('8=FIX.4.2|9=10|35=0|34=1|10=123|'), /BeginString/],
      ['MsgType not third', handFrame('34=1|35=0|'), /MsgType/],
      ['a field without "="', handFrame('35=0|34|'), /without "="/],
      ['a tag that is no number', handFrame('35=0|x4=1|'), /not a number/],
      ['a truncated message', encode(heartbeat).subarray(0, 40), /next message/],
    ])('%s', (_, garbled, reason) => {
      const out = frameAll([concat([garbled, next])])
      expect(out.messages).toEqual([heartbeat])
      expect(out.garbled.length).toBeGreaterThan(0)
      expect(out.garbled.map((g) => (g.kind === 'garbled' ? g.reason : '')).join(' ')).toMatch(reason)
      expect(out.buffered).toBe(0)
    })
  })

  test('an empty value is kept for the session to reject', () => {
    expect(frameAll([handFrame('35=D|58=|')]).messages).toEqual([[[35, 'D'], [58, '']]])
  })

  test('fuzz: any byte flipped in one message loses that message only', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 2, maxLength: 5 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (messages, which, at, delta, cuts) => {
          const frames = messages.map(encode)
          const hit = which % frames.length
          const flipped = frames[hit].slice()
          flipped[at % flipped.length] = (flipped[at % flipped.length] + delta) % 256
          // A last valid message: the bytes after a corruption are what reveals it.
          const stream = concat([...frames.slice(0, hit), flipped, ...frames.slice(hit + 1), encode(heartbeat)])
          const out = frameAll(chunked(stream, cuts))
          expect(out.messages).toEqual([...messages.filter((_, i) => i !== hit), heartbeat])
          expect(out.garbled.length).toBeGreaterThan(0)
        },
      ),
    )
  })

  test('fuzz: a truncated message loses that message only', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 2, maxLength: 5 }), fc.nat(), fc.nat(), (messages, which, cut) => {
        const frames = messages.map(encode)
        const hit = which % frames.length
        const truncated = frames[hit].subarray(0, 1 + (cut % (frames[hit].length - 1)))
        const stream = concat([...frames.slice(0, hit), truncated, ...frames.slice(hit + 1), encode(heartbeat)])
        const out = frameAll([stream])
        expect(out.messages).toEqual([...messages.filter((_, i) => i !== hit), heartbeat])
      }),
    )
  })

  // Garbage made of pieces of frames is far likelier than random bytes to look like a start.
  const fragment = fc.oneof(
    fc.uint8Array({ maxLength: 8 }),
    fc.constantFrom('8=FIX.4.4|9=', '8=FIX.4.4|', '8=FI', '10=', '|', '=', '35=D|', '9=5|', '12', '0', '255|').map(bytes),
  )
  const garbage = fc.array(fragment, { maxLength: 20 }).map(concat)

  test('fuzz: any bytes never throw, and a valid message after them is read', () => {
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 8 }), (junk, cuts) => {
        const out = frameAll(chunked(concat([junk, encode(heartbeat)]), cuts))
        expect(out.messages.at(-1)).toEqual(heartbeat)
        expect(out.buffered).toBe(0)
      }),
      { numRuns: 500 },
    )
  })

  test('fuzz: random bytes alone never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const framer = new FixFramer()
        for (const chunk of chunks) framer.push(chunk)
      }),
    )
  })

  test('decode takes exactly one valid message', () => {
    expect(() => decode(concat([encode(heartbeat), encode(heartbeat)]))).toThrow()
    expect(() => decode(encode(heartbeat).subarray(1))).toThrow()
  })
})
