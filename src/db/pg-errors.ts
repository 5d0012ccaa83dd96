// Postgres error inspection through drizzle's DrizzleQueryError wrapper (the driver error is its
// `cause`).

export function pgErrorCode(err: unknown): string | undefined {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code
  }
  return undefined
}

export const UNIQUE_VIOLATION = '23505'
export const CHECK_VIOLATION = '23514'
