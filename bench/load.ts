// An open-loop HTTP load generator for bench/api.ts. Request i of a step is due at
// start + i / rate, whatever happened to the earlier ones (no coordinated omission): its latency
// is measured from that due time, so a stalled server or a late client is charged to every
// request that waited, not hidden by sending less. Bounded: at most `cap` requests in flight
// (a request due while `cap` are in flight is not sent and counts as an error, "shed"), each
// with a timeout, and a fixed number of requests per step.

import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'

export interface Request {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface StepSpec {
  /** requests per second, issued on schedule */
  rate: number
  durationMs: number
  /** the most requests in flight at once */
  cap: number
  /** a request not answered within this is aborted and counts as an error */
  timeoutMs: number
  /** the i-th request of the step */
  request(i: number): Request
  /** reads a 2xx body (e.g. the order's status) into a label counted in `outcomes` */
  outcome?(body: string): string
}

export interface StepSamples {
  /** requests the step scheduled */
  scheduled: number
  /** 2xx answers */
  ok: number
  /** everything else by kind: "HTTP 503 book_unavailable", "network ECONNRESET", "timeout"… */
  errors: Record<string, number>
  errorCount: number
  /** ms from each 2xx request's due time to its answer's last byte (open loop) */
  latencyMs: Float64Array
  /** ms from the moment each 2xx request was handed to the socket to its last byte */
  serviceMs: Float64Array
  /** ms each request was sent after its due time (the generator's own lag) */
  sendLagMs: Float64Array
  /** per Server-Timing metric, the 2xx answers' durations (ms) */
  serverTiming: Record<string, Float64Array>
  /** labels from spec.outcome, counted */
  outcomes: Record<string, number>
  /** ms from the first due time to the last answer */
  elapsedMs: number
  /** the most requests in flight at once */
  maxInFlight: number
}

/** One keep-alive connection pool per run; its sockets stay warm from one step to the next. */
export function newAgent(cap: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: cap, maxFreeSockets: cap })
}

/**
 * `risk;dur=13.0,book;dur=7.0,total;dur=25.0;desc="order path"` → {risk: 13, book: 7, total: 25}
 */
export function parseServerTiming(header: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.split(';').map((s) => s.trim())
    const dur = params.find((p) => p.startsWith('dur='))
    if (name && dur) out[name] = Number(dur.slice(4))
  }
  return out
}

function problemCode(body: string): string {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code
    return typeof code === 'string' ? ` ${code}` : ''
  } catch {
    return ''
  }
}

export function runStep(base: string, agent: Agent, spec: StepSpec): Promise<StepSamples> {
  const url = new URL(base)
  const n = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000))
  const interval = 1000 / spec.rate
  const latencyMs = new Float64Array(n).fill(NaN)
  const serviceMs = new Float64Array(n).fill(NaN)
  const sendLagMs = new Float64Array(n).fill(NaN)
  const timing: Record<string, Float64Array> = {}
  const errors: Record<string, number> = {}
  const outcomes: Record<string, number> = {}
  let ok = 0
  let errorCount = 0
  let inFlight = 0
  let maxInFlight = 0
  let done = 0
  let next = 0
  let lastAnswer = 0
  const t0 = performance.now() + 5
  const due = (i: number) => t0 + i * interval

  return new Promise((resolve) => {
    const finish = () => {
      const latencies = latencyMs.filter((x) => !Number.isNaN(x))
      const serverTiming: Record<string, Float64Array> = {}
      for (const [name, values] of Object.entries(timing)) {
        serverTiming[name] = values.filter((x) => !Number.isNaN(x))
      }
      resolve({
        scheduled: n,
        ok,
        errors,
        errorCount,
        latencyMs: latencies,
        serviceMs: serviceMs.filter((x) => !Number.isNaN(x)),
        sendLagMs: sendLagMs.filter((x) => !Number.isNaN(x)),
        serverTiming,
        outcomes,
        elapsedMs: Math.max(lastAnswer, due(n - 1)) - t0,
        maxInFlight,
      })
    }
    const settle = () => {
      if (++done === n) finish()
    }
    const fail = (kind: string) => {
      errors[kind] = (errors[kind] ?? 0) + 1
      errorCount++
    }

    const issue = (i: number) => {
      const sentAt = performance.now()
      sendLagMs[i] = sentAt - due(i)
      if (inFlight >= spec.cap) {
        fail('shed (in-flight cap)')
        settle()
        return
      }
      inFlight++
      if (inFlight > maxInFlight) maxInFlight = inFlight
      const r = spec.request(i)
      const headers: Record<string, string | number> = { ...r.headers }
      if (r.body !== undefined) headers['content-length'] = Buffer.byteLength(r.body)
      let finished = false
      const end = (error?: string) => {
        if (finished) return
        finished = true
        inFlight--
        if (error) fail(error)
        settle()
      }
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: r.method,
          path: r.path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', (e: NodeJS.ErrnoException) => end(`network ${e.code ?? e.message}`))
          res.on('end', () => {
            const now = performance.now()
            lastAnswer = Math.max(lastAnswer, now)
            const status = res.statusCode ?? 0
            const body = Buffer.concat(chunks).toString()
            if (status < 200 || status > 299) return end(`HTTP ${status}${problemCode(body)}`)
            ok++
            latencyMs[i] = now - due(i)
            serviceMs[i] = now - sentAt
            const header = res.headers['server-timing']
            if (typeof header === 'string') {
              for (const [name, ms] of Object.entries(parseServerTiming(header))) {
                ;(timing[name] ??= new Float64Array(n).fill(NaN))[i] = ms
              }
            }
            if (spec.outcome) {
              const label = spec.outcome(body)
              outcomes[label] = (outcomes[label] ?? 0) + 1
            }
            end()
          })
        },
      )
      req.setTimeout(spec.timeoutMs, () => {
        req.destroy()
        end('timeout')
      })
      req.on('error', (e: NodeJS.ErrnoException) => end(`network ${e.code ?? e.message}`))
      req.end(r.body)
    }

    // Issues every request that is due, then sleeps until the next one is.
    const tick = () => {
      const now = performance.now()
      while (next < n && due(next) <= now) issue(next++)
      if (next >= n) return
      const wait = due(next) - performance.now()
      if (wait >= 1) setTimeout(tick, Math.floor(wait))
      else setImmediate(tick)
    }
    setTimeout(tick, 5)
  })
}

/** nearest rank, as bench/measure.ts; NaN when there is no sample */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

export interface Summary {
  count: number
  p50: number
  p95: number
  p99: number
  max: number
}

export function summarize(values: Float64Array): Summary {
  const sorted = Float64Array.from(values).sort()
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: quantile(sorted, 1),
  }
}
