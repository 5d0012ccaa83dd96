// An Upstash-REST-compatible HTTP server in front of a real Redis, so the Worker (and tests) use
// @upstash/redis and @upstash/ratelimit locally exactly as they use Upstash in production.
// It speaks what those clients send: POST / (one command as a JSON array), POST /pipeline and
// POST /multi-exec (arrays of commands), `Authorization: Bearer <token>`, and
// `Upstash-Encoding: base64` answers. Answers are {result} or, with HTTP 400, {error}; a
// pipeline's or transaction's is an array of {result}|{error}.
// Node-only (node:http + ioredis): used by scripts/dev.ts and the tests, never bundled into the
// Worker.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'

export interface UpstashBridge {
  /** what goes in UPSTASH_REDIS_REST_URL */
  url: string
  /** what goes in UPSTASH_REDIS_REST_TOKEN */
  token: string
  close(): Promise<void>
}

export interface UpstashBridgeOptions {
  /** the real Redis, e.g. redis://127.0.0.1:6379 */
  redisUrl: string
  /** default: 32 random bytes */
  token?: string
  host?: string
  port?: number
}

type Answer = { result: unknown } | { error: string }

/** Commands that would change or block the one connection every request shares. */
const NOT_AVAILABLE = new Set([
  'select', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'subscribe', 'psubscribe',
  'ssubscribe', 'monitor', 'quit', 'reset', 'hello', 'auth', 'client', 'wait', 'blpop', 'brpop',
  'blmove', 'brpoplpush', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop',
])

const OK = Buffer.from('OK')

export async function startUpstashBridge(opts: UpstashBridgeOptions): Promise<UpstashBridge> {
  const token = opts.token ?? randomBytes(32).toString('hex')
  // one attempt per command: a Redis that is down must answer an error, not hang the client
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true })
  redis.on('error', () => {}) // each command reports its own failure
  await redis.connect()
  await redis.ping()
  const scripts = new Scripts()

  const server = createServer((req, res) => {
    handle(req).then(
      ([status, body]) => send(res, status, body),
      (err: Error) => send(res, 500, { error: `ERR ${err.message}` }),
    )
  })

  async function handle(req: IncomingMessage): Promise<[number, unknown]> {
    if (req.method !== 'POST') return [405, { error: 'ERR only POST is supported' }]
    if (!authorized(req.headers.authorization, token)) return [401, { error: 'Unauthorized' }]
    const path = new URL(req.url ?? '/', 'http://bridge').pathname
    const base64 = req.headers['upstash-encoding'] === 'base64'
    let body: unknown
    try {
      body = JSON.parse(await readBody(req))
    } catch {
      return [400, { error: 'ERR the body is not JSON' }]
    }
    if (path === '/') {
      const command = parseCommand(body)
      if (typeof command === 'string') return [400, { error: command }]
      const answer = encodeAnswer(await runOne(command), base64)
      return ['error' in answer ? 400 : 200, answer]
    }
    if (path !== '/pipeline' && path !== '/multi-exec') return [404, { error: 'ERR unknown path' }]
    const commands = Array.isArray(body) && body.length > 0 ? body.map(parseCommand) : []
    const bad = commands.find((c) => typeof c === 'string')
    if (commands.length === 0 || bad) return [400, { error: bad ?? 'ERR send an array of commands' }]
    const run = path === '/pipeline' ? runPipeline : runTransaction
    const answers = await run(commands as string[][])
    if (!Array.isArray(answers)) return [400, answers]
    return [200, answers.map((a) => encodeAnswer(a, base64))]
  }

  async function runOne(command: string[]): Promise<Answer> {
    const refused = refusal(command)
    if (refused) return { error: refused }
    const { args, reply } = scripts.prepare(command)
    try {
      return { result: reply(await redis.callBuffer(args[0], ...args.slice(1))) }
    } catch (err) {
      return { error: (err as Error).message }
    }
  }

  /** in order, not atomic: each command's own answer */
  async function runPipeline(commands: string[][]): Promise<Answer[]> {
    const refused = commands.map(refusal)
    const prepared = commands.map((c) => scripts.prepare(c))
    const pipeline = redis.pipeline()
    prepared.forEach(({ args }, i) => {
      if (!refused[i]) pipeline.callBuffer(args[0], ...args.slice(1))
    })
    const results = (await pipeline.exec()) ?? []
    let next = 0
    return prepared.map(({ reply }, i) => {
      if (refused[i]) return { error: refused[i] }
      const [err, value] = results[next++]
      return err ? { error: err.message } : { result: reply(value) }
    })
  }

  /** MULTI … EXEC: all or nothing; a command Redis refuses to queue aborts the whole */
  async function runTransaction(commands: string[][]): Promise<Answer[] | { error: string }> {
    const refused = commands.map(refusal).find(Boolean)
    if (refused) return { error: refused }
    const prepared = commands.map((c) => scripts.prepare(c))
    const multi = redis.multi()
    for (const { args } of prepared) multi.callBuffer(args[0], ...args.slice(1))
    try {
      const results = (await multi.exec()) ?? []
      return results.map(([err, value], i) =>
        err ? { error: err.message } : { result: prepared[i].reply(value) },
      )
    } catch (err) {
      return { error: (err as Error).message } // EXECABORT
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve)
  })
  const { address, port } = server.address() as AddressInfo
  return {
    url: `http://${address}:${port}`,
    token,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}

