// The US equities trading calendar (NYSE rules, time zone America/New_York), computed rather than
// listed, so it has no end date:
//  - holidays: New Year's Day, Martin Luther King Jr. Day, Washington's Birthday, Good Friday,
//    Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day, Thanksgiving, Christmas;
//    a holiday on a Saturday is observed the Friday before, on a Sunday the Monday after, except
//    New Year's Day on a Saturday, which is not observed (NYSE Rule 7.2);
//  - early closes at 13:00: the day after Thanksgiving, July 3 and December 24 when they are
//    Monday to Thursday;
//  - unscheduled closings (days of mourning) are listed in SPECIAL_CLOSINGS.
// Dates are ISO strings ('2026-11-26'): the trading date, not an instant.

export type IsoDate = string

/** Closings announced outside the rules (national days of mourning). */
export const SPECIAL_CLOSINGS: Record<IsoDate, string> = {
  '2018-12-05': 'National Day of Mourning for President George H.W. Bush',
  '2025-01-09': 'National Day of Mourning for President Jimmy Carter',
}

export const TIME_ZONE = 'America/New_York'
const DAY_MS = 86_400_000

const toDays = (date: IsoDate) => Date.parse(`${date}T00:00:00Z`) / DAY_MS
const fromDays = (days: number): IsoDate => new Date(days * DAY_MS).toISOString().slice(0, 10)
const iso = (y: number, m: number, d: number) => fromDays(Date.UTC(y, m - 1, d) / DAY_MS)
/** 0 = Sunday … 6 = Saturday */
const weekday = (date: IsoDate) => (toDays(date) + 4) % 7

export const addDays = (date: IsoDate, n: number) => fromDays(toDays(date) + n)

/** The n-th (1-based) given weekday of a month; n = -1: the last one. */
function nthWeekday(y: number, m: number, dow: number, n: number): IsoDate {
  if (n > 0) {
    const first = iso(y, m, 1)
    return addDays(first, ((dow - weekday(first) + 7) % 7) + 7 * (n - 1))
  }
  const last = addDays(iso(y, m + 1, 1), -1)
  return addDays(last, -((weekday(last) - dow + 7) % 7))
}

/** Easter Sunday (Anonymous Gregorian algorithm). */
function easter(y: number): IsoDate {
  const a = y % 19
  const b = Math.floor(y / 100)
  const c = y % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return iso(y, month, day)
}

/** A fixed-date holiday moved off the weekend. */
function observed(date: IsoDate): IsoDate {
  const dow = weekday(date)
  return dow === 6 ? addDays(date, -1) : dow === 0 ? addDays(date, 1) : date
}

/** The year's holidays (observed dates) with their names. */
function holidaysOf(y: number): Map<IsoDate, string> {
  const list: [IsoDate | null, string][] = [
    [weekday(iso(y, 1, 1)) === 6 ? null : observed(iso(y, 1, 1)), "New Year's Day"],
    [nthWeekday(y, 1, 1, 3), 'Martin Luther King, Jr. Day'],
    [nthWeekday(y, 2, 1, 3), "Washington's Birthday"],
    [addDays(easter(y), -2), 'Good Friday'],
    [nthWeekday(y, 5, 1, -1), 'Memorial Day'],
    [y >= 2022 ? observed(iso(y, 6, 19)) : null, 'Juneteenth National Independence Day'],
    [observed(iso(y, 7, 4)), 'Independence Day'],
    [nthWeekday(y, 9, 1, 1), 'Labor Day'],
    [nthWeekday(y, 11, 4, 4), 'Thanksgiving Day'],
    [observed(iso(y, 12, 25)), 'Christmas Day'],
  ]
  const out = new Map<IsoDate, string>()
  for (const [date, name] of list) if (date) out.set(date, name)
  return out
}

const cache = new Map<number, Map<IsoDate, string>>()
function holidays(y: number) {
  let h = cache.get(y)
  if (!h) cache.set(y, (h = holidaysOf(y)))
  return h
}

/** Why the market is closed that (week)day, or undefined when it is not a holiday. */
export function holidayName(date: IsoDate): string | undefined {
  return SPECIAL_CLOSINGS[date] ?? holidays(Number(date.slice(0, 4))).get(date)
}

export function isTradingDay(date: IsoDate): boolean {
  const dow = weekday(date)
  return dow !== 0 && dow !== 6 && holidayName(date) === undefined
}

