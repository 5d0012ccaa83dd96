// Money crosses the HTTP boundary as decimal strings ("1234.56") and lives everywhere else as
// integer cents. No floating point touches an amount.

export const MONEY_PATTERN = /^(0|[1-9]\d{0,12})(\.\d{1,2})?$/

/** "12.3" → 1230. Throws on anything that is not a non-negative amount with ≤ 2 decimals. */
export function parseCents(text: string): number {
  const m = MONEY_PATTERN.exec(text)
  if (!m) throw new RangeError(`not a money amount: ${JSON.stringify(text)}`)
  const frac = (m[2] ?? '.').slice(1).padEnd(2, '0')
  return Number(m[1]) * 100 + Number(frac)
}

/** "-12.3" → -1230: an amount that may be below zero (a P&L, a short's cost). */
export function parseSignedCents(text: string): number {
  return text.startsWith('-') ? -parseCents(text.slice(1)) : parseCents(text)
}

/** 1230 → "12.30", -5 → "-0.05". */
export function formatCents(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`not integer cents: ${cents}`)
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(cents)
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}
