// The whole app in process (createApp, app.request) on the test database, each symbol's real
// journal and book standing in for its Durable Object (books.ts), with the order fixtures on the
// same database: what the in-process suites of the whole order path set up alike.
import { createApp } from '../../src/app.ts'
import { issueAccessToken } from '../../src/auth/tokens.ts'
import type { Db } from '../../src/db/client.ts'
import { settingsFrom } from '../../src/env.ts'
import type { Env, Vars } from '../../src/env.ts'
import { testEnv } from './app.ts'
import { inProcessBooks } from './books.ts'
import { testDatabase } from './db.ts'
import { orderFixtures } from './orders.ts'

export function inProcessApp() {
  const app = createApp()
  let db: Db | undefined
  // (read on each call: the database is opened in beforeAll, by open())
  const books = inProcessBooks(() => db!)
  const fixtures = orderFixtures(() => db!)

  /** the test env, `overrides` on top, with the in-process books as SYMBOL_BOOK */
  const envWith = async (overrides: Partial<Vars> = {}) =>
    ({ ...(await testEnv(overrides)), SYMBOL_BOOK: books.SYMBOL_BOOK }) as unknown as Env

  /** opens the test database and makes the env; for beforeAll */
  async function open(): Promise<{ db: Db; env: Env }> {
    db = (await testDatabase()).handle.db
    return { db, env: await envWith() }
  }

  return { app, books, fixtures, envWith, open }
}

/** headers with an access token as a login with a one-time code issues it (trading needs it) */
export async function secondFactorAuth(env: Env, userId: number): Promise<Record<string, string>> {
  const token = await issueAccessToken(env, settingsFrom(env), userId, ['pwd', 'otp'])
  return { authorization: `Bearer ${token}` }
}
