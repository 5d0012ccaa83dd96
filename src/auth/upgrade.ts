// Authenticating a WebSocket upgrade. Browsers cannot set headers on a WebSocket, so the access
// token comes as a subprotocol `bearer.<token>`, offered together with the one the server speaks
// (`bourse.v1`, which the answer selects), or as a `token` query parameter.
import type { Context } from 'hono'
import type { AppEnv } from '../context.ts'
import { AppError, UnauthorizedError, ValidationError } from '../errors.ts'
import { verifyAccessToken } from './tokens.ts'

export const PROTOCOL = 'bourse.v1'
const TOKEN_PROTOCOL = /^bearer\.([A-Za-z0-9_.~+/=-]+)$/

/**
 * The upgrade's user, the subprotocol to answer with (when offered), and its since=<seq>; 426
 * when the request is no upgrade, 401 without a valid token, 400 for a bad `since`.
 */
export async function authenticateUpgrade(c: Context<AppEnv>) {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new AppError(426, 'upgrade_required', 'Connect with a WebSocket (Upgrade: websocket)')
  }
  const offered = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim())
  const token =
    offered.map((p) => TOKEN_PROTOCOL.exec(p)?.[1]).find(Boolean) ?? c.req.query('token')
  if (!token) {
    throw new UnauthorizedError(
      'token_missing',
      'Send the access token as subprotocol bearer.<token> (with bourse.v1) or as ?token=',
    )
  }
  const { userId } = await verifyAccessToken(c.env, c.get('settings'), token)
  const since = c.req.query('since')
  if (since !== undefined && !/^\d{1,15}$/.test(since)) {
    throw new ValidationError('since must be a sequence number', [
      { path: 'since', message: 'an integer ≥ 0' },
    ])
  }
  return {
    userId,
    protocol: offered.includes(PROTOCOL) ? PROTOCOL : undefined,
    since: since === undefined ? undefined : Number(since),
  }
}

/** The upgrade as the object receives it: `since` kept, the token and other headers dropped. */
export function forwardedUpgrade(
  url: string,
  upgrade: { protocol?: string; since?: number },
  headers: Record<string, string> = {},
): Request {
  const target = new URL(url)
  target.search = upgrade.since === undefined ? '' : `?since=${upgrade.since}`
  return new Request(target, {
    headers: {
      upgrade: 'websocket',
      ...headers,
      ...(upgrade.protocol && { 'sec-websocket-protocol': upgrade.protocol }),
    },
  })
}
