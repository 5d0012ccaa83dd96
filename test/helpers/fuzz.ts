// Helpers of the end-to-end fuzz suite (test/e2e/fuzz.test.ts): raw requests (any body, any
// content type, any header), the RFC 9457 check every refusal must pass, hostile values as
// fast-check arbitraries, and the state snapshot that refused requests must leave unchanged.
import fc from 'fast-check'
import { PROBLEM_BASE } from '../../src/errors.ts'

/** A request as the fuzzer builds it: the body is sent as is (text or bytes), never re-encoded. */
export interface Raw {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string | Uint8Array
}

export interface Answer {
  status: number
  headers: Headers
  text: string
  json: any
}

/** The seed of every property (FUZZ_SEED=… reruns a failure); numRuns per property (FUZZ_RUNS). */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_260_509)
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 30)

export const fuzzParams = (numRuns = FUZZ_RUNS): fc.Parameters<unknown> => ({
  seed: FUZZ_SEED,
  numRuns,
  // a counterexample found against a server is shrunk a little, not for minutes
  interruptAfterTimeLimit: 60_000,
  markInterruptAsFailure: true,
})

const shown = (r: Raw) => {
  const body =
    r.body === undefined
      ? ''
      : typeof r.body === 'string'
        ? ` body=${JSON.stringify(r.body.length > 300 ? `${r.body.slice(0, 300)}…(${r.body.length} chars)` : r.body)}`
        : ` body=<${r.body.length} bytes>`
  const headers = Object.fromEntries(
    Object.entries(r.headers ?? {}).map(([k, v]) => [k, k === 'authorization' ? `${v.slice(0, 20)}…` : v]),
  )
  return `${r.method} ${r.path} headers=${JSON.stringify(headers)}${body} (FUZZ_SEED=${FUZZ_SEED})`
}

export async function send(base: string, r: Raw): Promise<Answer> {
  const res = await fetch(base + r.path, {
    method: r.method,
    headers: r.headers,
    ...(r.body !== undefined && { body: r.body }),
  })
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

/** Throws unless the answer is an RFC 9457 problem (type, title, status, detail, instance, code). */
export function checkProblem(r: Raw, a: Answer) {
  const fail = (why: string) => {
    throw new Error(`${why}: ${shown(r)} → ${a.status} ${a.headers.get('content-type')} ${a.text.slice(0, 400)}`)
  }
  if (!(a.headers.get('content-type') ?? '').startsWith('application/problem+json')) fail('not problem+json')
  const p = a.json
  if (!p || typeof p !== 'object') fail('problem body is not a JSON object')
  if (typeof p.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(p.code)) fail('no stable code')
  if (p.type !== PROBLEM_BASE + p.code) fail('type is not the code’s URI')
  if (typeof p.title !== 'string' || typeof p.detail !== 'string' || typeof p.instance !== 'string') {
    fail('title, detail or instance missing')
  }
  if (p.status !== a.status) fail('status member differs from the HTTP status')
  if (p.code === 'invalid_request' && !Array.isArray(p.errors)) fail('invalid_request without errors')
}

/** The request is refused: a 4xx problem (with one of `statuses` when given). */
export async function refused(base: string, r: Raw, statuses?: number[]): Promise<Answer> {
  const a = await send(base, r)
  if (a.status < 400 || a.status >= 500 || (statuses && !statuses.includes(a.status))) {
    throw new Error(
      `expected a 4xx refusal${statuses ? ` (${statuses})` : ''}: ${shown(r)} → ${a.status} ${a.text.slice(0, 400)}`,
    )
  }
  checkProblem(r, a)
  return a
}

/** Whatever the answer, never a 5xx, and any error a problem. */
export async function answered(base: string, r: Raw): Promise<Answer> {
  const a = await send(base, r)
  if (a.status >= 500) throw new Error(`server error: ${shown(r)} → ${a.status} ${a.text.slice(0, 400)}`)
  if (a.status >= 400) checkProblem(r, a)
  return a
}

// ----------------------------------------------------------------------------------- values

/** what JSON can carry, of any type: for "wrong type" (filtered per field by the caller) */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
)

/** strings with control characters, bidi overrides, NUL, astral and combining characters */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\u202eevil',
    '\r\n\t',
    '\u0007\u001b[31m',
    '\ud83d\ude00',
    'e\u0301\u0301\u0301',
    '\uffff\ufffe',
    '\u2028\u2029',
    "'; DROP TABLE users; --",
    '${jndi:ldap://x}',
    '<script>alert(1)</script>',
    '%00',
    '../../etc/passwd',
  ),
)

/** numbers no quantity accepts: 0, negatives, fractions, beyond 2^53 */
export const badQty: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, -0.5, 1.5, 0.0001, 2 ** 53, 2 ** 53 + 2, 1e21, -1e21, 1e308, -Number.MAX_VALUE),
  fc.integer({ max: 0 }),
  fc.double({ min: 0.01, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x)),
  fc.constantFrom('1', '10', '', 'NaN', 'Infinity', '1e3', null, true, [], {}, [5]),
)

