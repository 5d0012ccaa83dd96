// A timestamptz as exact text, for keyset cursors: Postgres keeps microseconds, a JS Date only
// milliseconds, so a cursor made from a Date could skip rows within its millisecond.
import { sql } from 'drizzle-orm'
import type { SQL, SQLWrapper } from 'drizzle-orm'

/** `2026-01-05T14:30:00.123456Z`: fixed width, so the text sorts as the instant does. */
export const instantKey = (column: SQLWrapper): SQL<string> =>
  sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

export const INSTANT_KEY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/