/**
 * @upstash/ratelimit's scripts start with `#!lua flags=allow-key-locking`, a flag only Upstash
 * knows (Redis 7 refuses the script). Scripts are run without it, and the client's SHA1 (of its
 * own text, which is what it sends with EVALSHA) is mapped to the SHA1 of the text Redis runs.
 */
class Scripts {
  private runnable = new Map<string, string>()

  prepare(command: string[]): { args: string[]; reply: (value: unknown) => unknown } {
    const [name, ...rest] = command
    const same = (value: unknown) => value
    switch (name.toLowerCase()) {
      case 'eval':
      case 'eval_ro':
        return { args: [name, this.runnableText(rest[0] ?? ''), ...rest.slice(1)], reply: same }
      case 'evalsha':
      case 'evalsha_ro': {
        const sha = rest[0]?.toLowerCase() ?? ''
        return { args: [name, this.runnable.get(sha) ?? sha, ...rest.slice(1)], reply: same }
      }
      case 'script':
        if (rest[0]?.toLowerCase() === 'load' && rest[1] !== undefined) {
          const text = rest[1]
          // the client expects the SHA1 of what it sent
          return { args: [name, rest[0], this.runnableText(text)], reply: () => sha1(text) }
        }
    }
    return { args: command, reply: same }
  }

  private runnableText(script: string): string {
    const text = script.replace(/^#!lua flags=([^\n]*)/, (_, flags: string) => {
      const kept = flags.split(',').filter((f) => f.trim() !== 'allow-key-locking')
      return kept.length > 0 ? `#!lua flags=${kept.join(',')}` : '#!lua'
    })
    this.runnable.set(sha1(script), sha1(text))
    return text
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

/** The command as strings (the client may send numbers), or why it is refused. */
function parseCommand(value: unknown): string[] | string {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== 'string') {
    return 'ERR a command is a JSON array: ["name", ...args]'
  }
  return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
}

function refusal(command: string[]): string | undefined {
  const name = command[0].toLowerCase()
  return NOT_AVAILABLE.has(name) ? `ERR Command is not available: '${name}'` : undefined
}

/**
 * With `Upstash-Encoding: base64` every string of a result, nested ones too, is the base64 of its
 * bytes, except a whole result "OK": the client keeps that one as is and decodes every other
 * string (in an array too, where "OK" must be encoded). Numbers and null stay as they are.
 * ioredis answers HGETALL with an object: a flat array again.
 */
function encodeAnswer(answer: Answer, base64: boolean): Answer {
  if ('error' in answer) return answer
  const { result } = answer
  if (Buffer.isBuffer(result) && result.equals(OK)) return { result: 'OK' }
  return { result: encodeValue(result, base64) }
}

function encodeValue(value: unknown, base64: boolean): unknown {
  if (typeof value === 'string') value = Buffer.from(value)
  if (Buffer.isBuffer(value)) return value.toString(base64 ? 'base64' : 'utf8')
  if (Array.isArray(value)) return value.map((v) => encodeValue(v, base64))
  if (value !== null && typeof value === 'object') {
    return encodeValue(Object.entries(value).flat(), base64)
  }
  return value
}

function authorized(header: string | undefined, token: string): boolean {
  const sent = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '')
  const expected = Buffer.from(token)
  return sent.length === expected.length && timingSafeEqual(sent, expected)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
