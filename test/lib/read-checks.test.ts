// Read checks (src/lib/read-checks.ts) on their own: a reader that answers is never a budget
// behind, one that does not is, and the counts kept across hibernation never fall below what was
// really sent, however many times the object sleeps and wakes.
import { expect, test } from 'bun:test'
import { ReadChecks, SLOW_CONSUMER, sendChecked, utf8Length } from '../../src/lib/read-checks.ts'
import type { Reading } from '../../src/lib/read-checks.ts'

const BUDGET = 8_000

/** sends `messages` of `bytes` each as an object would; the read_checks it was asked to send */
function send(reading: ReadChecks, messages: number, bytes: number, saved: { state?: Reading }) {
  const checks: string[] = []
  let total = 0
  for (let i = 0; i < messages; i++) {
    if (!reading.admits(bytes)) return { checks, closed: true, total }
    let out = reading.sent(bytes)
    total += bytes
    if (out.check) {
      checks.push(JSON.parse(out.check).token)
      total += out.check.length
      out = { ...reading.sent(out.check.length), save: true }
    }
    if (out.save) saved.state = reading.saved()
  }
  return { checks, closed: false, total }
}

test('a reader answering each check stays within the budget; one that does not is closed at it', () => {
  const answering = new ReadChecks(BUDGET)
  const silent = new ReadChecks(BUDGET)
  const saved = {}
  for (let round = 0; round < 50; round++) {
    for (const token of send(answering, 10, 100, saved).checks) expect(answering.acknowledge(token)).toBe(true)
  }
  expect(send(answering, 1, 100, saved).closed).toBe(false)
  // 50 × 1,000 bytes went out; the silent one is stopped at the budget
  const { checks, closed } = send(silent, 500, 100, saved)
  expect(closed).toBe(true)
  expect(checks).toHaveLength(1)
  expect(silent.acknowledge('0'.repeat(16))).toBe(false)
})

test('across hibernation: a never-reader is closed however short each life, a reader is not', () => {
  for (const answers of [false, true]) {
    const saved: { state?: Reading } = {}
    let closedAfter: number | undefined
    let pending: string[] = []
    for (let life = 0; life < 100 && closedAfter === undefined; life++) {
      // each life of the object sends less than a quarter of the budget, then sleeps
      const reading = new ReadChecks(BUDGET, saved.state)
      if (answers) for (const token of pending) reading.acknowledge(token) && (saved.state = reading.saved())
      const { checks, closed } = send(reading, 3, 300, saved)
      pending = checks
      if (closed) closedAfter = life
    }
    if (answers) expect(closedAfter).toBeUndefined()
    else expect(closedAfter).toBeLessThan(20)
  }
})

test('what is saved is never below what was sent, and at most an eighth of the budget above', () => {
  const reading = new ReadChecks(BUDGET)
  let sent = 0
  const saved: { state?: Reading } = {}
  for (let i = 0; i < 200; i++) {
    const { checks, total } = send(reading, 1, 37 + (i % 50), saved)
    for (const token of checks) reading.acknowledge(token)
    sent += total
    expect(saved.state!.sent).toBeGreaterThanOrEqual(sent)
    expect(saved.state!.sent - sent).toBeLessThanOrEqual(BUDGET / 8)
  }
})

test('counts are of the bytes on the wire: UTF-8, whatever the characters', () => {
  const texts = ['{"type":"trade"}', 'Société Générale', 'ß€𝄞', '東京証券取引所', '🚀 to the moon 🌕', '']
  for (const text of [...texts, ...texts]) {
    expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length)
  }
  // a lone surrogate is escaped by JSON.stringify, so what is sent stays ASCII
  const lone = JSON.stringify({ name: '\ud800' })
  expect(utf8Length(lone)).toBe(new TextEncoder().encode(lone).length)
})

test('sendChecked: a message and the check it makes due go out together, saved once', () => {
  const frames: string[] = []
  let closed: number | undefined
  const ws = { send: (text: string) => frames.push(text), close: (code: number) => (closed = code) }
  const reading = new ReadChecks(BUDGET)
  let saves = 0
  const message = 'x'.repeat(BUDGET / 4)
  expect(sendChecked(ws as unknown as WebSocket, reading, message, () => saves++)).toBe(true)
  expect(frames).toHaveLength(2)
  expect(JSON.parse(frames[1]).type).toBe('read_check')
  expect(saves).toBe(1)
  expect(reading.saved().sent).toBeGreaterThanOrEqual(message.length + frames[1].length)
  // unanswered, two more quarters fit (the check's bytes count too); the next is refused and closes
  for (let i = 0; i < 2; i++) expect(sendChecked(ws as unknown as WebSocket, reading, message, () => saves++)).toBe(true)
  expect(closed).toBeUndefined()
  expect(sendChecked(ws as unknown as WebSocket, reading, message, () => saves++)).toBe(false)
  expect(closed).toBe(SLOW_CONSUMER)
})
