// The ticket's Idempotency-Key: one per order, kept across its retries until the API has given a
// definite answer, so a resubmit after a timeout (or a dropped connection, a 5xx) that the server
// did place returns that order instead of placing a second. A changed ticket is a new order.
import { ApiError } from '../client/index.ts'

/** an answer that settles the order: a refusal the server made (not "still in flight" or "try later") */
export const refused = (err: unknown) =>
  err instanceof ApiError && err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status)

export function orderKey(make = randomKey) {
  let key: string | undefined
  return {
    /** the key to send: the kept one while the last attempt's fate is unknown */
    current: () => (key ??= make()),
    /** after an attempt: placed (no error) or refused ends the key; anything else keeps it */
    settled(err?: unknown) {
      if (err === undefined || refused(err)) key = undefined
    },
    /** the ticket changed: another order */
    changed: () => (key = undefined),
  }
}

/** getRandomValues: also outside secure contexts */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return `term-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}
