// The clearing submission's arithmetic: settlement dates across weekends and holidays, netting,
// and the file with its control totals and checksum.
import { describe, expect, test } from 'bun:test'
import { sha256Hex } from '../../src/auth/tokens.ts'
import {
  ClearingFileError, netObligations, parseClearingFile, settlementDate, submission, tradeDateOf,
} from '../../src/settlement/clearing.ts'

describe('settlement dates', () => {
  test('T+1 by default, T+2 a setting away; weekends and holidays skipped', () => {
    expect(settlementDate('2026-11-24', 1)).toBe('2026-11-25')
    expect(settlementDate('2026-11-25', 1)).toBe('2026-11-27') // over Thanksgiving
    expect(settlementDate('2026-11-25', 2)).toBe('2026-11-30') // and the weekend
    expect(settlementDate('2026-12-31', 1)).toBe('2027-01-04') // New Year's Day, a Friday
    expect(settlementDate('2026-07-02', 2)).toBe('2026-07-07') // Independence Day observed Friday 3rd
  })

  test('a trade on a day without a session belongs to the next trading day', () => {
    expect(tradeDateOf('2026-11-26')).toBe('2026-11-27')
    expect(tradeDateOf('2026-11-28')).toBe('2026-11-30')
    expect(tradeDateOf('2026-11-27')).toBe('2026-11-27')
  })
})

describe('the clearing submission', () => {
  const fills = [
    { userId: 2, symbol: 'AAPL', side: 'buy' as const, qty: 100, priceCents: 15_000 },
    { userId: 1, symbol: 'AAPL', side: 'sell' as const, qty: 100, priceCents: 15_000 },
    { userId: 2, symbol: 'AAPL', side: 'sell' as const, qty: 40, priceCents: 15_010 },
    { userId: 3, symbol: 'AAPL', side: 'buy' as const, qty: 40, priceCents: 15_010 },
    { userId: 3, symbol: 'MSFT', side: 'buy' as const, qty: 5, priceCents: 41_000 },
    { userId: 3, symbol: 'MSFT', side: 'sell' as const, qty: 5, priceCents: 41_000 }, // flat
    { userId: 1, symbol: 'MSFT', side: 'buy' as const, qty: 2, priceCents: 41_000 },
    { userId: 4, symbol: 'MSFT', side: 'sell' as const, qty: 2, priceCents: 41_000 },
  ]

  test('fills net per account and symbol; cash between our own accounts nets to zero', () => {
    expect(netObligations(fills)).toEqual([
      { userId: 1, symbol: 'AAPL', qty: -100, cashCents: 1_500_000, proceedsCents: 1_500_000 },
      { userId: 1, symbol: 'MSFT', qty: 2, cashCents: -82_000, proceedsCents: 0 },
      { userId: 2, symbol: 'AAPL', qty: 60, cashCents: -1_500_000 + 600_400, proceedsCents: 600_400 },
      { userId: 3, symbol: 'AAPL', qty: 40, cashCents: -600_400, proceedsCents: 0 },
      // flat: kept (its proceeds settle with the day), left out of the file
      { userId: 3, symbol: 'MSFT', qty: 0, cashCents: 0, proceedsCents: 205_000 },
      { userId: 4, symbol: 'MSFT', qty: -2, cashCents: 82_000, proceedsCents: 82_000 },
    ])
  })

  test('one line per obligation, a trailer with the control totals and the checksum', async () => {
    const s = await submission('2026-11-25', '2026-11-27', netObligations(fills))
    const lines = s.csv.trimEnd().split('\n')
    expect(lines[0]).toBe('trade_date,settle_date,account,symbol,net_qty,net_amount')
    expect(lines[1]).toBe('2026-11-25,2026-11-27,1,AAPL,-100,15000.00')
    expect(lines[3]).toBe('2026-11-25,2026-11-27,2,AAPL,60,-8996.00')
    expect(s).toMatchObject({ rows: 5, controlQty: 204, controlCents: 0 })
    const body = `${lines.slice(0, -1).join('\n')}\n`
    expect(lines.at(-1)).toBe(`TRAILER,5,204,0.00,${await sha256Hex(body)}`)
    expect(s.checksum).toBe(await sha256Hex(body))
  })
})

describe('reading a clearing file', () => {
  const file = async () => (await submission('2026-11-25', '2026-11-27', netObligations(fills()))).csv
  const fills = () => [
    { userId: 1, symbol: 'AAPL', side: 'sell' as const, qty: 100, priceCents: 15_000 },
    { userId: 2, symbol: 'AAPL', side: 'buy' as const, qty: 100, priceCents: 15_000 },
  ]
  /** the file with its lines changed and its trailer recomputed, as a careful sender would */
  const resealed = async (csv: string, edit: (lines: string[]) => string[]) => {
    const lines = edit(csv.trimEnd().split('\n').slice(0, -1))
    const rows = lines.slice(1).map((l) => l.split(','))
    const qty = rows.reduce((n, r) => n + Math.abs(Number(r[4])), 0)
    const cents = rows.reduce((n, r) => n + Math.round(Number(r[5]) * 100), 0)
    const body = `${lines.join('\n')}\n`
    return `${body}TRAILER,${rows.length},${qty},${(cents / 100).toFixed(2)},${await sha256Hex(body)}\n`
  }
  const refused = async (csv: string, message: RegExp) => {
    const err = await parseClearingFile(csv).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClearingFileError)
    expect((err as Error).message).toMatch(message)
  }

  test('our own submission reads back line for line', async () => {
    expect(await parseClearingFile(await file())).toEqual([
      { tradeDate: '2026-11-25', settleDate: '2026-11-27', account: '1', symbol: 'AAPL', qty: -100, cashCents: 1_500_000 },
      { tradeDate: '2026-11-25', settleDate: '2026-11-27', account: '2', symbol: 'AAPL', qty: 100, cashCents: -1_500_000 },
    ])
    expect(await parseClearingFile((await file()).replaceAll('\n', '\r\n'))).toHaveLength(2)
  })

  test('a wrong header, trailer, total or checksum refuses the whole file', async () => {
    const csv = await file()
    await refused(csv.replace('trade_date,', 'date,'), /first line/)
    await refused(csv.trimEnd().split('\n').slice(0, -1).join('\n'), /last line/)
    await refused(csv.replace('-100,', '-99,'), /totals/)
    await refused(csv.replace('15000.00', '15000.01').replace('-15000.00', '-15000.01'), /SHA-256/)
  })

  test('an unreadable or repeated line is named', async () => {
    const csv = await file()
    await refused(await resealed(csv, (l) => [...l.slice(0, 2), '2026-11-25,2026-11-27,2,AAPL,1e2,0.00']), /line 3/)
    await refused(await resealed(csv, (l) => [...l, l[1]]), /a second line for 1,AAPL/)
    await refused(await resealed(csv, (l) => [l[0], l[1].replace('15000.00', '15000.5')]), /line 2/)
  })
})
