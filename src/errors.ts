// Domain errors. Each carries its HTTP status and a stable machine code; app.onError turns them
// into RFC 9457 problem+json bodies (type = PROBLEM_BASE + code).

import { formatCents } from './lib/money.ts'

export const PROBLEM_BASE = 'https://bourse.dev/problems/'

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** An RFC 9457 problem body; `code` is the stable machine code (type = PROBLEM_BASE + code). */
export function problemBody(
  status: number,
  code: string,
  detail: string,
  instance: string,
  extra: Record<string, unknown> = {},
) {
  // RFC 9457's members are ours: an extra of the same name never replaces them
  return {
    ...extra,
    type: PROBLEM_BASE + code,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance,
    code,
  }
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** 400 invalid_request; `errors` lists the offending fields (path "" = the body itself) */
export class ValidationError extends AppError {
  constructor(message: string, errors: { path: string; message: string }[] = []) {
    super(400, 'invalid_request', message, { errors })
  }
}

/**
 * 401 unauthorized. `reason` says which check failed (stable too): token_missing,
 * token_malformed, bad_signature, alg_not_allowed, unknown_kid, wrong_issuer, wrong_audience,
 * wrong_type, token_expired, token_not_yet_valid, missing_claim, unknown_user,
 * invalid_refresh_token.
 */
export class UnauthorizedError extends AppError {
  constructor(
    readonly reason = 'token_missing',
    message = 'Authentication required',
  ) {
    super(401, 'unauthorized', message, { reason })
  }
}

export class InvalidCredentialsError extends AppError {
  constructor() {
    super(401, 'invalid_credentials', 'Email or password is wrong')
  }
}

export class OtpRequiredError extends AppError {
  constructor() {
    super(401, 'otp_required', 'This account has two-factor authentication: send "otp"')
  }
}

export class InvalidOtpError extends AppError {
  constructor() {
    super(401, 'invalid_otp', 'The one-time code is wrong, expired or already used')
  }
}

const RATE_LIMITED = {
  account: 'Too many failed attempts on this account: try again later',
  ip: 'Too many failed attempts from this address: try again later',
  orders: 'Too many order requests: slow down',
  reads: 'Too many requests: slow down',
}

/**
 * 429 rate_limited with Retry-After. `scope`: account or ip (failed logins and one-time codes,
 * src/auth/throttle.ts), orders or reads (request rates, src/auth/rate-limit.ts).
 */
export class RateLimitedError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    scope: keyof typeof RATE_LIMITED,
  ) {
    super(429, 'rate_limited', RATE_LIMITED[scope], { retry_after: retryAfterSeconds, scope })
  }
}

export class TwoFactorRequiredError extends AppError {
  constructor() {
    super(
      403,
      'two_factor_required',
      'This needs a token from a login with a one-time code (enable two-factor, log in with "otp")',
    )
  }
}

export class ForbiddenError extends AppError {
  constructor(code = 'forbidden', message = 'Not allowed') {
    super(403, code, message)
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super(404, 'not_found', message)
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, extra: Record<string, unknown> = {}) {
    super(409, code, message, extra)
  }
}

/** buying power = cash - reserved cash (no margin: retail and pro alike for now) */
export class InsufficientBuyingPowerError extends AppError {
  constructor(buyingPowerCents: number) {
    super(422, 'insufficient_buying_power', 'Not enough buying power (cash not reserved)', {
      buying_power: formatCents(buyingPowerCents),
    })
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'unavailable', message)
  }
}
