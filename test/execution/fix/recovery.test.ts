// Property: whatever the link loses, in either direction, and however often the connection
// drops or a side restarts (new session objects on the same stores), once the link behaves
// every application message sent is delivered exactly once and in order, with no Reject and
// no "MsgSeqNum too low".
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { getField } from '../../../src/execution/fix/codec.ts'
import { HEARTBEAT_MS, Link, fill, order, type Side } from './harness.ts'

type Action =
  | { kind: 'send'; from: Side }
  | { kind: 'advance'; ms: number }
  | { kind: 'disconnect' }
  | { kind: 'restart'; side: Side }

const side = fc.constantFrom<Side>('initiator', 'acceptor')
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), from: side }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 45_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), side }) },
)

/** The n-th application message `from` sends: orders one way, fills the other. */
const message = (from: Side, n: number) => (from === 'initiator' ? order(`c-${n}`) : fill(`E-${n}`))
const idOf = (from: Side) => (m: readonly (readonly [number, string])[]) =>
  getField(m, from === 'initiator' ? 11 : 17)

function run(actions: Action[], losses: boolean[]) {
  const link = new Link()
  const sent: Record<Side, string[]> = { initiator: [], acceptor: [] }
  let next = 0
  link.drop = () => losses[next++ % losses.length] === true && next <= losses.length * 3
  for (const a of actions) {
    if (!link.connected) link.connect() // the initiator reconnects at once
    if (a.kind === 'send') {
      const n = sent[a.from].length + 1
      sent[a.from].push(idOf(a.from)(message(a.from, n)) as string)
      link.send(a.from, message(a.from, n))
    } else if (a.kind === 'advance') link.advance(a.ms)
    else if (a.kind === 'disconnect') link.closeNow()
    else link.restart(a.side)
  }
  // The link behaves from now on; time passes until both sides have caught up.
  link.drop = () => false
  for (let elapsed = 0; elapsed < 20 * HEARTBEAT_MS; elapsed += 5_000) {
    if (!link.connected) link.connect()
    link.advance(5_000)
  }
  return { link, sent }
}

describe('recovery over a lossy link', () => {
  test('every application message delivered exactly once, in order, both ways', () => {
    fc.assert(
      fc.property(
        fc.array(action, { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
        (actions, losses) => {
          const { link, sent } = run(actions, losses)
          expect(link.delivered.acceptor.map(idOf('initiator'))).toEqual(sent.initiator)
          expect(link.delivered.initiator.map(idOf('acceptor'))).toEqual(sent.acceptor)
          for (const s of ['initiator', 'acceptor'] as const) {
            expect(link.eventsOfType(s, 'rejected')).toEqual([])
            const reasons = link.eventsOfType(s, 'disconnected').map((e) => e.reason)
            expect(reasons.filter((r) => /too low|Reject|CompID/.test(r))).toEqual([])
          }
          expect(link.sessions.initiator.state).toBe('active')
          expect(link.sessions.acceptor.state).toBe('active')
        },
      ),
      { numRuns: 300 },
    )
  })

  test('a concrete run: orders lost both ways, a restart in the middle', () => {
    const lossy = [true, false, true, true, false, false, true]
    const actions: Action[] = [
      { kind: 'send', from: 'initiator' },
      { kind: 'send', from: 'acceptor' },
      { kind: 'send', from: 'initiator' },
      { kind: 'advance', ms: 31_000 },
      { kind: 'restart', side: 'acceptor' },
      { kind: 'send', from: 'acceptor' },
      { kind: 'send', from: 'initiator' },
      { kind: 'advance', ms: 40_000 },
    ]
    const { link, sent } = run(actions, lossy)
    expect(sent).toEqual({ initiator: ['c-1', 'c-2', 'c-3'], acceptor: ['E-1', 'E-2'] })
    expect(link.delivered.acceptor.map(idOf('initiator'))).toEqual(sent.initiator)
    expect(link.delivered.initiator.map(idOf('acceptor'))).toEqual(sent.acceptor)
    expect(link.eventsOfType('acceptor', 'gap-detected').length + link.eventsOfType('initiator', 'gap-detected').length).toBeGreaterThan(0)
  })
})
