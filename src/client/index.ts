// A typed client of the public API (README, "API"), for browsers, Bun and Node: one method per
// endpoint, the server's own request and response types (types.ts), and every refusal thrown as
// an ApiError carrying the API's problem body as it came, its `code` included.
import type {
  Account,
  AmendedOrder,
  BatchReply,
  Book,
  CanceledOrder,
  Channel,
  ClientMessage,
  Fill,
  LedgerEntry,
  Nbbo,
  Order,
  OrderBody,
  OrderList,
  PasswordChangeBody,
  PlacedOrder,
  Position,
  Problem,
  Quote,
  ShareTransferBody,
  SymbolInfo,
  TokenPair,
  TotpEnrollment,
} from './types.ts'
import { READ_CHECK_PREFIX } from '../lib/read-checks.ts'

export type * from './types.ts'
export { wireChecksum } from './depth.ts'

/** A response that was not 2xx: its status and problem body (code, detail, and any extras). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${problem.code}: ${problem.detail}`)
    this.name = 'ApiError'
  }

  get code(): string {
    return this.problem.code
  }
}

export interface ClientOptions {
  /** the access token to send, or a function read before each request (a session that refreshes) */
  token?: string | (() => string | undefined)
  /** what sends the requests (default: the global fetch); e.g. an app's own request() in tests */
  fetch?: (url: string, init: RequestInit) => Promise<Response>
}

export interface RequestOptions {
  /** Idempotency-Key: a retry with the same key returns the first result, never a second order */
  idempotencyKey?: string
  /** X-Request-Id, followed through the logs and the audit */
  requestId?: string
}

export interface OrderQuery {
  status?: Order['status']
  symbol?: string
  limit?: number
  cursor?: number
}

/** The subprotocols that carry an access token on a WebSocket (browsers cannot set headers). */
export const streamProtocols = (token: string) => ['bourse.v1', `bearer.${token}`]

export const clientMessage = (msg: ClientMessage) => JSON.stringify(msg)

/**
 * The answer to a market-data read_check, for a socket to send back; undefined for any other
 * message. A reader that does not answer is closed with 4008 once it is MD_MAX_UNACKED_BYTES behind.
 */
export function readCheckAnswer(text: string): string | undefined {
  if (!text.startsWith(READ_CHECK_PREFIX)) return undefined
  const { token } = JSON.parse(text) as { token: string }
  return clientMessage({ op: 'ack', token })
}