/** strings no money field accepts: too many decimals, signs, exponents, spaces, too many digits */
export const badMoney: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '1.234', '0.001', '150.001', '-1.00', '-0.01', '+1.00', '1e3', '1E2', ' 1.00', '1.00 ', '0x10',
    '１２', '1,00', '', '.', '1.', '.5', '01.00', '00', 'NaN', 'Infinity', '-Infinity',
    '99999999999999.99', '123456789012345678901234567890', '1.0.0', '١٢٣', '1\u0000', '0',
    '0.00', '0.0',
  ),
  fc
    .tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 3, max: 12 }))
    .map(([n, d]) => `${n}.${'1'.repeat(d)}`),
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => -n),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(null, true, 150, 150.5, [], {}, ['1.00']),
)

/** raw JSON number literals JSON.stringify never writes: exponents that parse to Infinity, -0 */
export const rawNumberLiteral = fc.constantFrom(
  '1e999', '-1e999', '-0', '0.0000000000000000001', '123456789012345678901234567890',
  '9007199254740993', '-1E+2',
)

/** Idempotency-Key values the header's rule refuses (still sendable as HTTP header bytes) */
export const badIdempotencyKey = fc.oneof(
  fc.constantFrom('has space', 'tab\there', 'x'.repeat(201), '\u00e9t\u00e9', ' '),
  fc.string({ minLength: 201, maxLength: 400, unit: fc.constantFrom('a', 'b', '-') }),
)

/** Authorization headers no access token passes */
export const badAuthorization: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    'Basic YWxpY2U6cGFzc3dvcmQ=',
    'bearer',
    'Bearer null',
    'Bearer undefined',
    // alg none, HS256 (empty signature), garbage segments
    `Bearer ${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ sub: '1', aud: 'bourse-api', iss: 'bourse', exp: 9e9 })}.`,
    `Bearer ${b64({ alg: 'HS256', typ: 'at+jwt' })}.${b64({ sub: '1', aud: 'bourse-api', iss: 'bourse', exp: 9e9 })}.AAAA`,
    `Bearer ${b64({ alg: 'ES256', kid: '../../x', typ: 'at+jwt' })}.${b64({ sub: '1' })}.AAAA`,
    'Bearer a.b.c',
    'Bearer ....',
    `Bearer ${'A'.repeat(8000)}`,
  ),
  fc.string({ unit: fc.constantFrom(...'abcXYZ0123456789-_.=+/ '.split('')), maxLength: 200 }).map((s) => `Bearer ${s}`),
)

function b64(o: unknown) {
  return Buffer.from(JSON.stringify(o)).toString('base64url')
}

/** Content types the JSON routes do not read as JSON (and some they do, with a charset) */
export const wrongContentType = fc.constantFrom(
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/jsonx',
  'text/json',
  'application/octet-stream',
  'text/csv',
  'image/png',
)

/** bodies that are not JSON at all */
export const malformedJson = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '{"a":}',
    "{'amount': '1.00'}",
    '{"amount":"1.00",}',
    '[1,2',
    'undefined',
    'NaN',
    '{"a":1}{"b":2}',
    '\u0000',
    '\ufeff{}',
    '{"a":"\\u00"}',
    '{"a":"\\ud800"',
    'null',
    '"just a string"',
    '42',
    '[]',
    'true',
    '{"__proto__":{"role":"admin"}}',
  ),
  fc.string({ maxLength: 40 }).map((s) => `{${s}`),
)

/** A path segment, percent-encoded as a client would (never a literal `/`, `?` or `#`). */
export const badSegment = fc.oneof(
  fc.constantFrom(
    '0', '-1', '1.5', '1e3', 'abc', '9007199254740993', '99999999999999999999999', 'NaN',
    'Infinity', '0x10', '%00', '%ZZ', '%E0%A4%A', '%2F', '..', '%2e%2e', ' ', '%20', 'null',
    'undefined', '[]', '%F0%9F%98%80', 'aapl', 'AAPL%00', 'A'.repeat(300), '%C0%AF', '+1', '1 ',
  ),
  nastyString.filter((s) => s.length > 0).map(encodeSegment),
)

export function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s)
  } catch {
    return '%FF'
  }
}

/** `?a=b&…` of hostile keys and values, percent-encoded */
export const badQuery = (keys: string[]) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })),
        fc.oneof(
          fc.constantFrom('', '-1', '0', '1.5', '1e3', '99999999999999999999', 'abc', 'true', 'NaN', '%00', '2026-13-45', 'x'.repeat(3000)),
          nastyString,
        ),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((pairs) => `?${pairs.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join('&')}`)

/** fields a client must never set (mass assignment) */
export const PRIVILEGED_FIELDS = [
  'role', 'tier', 'cash', 'cash_cents', 'reserved_cash', 'status', 'filled_qty', 'user_id', 'id',
  'short_limit', 'two_factor_enabled', 'avg_fill_price', 'created_at', 'email_verified', 'admin',
]

