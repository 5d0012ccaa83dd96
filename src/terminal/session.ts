// The logged-in session: tokens kept for the tab (sessionStorage), the API client that sends the
// current one, and refreshing it before it expires — or once when the API says it has.
import { ApiError, createClient } from '../client/index.ts'
import type { TokenPair } from '../client/index.ts'

interface Saved {
  email: string
  access: string
  refresh: string
  /** ms since the epoch when the access token expires */
  expires: number
}

const KEY = 'bourse.session'
let saved: Saved | null = load()
let timer: ReturnType<typeof setTimeout> | undefined
/** the refresh in flight: each refresh token works once, and a second use revokes the session */
let refreshing: Promise<void> | undefined

export const api = createClient(location.origin, { token: () => saved?.access })

export const session = () => saved

let onEnded = () => {}
/** what to do when the API no longer takes the session (main: log in again) */
export const whenEnded = (fn: () => void) => (onEnded = fn)
export const sessionEnded = () => onEnded()

/** Password, then (401 otp_required) the code: the ApiError tells the login form which. */
export async function login(email: string, password: string, otp?: string) {
  keep(email, await api.login({ email, password, ...(otp && { otp }) }))
}

export function logout() {
  if (saved) api.logout(saved.refresh).catch(() => {})
  saved = null
  clearTimeout(timer)
  sessionStorage.removeItem(KEY)
}

/** Runs a call, refreshing the token once if the API answers that it expired. */
export async function authed<T>(call: () => Promise<T>): Promise<T> {
  const sent = saved?.access
  try {
    return await call()
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401 && saved)) throw err
    // (another call may have refreshed it meanwhile: then only the retry is needed)
    if (saved.access === sent) await refresh()
    return call()
  }
}

/** A fresh access token (the sockets connect with it). */
export async function freshToken(): Promise<string> {
  if (!saved) throw new Error('not logged in')
  if (saved.expires - Date.now() < 30_000) await refresh()
  return saved.access
}

/** One refresh at a time: parallel 401s (and sockets) wait for the same one. */
function refresh(): Promise<void> {
  refreshing ??= rotate().finally(() => (refreshing = undefined))
  return refreshing
}

async function rotate() {
  if (!saved) return
  const { email, refresh } = saved
  const tokens = await api.refresh(refresh)
  // (a logout while it was in flight keeps the tab logged out)
  if (saved?.refresh === refresh) keep(email, tokens)
}

function keep(email: string, tokens: TokenPair) {
  saved = {
    email,
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    expires: Date.now() + tokens.expires_in * 1000,
  }
  sessionStorage.setItem(KEY, JSON.stringify(saved))
  schedule()
}

/** refresh at 80% of the token's life, so requests and reconnects rarely meet an expired one */
function schedule() {
  clearTimeout(timer)
  if (!saved) return
  const wait = Math.max(5_000, (saved.expires - Date.now()) * 0.8)
  timer = setTimeout(() => refresh().catch(() => {}), wait)
}

function load(): Saved | null {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null')
  } catch {
    return null
  }
}

if (saved) schedule()
