// The calendar against NYSE's published holiday and early-closing tables (2022-2028).
import { describe, expect, test } from 'bun:test'
import {
  addTradingDays, holidayName, isEarlyClose, isTradingDay, nyDate, nyDayStart, nyInstant, sessionOf,
  tradingHours,
  tradingDaysEndingAt,
} from '../../src/settlement/calendar.ts'

const PUBLISHED: Record<number, string[]> = {
  2022: ['01-17', '02-21', '04-15', '05-30', '06-20', '07-04', '09-05', '11-24', '12-26'],
  2023: ['01-02', '01-16', '02-20', '04-07', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
  2024: ['01-01', '01-15', '02-19', '03-29', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'],
  2026: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
  2027: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
  2028: ['01-17', '02-21', '04-14', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
}
const EARLY: Record<number, string[]> = {
  2023: ['07-03', '11-24'],
  2024: ['07-03', '11-29', '12-24'],
  2026: ['11-27', '12-24'],
  2027: ['11-26'],
  2028: ['07-03', '11-24'],
}

/** every weekday of the year that is a holiday, as MM-DD */
function weekdayHolidays(y: number) {
  const out: string[] = []
  for (let d = new Date(Date.UTC(y, 0, 1)); d.getUTCFullYear() === y; d.setUTCDate(d.getUTCDate() + 1)) {
    const date = d.toISOString().slice(0, 10)
    if (d.getUTCDay() % 6 !== 0 && !isTradingDay(date)) out.push(date.slice(5))
  }
  return out
}

describe('holidays and early closes', () => {
  for (const [y, days] of Object.entries(PUBLISHED)) {
    test(`${y}: exactly the published holidays`, () => {
      expect(weekdayHolidays(Number(y))).toEqual(days)
    })
  }
  for (const [y, days] of Object.entries(EARLY)) {
    test(`${y}: exactly the published early closes`, () => {
      const early: string[] = []
      for (let m = 1; m <= 12; m++)
        for (let d = 1; d <= 31; d++) {
          const date = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
          if (!Number.isNaN(Date.parse(date)) && isEarlyClose(date)) early.push(date.slice(5))
        }
      expect(early).toEqual(days)
    })
  }

  test('New Year on a Saturday is not observed on the Friday before; names and special closings', () => {
    expect(isTradingDay('2021-12-31')).toBe(true)
    expect(isTradingDay('2027-12-31')).toBe(true)
    expect(holidayName('2026-11-26')).toBe('Thanksgiving Day')
    expect(holidayName('2027-12-24')).toBe('Christmas Day')
    expect(holidayName('2025-01-09')).toContain('Carter')
    expect(isTradingDay('2026-11-28')).toBe(false) // a Saturday
  })
})

describe('trading-day arithmetic', () => {
  test('T+1 and T+2 skip weekends and holidays', () => {
    expect(addTradingDays('2026-11-25', 1)).toBe('2026-11-27') // over Thanksgiving
    expect(addTradingDays('2026-12-24', 1)).toBe('2026-12-28') // over Christmas and a weekend
    expect(addTradingDays('2026-04-02', 2)).toBe('2026-04-07') // over Good Friday
    expect(addTradingDays('2026-07-02', 1)).toBe('2026-07-06') // observed Independence Day
    expect(addTradingDays('2026-11-27', -1)).toBe('2026-11-25')
  })

  test('the last n trading days end at the date, or the last trading day before it', () => {
    expect(tradingDaysEndingAt('2026-11-30', 5)).toEqual([
      '2026-11-23', '2026-11-24', '2026-11-25', '2026-11-27', '2026-11-30',
    ])
    expect(tradingDaysEndingAt('2026-11-26', 2)).toEqual(['2026-11-24', '2026-11-25'])
  })
})

describe('New York time', () => {
  test('dates and instants across daylight saving changes', () => {
    expect(nyInstant('2026-07-06', 9, 30).toISOString()).toBe('2026-07-06T13:30:00.000Z') // EDT
    expect(nyInstant('2026-12-01', 9, 30).toISOString()).toBe('2026-12-01T14:30:00.000Z') // EST
    expect(nyInstant('2026-03-09', 16).toISOString()).toBe('2026-03-09T20:00:00.000Z') // after the switch
    expect(nyDate(new Date('2026-11-27T04:59:59Z'))).toBe('2026-11-26')
    expect(nyDate(new Date('2026-11-27T05:00:00Z'))).toBe('2026-11-27')
    expect(nyDayStart(new Date('2026-11-27T04:59:59Z')).toISOString()).toBe('2026-11-26T05:00:00.000Z')
    expect(nyDayStart(Date.parse('2026-07-06T23:00:00Z')).toISOString()).toBe('2026-07-06T04:00:00.000Z')
  })

  test('sessions: regular, early close, none on holidays', () => {
    expect(sessionOf('2026-11-27')).toEqual({
      open: new Date('2026-11-27T14:30:00Z'),
      close: new Date('2026-11-27T18:00:00Z'),
    })
    expect(sessionOf('2026-11-25')?.close.toISOString()).toBe('2026-11-25T21:00:00.000Z')
    expect(sessionOf('2026-11-26')).toBeUndefined()
  })
})

describe('trading hours', () => {
  const at = (iso: string) => Date.parse(iso)
  test('the regular session, holidays and early closes', () => {
    // Thanksgiving: closed all day; the next session is the early-close Friday
    expect(tradingHours(at('2026-11-26T15:00:00Z'), false)).toEqual({
      open: false,
      opens: new Date('2026-11-27T14:30:00Z'),
    })
    expect(tradingHours(at('2026-11-27T15:00:00Z'), false)).toEqual({ open: true })
    // after Friday's 13:00 close: Monday 09:30
    expect(tradingHours(at('2026-11-27T18:00:00Z'), false).opens).toEqual(new Date('2026-11-30T14:30:00Z'))
    // before the bell on a regular day: today's open
    expect(tradingHours(at('2026-12-01T13:00:00Z'), false).opens).toEqual(new Date('2026-12-01T14:30:00Z'))
    expect(tradingHours(at('2026-12-01T20:59:59Z'), false).open).toBe(true)
    expect(tradingHours(at('2026-12-01T21:00:00Z'), false).open).toBe(false)
  })

  test('extended hours: 04:00 to 20:00 New York, 17:00 on early closes', () => {
    expect(tradingHours(at('2026-12-01T13:00:00Z'), true)).toEqual({ open: true }) // 08:00
    expect(tradingHours(at('2026-12-01T08:59:00Z'), true).open).toBe(false) // 03:59
    expect(tradingHours(at('2026-12-02T00:59:00Z'), true).open).toBe(true) // 19:59
    expect(tradingHours(at('2026-11-27T21:30:00Z'), true).open).toBe(true) // 16:30, early close
    expect(tradingHours(at('2026-11-27T22:00:00Z'), true)).toEqual({
      open: false,
      opens: new Date('2026-11-30T09:00:00Z'), // Monday 04:00
    })
  })
})