/** An extra (unknown) field: privileged names or any other name, with any value. */
export const extraField = fc.tuple(
  fc.oneof(fc.constantFrom(...PRIVILEGED_FIELDS), fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__')),
  anyJson,
)

// ------------------------------------------------------------------------------ body mutation

export type Body = Record<string, unknown>

/**
 * Bodies that must be refused, built from a valid body: a required field missing, one field
 * given a value its rule refuses, an unknown field added, or not an object at all. `bad` lists,
 * per field, values the field refuses. Each mutation is refused by construction.
 */
export function invalidBodies(valid: Body, required: string[], bad: Record<string, fc.Arbitrary<unknown>>) {
  const variants: fc.Arbitrary<{ what: string; body: unknown }>[] = [
    fc.tuple(fc.constantFrom(...Object.keys(bad)), fc.constant(null)).chain(([field]) =>
      bad[field].map((value) => ({ what: `bad ${field}`, body: { ...valid, [field]: value } })),
    ),
    extraField
      .filter(([k]) => !(k in valid) && !(k in bad))
      .map(([k, v]) => ({ what: `extra ${k}`, body: { ...valid, [k]: v } })),
    fc.constantFrom(null, [], [valid], 'body', 42, true).map((body) => ({ what: 'not an object', body })),
  ]
  if (required.length > 0) {
    variants.push(
      fc.subarray(required, { minLength: 1 }).map((gone) => ({
        what: `missing ${gone}`,
        body: Object.fromEntries(Object.entries(valid).filter(([k]) => !gone.includes(k))),
      })),
    )
  }
  return fc.oneof(...variants)
}

/**
 * The raw request bodies that must be refused on a JSON route: invalid bodies as JSON; malformed
 * JSON; a body too large (over 16 KiB); duplicate keys whose last (the one JSON.parse keeps) is
 * refused; and, when `emptyObjectRefused`, a valid body under a content type that is not JSON.
 */
export function hostileBodies(
  valid: Body,
  required: string[],
  bad: Record<string, fc.Arbitrary<unknown>>,
  { emptyObjectRefused = true, literalFields = Object.keys(bad) }: { emptyObjectRefused?: boolean; literalFields?: string[] } = {},
) {
  const json = 'application/json'
  const firstBad = Object.keys(bad)[0]
  const kinds: fc.Arbitrary<{ contentType?: string; body: string | Uint8Array; what: string }>[] = [
    invalidBodies(valid, required, bad).map(({ what, body }) => ({ what, contentType: json, body: JSON.stringify(body) })),
    malformedJson.map((body) => ({ what: 'malformed JSON', contentType: json, body })),
    fc
      .tuple(fc.integer({ min: 17 * 1024, max: 64 * 1024 }), fc.constantFrom(json, 'text/plain'))
      .map(([n, contentType]) => ({
        what: 'oversized',
        contentType,
        body: JSON.stringify({ ...valid, pad: 'x'.repeat(n) }),
      })),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((body) => ({ what: 'random bytes', contentType: json, body })),
  ]
  if (firstBad) {
    kinds.push(
      fc.tuple(fc.constantFrom(...Object.keys(bad)), fc.constant(0)).chain(([field]) =>
        bad[field].map((value) => {
          // the valid value first, the refused one last: JSON.parse keeps the last
          const text = JSON.stringify(valid)
          const dup = `${JSON.stringify(field)}:${JSON.stringify(value) ?? 'null'}`
          const body = text === '{}' ? `{${dup}}` : `${text.slice(0, -1)},${dup}}`
          return { what: `duplicate ${field}`, contentType: json, body }
        }),
      ),
    )
  }
  if (literalFields.length > 0) {
    kinds.push(
      fc.tuple(fc.constantFrom(...literalFields), rawNumberLiteral).map(([field, literal]) => {
        const text = JSON.stringify({ ...valid, [field]: 0 })
        return { what: `literal ${literal} in ${field}`, contentType: json, body: text.replace(`${JSON.stringify(field)}:0`, `${JSON.stringify(field)}:${literal}`) }
      }),
    )
  }
  if (emptyObjectRefused) {
    kinds.push(
      fc
        .tuple(wrongContentType, fc.boolean())
        .map(([contentType, asJson]) => ({ what: 'wrong content type', contentType, body: asJson ? JSON.stringify(valid) : 'amount=1.00' })),
      fc.constant({ what: 'no content type', contentType: undefined, body: JSON.stringify(valid) }),
    )
  }
  return fc.oneof(...kinds)
}

/** A Raw request for a JSON route from a hostile body. */
export const asRaw = (
  method: string,
  path: string,
  auth: Record<string, string>,
  b: { contentType?: string; body: string | Uint8Array },
  headers: Record<string, string> = {},
): Raw => ({
  method,
  path,
  headers: { ...auth, ...headers, ...(b.contentType !== undefined && { 'content-type': b.contentType }) },
  body: b.body,
})