export function createClient(base: string, options: ClientOptions = {}) {
  const doFetch = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init))
  const token = () => (typeof options.token === 'function' ? options.token() : options.token)
  const root = base.replace(/\/$/, '')

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: RequestOptions & { text?: boolean } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    const bearer = token()
    if (bearer) headers.authorization = `Bearer ${bearer}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey
    if (opts.requestId) headers['x-request-id'] = opts.requestId
    const res = await doFetch(root + path, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    if (res.status === 204) return undefined as T
    const text = await res.text()
    // (a text answer — a CSV statement — is returned as it came)
    if (res.ok && opts.text) return text as T
    const json = text ? parse(text) : undefined
    if (!res.ok) throw new ApiError(res.status, asProblem(res.status, path, json, text))
    return json as T
  }

  const get = <T>(path: string) => request<T>('GET', path)
  const post = <T>(path: string, body?: unknown, opts?: RequestOptions) =>
    request<T>('POST', path, body, opts)

  /** the WebSocket URL of a path, token in a subprotocol (streamProtocols), `since` to resume */
  const socketUrl = (path: string, since?: number) =>
    `${root.replace(/^http/, 'ws')}${path}${since === undefined ? '' : `?since=${since}`}`

  return {
    base: root,

    // auth
    register: (body: { email: string; password: string; display_name?: string }) =>
      post<{ id: number; email: string; display_name: string | null }>('/v1/auth/register', body),
    /** 401 `otp_required` when the account has two-factor and no `otp` was sent */
    login: (body: { email: string; password: string; otp?: string }) =>
      post<TokenPair>('/v1/auth/login', body),
    refresh: (refreshToken: string) =>
      post<TokenPair>('/v1/auth/refresh', { refresh_token: refreshToken }),
    logout: (refreshToken: string) =>
      post<void>('/v1/auth/logout', { refresh_token: refreshToken }),
    enrollTotp: () => post<TotpEnrollment>('/v1/auth/totp/enroll'),
    verifyTotp: (code: string) =>
      post<{ two_factor_enabled: true }>('/v1/auth/totp/verify', { code }),
    /** a current code turns two-factor off */
    disableTotp: (code: string) =>
      post<{ two_factor_enabled: false }>('/v1/auth/totp/disable', { code }),
    /** ends every session of the user (all refresh tokens) */
    logoutAll: () => post<void>('/v1/auth/logout-all'),
    changePassword: (body: PasswordChangeBody) => post<void>('/v1/auth/password', body),

    // account
    account: () => get<Account>('/v1/account'),
    deposit: (amount: string, opts?: RequestOptions) =>
      post<unknown>('/v1/account/deposits', { amount }, opts),
    withdraw: (amount: string, opts?: RequestOptions) =>
      post<LedgerEntry>('/v1/account/withdrawals', { amount }, opts),
    /** shares brought in from elsewhere, at their cost basis */
    transferShares: (body: ShareTransferBody, opts?: RequestOptions) =>
      post<{ entry: LedgerEntry; position: Position }>('/v1/account/transfers', body, opts),
    /** the cash ledger, newest first; `before`: the last page's next_before */
    ledger: (query: { limit?: number; before?: number } = {}) =>
      get<{ entries: LedgerEntry[]; next_before: number | null }>(`/v1/account/ledger${search(query)}`),
    ledgerEntry: (id: number) => get<LedgerEntry>(`/v1/account/ledger/${id}`),
    /** the month's statement (YYYY-MM) as the CSV the API sends */
    statement: (month: string) =>
      request<string>('GET', `/v1/account/statements/${encodeURIComponent(month)}`, undefined, { text: true }),
    positions: () => get<{ positions: Position[] }>('/v1/positions'),
    position: (symbol: string) => get<Position>(`/v1/positions/${encodeURIComponent(symbol)}`),
    fills: (limit = 50) =>
      get<{ activities: Fill[]; next_cursor: string | null }>(
        `/v1/account/activities?type=fill&limit=${limit}`,
      ),

    // orders
    placeOrder: (body: OrderBody, opts?: RequestOptions) =>
      post<PlacedOrder>('/v1/orders', body, opts),
    placeBatch: (orders: OrderBody[], opts?: RequestOptions) =>
      post<BatchReply>('/v1/orders/batch', { orders }, opts),
    orders: (query: OrderQuery = {}) => get<OrderList>(`/v1/orders${search(query)}`),
    order: (id: number) => get<Order & { fills: NonNullable<Order['fills']> }>(`/v1/orders/${id}`),
    cancelOrder: (id: number) => request<CanceledOrder>('DELETE', `/v1/orders/${id}`),
    /** the new open quantity, below the current one (time priority kept) */
    amendOrder: (id: number, qty: number) =>
      request<AmendedOrder>('PATCH', `/v1/orders/${id}`, { qty }),

    // market data
    symbols: () => get<{ symbols: SymbolInfo[] }>('/v1/symbols'),
    book: (symbol: string, depth = 10) =>
      get<Book>(`/v1/book/${encodeURIComponent(symbol)}?depth=${depth}`),
    nbbo: (symbol: string) => get<Nbbo>(`/v1/nbbo/${encodeURIComponent(symbol)}`),
    quote: (symbol: string) => get<Quote>(`/v1/quotes/${encodeURIComponent(symbol)}`),
    /** up to 50 symbols' quotes, in the order asked; the ones not listed in `unknown` */
    quotes: (symbols: string[]) =>
      get<{ quotes: Quote[]; unknown: string[] }>(`/v1/quotes?symbols=${symbols.map(encodeURIComponent).join(',')}`),
    marketDataUrl: (symbol: string, since?: number) =>
      socketUrl(`/v1/market-data/${encodeURIComponent(symbol)}`, since),
    streamUrl: (since?: number) => socketUrl('/v1/stream', since),
    subscribe: (channels: Channel[], since?: number) =>
      clientMessage({ op: 'subscribe', channels, ...(since !== undefined && { since }) }),
  }
}

export type Client = ReturnType<typeof createClient>

function search(query: object): string {
  const pairs = Object.entries(query).filter(([, v]) => v !== undefined)
  const params = new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, String(v)]))
  return pairs.length ? `?${params}` : ''
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** the problem as the API gave it; a body that is none (a proxy's page) becomes one, said so */
function asProblem(status: number, path: string, json: unknown, text: string): Problem {
  if (json && typeof json === 'object' && typeof (json as Problem).code === 'string') {
    return json as Problem
  }
  return {
    type: 'about:blank',
    title: 'Error',
    status,
    detail: text.slice(0, 200) || `HTTP ${status}`,
    instance: path,
    code: 'http_error',
  }
}
