// Domain errors. Each carries its HTTP status and a stable machine code; app.onError turns them
// into RFC 9457 problem+json bodies (type = PROBLEM_BASE + code).

import { formatCents } from './lib/money.ts'

export const PROBLEM_BASE = 'https://bourse.dev/problems/'

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

export class ValidationError extends AppError {
  constructor(message: string, errors: { path: string; message: string }[] = []) {
    super(400, 'validation', message, { errors })
  }
}

export class UnauthorizedError extends AppError {
  constructor(code = 'unauthorized', message = 'Authentication required') {
    super(401, code, message)
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

export class AccountLockedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'account_locked', 'Too many failed logins: try again later', {
      retry_after: retryAfterSeconds,
    })
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
  constructor(code: string, message: string) {
    super(409, code, message)
  }
}

export class InsufficientFundsError extends AppError {
  constructor(availableCents: number) {
    super(422, 'insufficient_funds', 'Not enough available cash', {
      available: formatCents(availableCents),
    })
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'unavailable', message)
  }
}
