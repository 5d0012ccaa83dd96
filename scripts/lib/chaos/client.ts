// The chaos harness's client: each request is sent until it gets an answer that is not the
// fault's (connection refused or reset, a 5xx, 409 idempotency_in_flight), with the same
// Idempotency-Key each time, as a careful client would. A retry fault abandons the first attempt
// after a few ms (AbortController), whether or not it reached the server, and sends it again.
import { setTimeout as sleep } from 'node:timers/promises'
import { callJson } from '../json-call.ts'
import type { Auth, Reply } from '../json-call.ts'

export type { Auth, Json, Reply } from '../json-call.ts'

/** how long one request may keep failing: longer than a restart of the dev server */
const GIVE_UP_MS = 60_000
/** an attempt not answered by then is abandoned (and counted cut off) */
const ATTEMPT_MS = 20_000

export interface ClientStats {
  /** attempts cut off (network errors, aborted attempts, non-JSON answers) */
  cutOff: number
  /** 5xx answers */
  serverErrors: number
  /** requests that needed more than one attempt */
  retried: number
  /** retried POSTs answered Idempotent-Replayed: the first attempt had placed the order */
  replayed: number
}

export function chaosClient(base: string) {
  const stats: ClientStats = { cutOff: 0, serverErrors: 0, retried: 0, replayed: 0 }

  /** The request until it has a real answer; `abandonAfterMs`: the first attempt is abandoned. */
  async function send(
    method: string,
    path: string,
    auth: Auth,
    opts: { body?: unknown; key?: string; abandonAfterMs?: number } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = opts.key ? { 'idempotency-key': opts.key } : {}
    const until = Date.now() + GIVE_UP_MS
    let failed = false
    if (opts.abandonAfterMs !== undefined) {
      const abandoned = AbortSignal.timeout(opts.abandonAfterMs)
      await callJson(base, method, path, auth, opts.body, headers, abandoned).catch(() => undefined)
      stats.cutOff++
      failed = true
    }
    for (;;) {
      const timeout = AbortSignal.timeout(ATTEMPT_MS)
      const res = await callJson(base, method, path, auth, opts.body, headers, timeout).catch(() => {
        stats.cutOff++
        return undefined
      })
      const inFlight = res?.status === 409 && res.body.code === 'idempotency_in_flight'
      if (res && res.status < 500 && !inFlight) {
        if (failed) stats.retried++
        if (failed && res.headers.get('idempotent-replayed') === 'true') stats.replayed++
        return res
      }
      if (res && res.status >= 500) stats.serverErrors++
      failed = true
      if (Date.now() > until) {
        throw new Error(`${method} ${path} kept failing: ${JSON.stringify(res?.body)}`)
      }
      await sleep(inFlight ? 300 : 100)
    }
  }

  return { send, stats }
}