/** A 13:00 close: the day after Thanksgiving, and July 3 / December 24 from Monday to Thursday. */
export function isEarlyClose(date: IsoDate): boolean {
  if (!isTradingDay(date)) return false
  const y = Number(date.slice(0, 4))
  if (date === addDays(nthWeekday(y, 11, 4, 4), 1)) return true
  const md = date.slice(5)
  return (md === '07-03' || md === '12-24') && weekday(date) >= 1 && weekday(date) <= 4
}

/** The trading day n trading days after (n < 0: before) a date; n = 0: the date if it trades. */
export function addTradingDays(date: IsoDate, n: number): IsoDate {
  const step = n < 0 ? -1 : 1
  let d = date
  for (let left = Math.abs(n); left > 0; ) {
    d = addDays(d, step)
    if (isTradingDay(d)) left--
  }
  return d
}

/** The last `n` trading days up to and including `date` (or the last before it), oldest first. */
export function tradingDaysEndingAt(date: IsoDate, n: number): IsoDate[] {
  let d = date
  while (!isTradingDay(d)) d = addDays(d, -1)
  const out = [d]
  while (out.length < n) out.unshift((d = addTradingDays(d, -1)))
  return out
}

const nyParts = new Intl.DateTimeFormat('en-US', {
  timeZone: TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

/** New York wall-clock time of an instant, as ms since the epoch "as if UTC". */
function nyWallMs(instant: number): number {
  const p = Object.fromEntries(nyParts.formatToParts(instant).map((x) => [x.type, x.value]))
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second)
}

let lastMinute = { minute: Number.NaN, date: '' }

/** The New York date of an instant: the trading date a fill at that time belongs to. */
export function nyDate(instant: Date | number): IsoDate {
  // Intl formatting is slow and most calls ask about the current minute: remember the last one
  const minute = Math.floor(+instant / 60_000)
  if (minute !== lastMinute.minute) {
    lastMinute = { minute, date: fromDays(Math.floor(nyWallMs(minute * 60_000) / DAY_MS)) }
  }
  return lastMinute.date
}

let lastDayStart = { date: '', start: new Date(Number.NaN) }

/** When the New York day of an instant began (midnight there); remembered for the current day. */
export function nyDayStart(instant: Date | number): Date {
  const date = nyDate(instant)
  if (date !== lastDayStart.date) lastDayStart = { date, start: nyInstant(date, 0) }
  return lastDayStart.start
}

/** The instant of a New York wall-clock time (DST-aware: the offset is checked after the guess). */
export function nyInstant(date: IsoDate, hh: number, mm = 0): Date {
  const wall = toDays(date) * DAY_MS + (hh * 60 + mm) * 60_000
  let t = wall + 5 * 3_600_000 // EST first
  t += wall - nyWallMs(t) // corrects to EDT when it applies
  return new Date(t)
}

/** The regular session of a trading day (09:30 to 16:00, or 13:00 on early closes). */
export function sessionOf(date: IsoDate): { open: Date; close: Date } | undefined {
  if (!isTradingDay(date)) return undefined
  return { open: nyInstant(date, 9, 30), close: nyInstant(date, isEarlyClose(date) ? 13 : 16) }
}

/**
 * The regular close a DAY order placed at `instant` lives to: that day's, or once it has passed,
 * the next trading day's (end of day expires DAY orders at the regular close).
 */
export function dayOrderClose(instant: number): Date {
  const date = nyDate(instant)
  const today = sessionOf(date)
  if (today && instant < today.close.getTime()) return today.close
  return sessionOf(addTradingDays(date, 1))!.close
}

/** Extended hours of a trading day: 04:00 to 20:00 New York, 17:00 on early closes. */
export function extendedSessionOf(date: IsoDate): { open: Date; close: Date } | undefined {
  if (!isTradingDay(date)) return undefined
  return { open: nyInstant(date, 4), close: nyInstant(date, isEarlyClose(date) ? 17 : 20) }
}

/**
 * Whether a symbol trades at `instant`: in the regular session of a trading day, or, for a symbol
 * with extended hours, from 04:00 to 20:00 New York (17:00 on early closes). `opens`: when it
 * next may (absent when open).
 */
export function tradingHours(
  instant: number,
  extendedHours: boolean,
): { open: boolean; opens?: Date } {
  const today = nyDate(instant)
  const hours = extendedHours ? extendedSessionOf : sessionOf
  const todays = hours(today)
  if (todays && instant >= todays.open.getTime() && instant < todays.close.getTime()) {
    return { open: true }
  }
  const next = todays && instant < todays.open.getTime() ? today : addTradingDays(today, 1)
  return { open: false, opens: hours(next)!.open }
}
