// Two sessions back to back (harness.ts): logon and logout, heartbeats and test requests on the
// injected clock, gap detection and resend, sequence numbers across restarts, too-low
// sequence numbers, and session-level Rejects after which the session goes on.
import { describe, expect, test } from 'bun:test'
import { getField } from '../../../src/execution/fix/codec.ts'
import { FixSession } from '../../../src/execution/fix/session.ts'
import { MemorySessionStore } from '../../../src/execution/fix/store.ts'
import { orderFlow } from '../../../src/execution/fix/messages.ts'
import { HEARTBEAT_MS, Link, dropOnce, fill, order, rawFrame, wireText } from './harness.ts'

const clOrdIds = (link: Link) => link.delivered.acceptor.map((m) => getField(m, 11))
const execIds = (link: Link) => link.delivered.initiator.map((m) => getField(m, 17))

function loggedOn(overrides?: ConstructorParameters<typeof Link>[0]): Link {
  const link = new Link(overrides)
  link.connect()
  expect(link.sessions.initiator.state).toBe('active')
  expect(link.sessions.acceptor.state).toBe('active')
  return link
}

describe('logon and logout', () => {
  test('Logon both ways with EncryptMethod 0 and HeartBtInt; sequence numbers move on', () => {
    const link = loggedOn()
    expect(link.written.initiator).toEqual([
      expect.stringMatching(/^8=FIX\.4\.4\|9=\d+\|35=A\|49=BOURSE\|56=VENUE\|34=1\|52=20260105-14:30:00\.000\|98=0\|108=30\|10=\d{3}\|$/),
    ])
    expect(link.written.acceptor[0]).toMatch(/\|35=A\|49=VENUE\|56=BOURSE\|34=1\|.*\|98=0\|108=30\|/)
    expect(link.events.initiator).toEqual([{ type: 'logged-on', heartBtInt: 30, reset: false }])
    expect(link.events.acceptor).toEqual([{ type: 'logged-on', heartBtInt: 30, reset: false }])
    for (const store of Object.values(link.stores)) {
      expect([store.nextOutgoingSeq(), store.nextIncomingSeq()]).toEqual([2, 2])
    }
  })

  test("the acceptor adopts the initiator's HeartBtInt", () => {
    const link = loggedOn({ initiator: { heartBtInt: 5 }, acceptor: { heartBtInt: 60 } })
    expect(link.written.acceptor[0]).toContain('|108=5|')
    link.advance(5_000)
    expect(link.writtenOfType('acceptor', '0')).toHaveLength(1)
  })

  test('logout() writes a Logout with the reason and waits for the answer', () => {
    const link = loggedOn()
    const out = link.sessions.initiator.logout('end of day')
    expect(out.send.map(wireText)).toEqual([expect.stringContaining('|35=5|')])
    expect(wireText(out.send[0])).toContain('|58=end of day|')
    expect(link.sessions.initiator.state).toBe('logout-sent')
  })

  test('Logout handshake over the link', () => {
    const link = loggedOn()
    link.send('initiator', order('c-1'))
    link.handle('initiator', link.sessions.initiator.logout('end of day'))
    link.advance(0)
    expect(link.eventsOfType('acceptor', 'logged-out')).toEqual([{ type: 'logged-out', text: 'end of day' }])
    expect(link.writtenOfType('acceptor', '5')).toHaveLength(1)
    expect(link.eventsOfType('initiator', 'logged-out')).toHaveLength(1)
    expect(link.connected).toBe(false)
    expect(link.sessions.initiator.state).toBe('disconnected')
    expect(link.sessions.acceptor.state).toBe('disconnected')
    expect(clOrdIds(link)).toEqual(['c-1'])
  })

  test('no answer to our Logout: closed after the timeout', () => {
    const link = loggedOn({ initiator: { logoutTimeoutMs: 2_000 } })
    link.drop = (from) => from === 'initiator'
    link.handle('initiator', link.sessions.initiator.logout())
    link.advance(0)
    link.advance(1_999)
    expect(link.sessions.initiator.state).toBe('logout-sent')
    link.advance(1)
    expect(link.eventsOfType('initiator', 'disconnected').at(-1)?.reason).toBe('no answer to our Logout in time')
  })

  test('no Logon answer: the initiator closes after the timeout', () => {
    const link = new Link({ initiator: { logonTimeoutMs: 5_000 } })
    link.drop = (from) => from === 'acceptor'
    link.connect()
    link.advance(5_000)
    expect(link.eventsOfType('initiator', 'disconnected')).toEqual([{ type: 'disconnected', reason: 'no Logon in time' }])
  })

  test('a first message that is not a Logon: the acceptor closes without a word', () => {
    const link = new Link()
    link.connected = true
    link.sessions.acceptor.connect()
    link.inject('acceptor', link.forge('initiator', order('c-1')))
    expect(link.eventsOfType('acceptor', 'disconnected')[0].reason).toBe('first message was MsgType D, not a Logon')
    expect(link.written.acceptor).toEqual([])
  })

  test('a Logon from another CompID is closed without a message in our sequence', () => {
    const link = new Link()
    link.connected = true
    link.sessions.acceptor.connect()
    link.inject('acceptor', link.forge('initiator', [[35, 'A'], [98, '0'], [108, '30']], { fields: [[49, 'INTRUDER']] }))
    expect(link.eventsOfType('acceptor', 'disconnected')[0].reason).toMatch(/Logon: tag 49/)
    expect(link.written.acceptor).toEqual([])
    expect(link.stores.acceptor.nextOutgoingSeq()).toBe(1)
  })

  test('ResetSeqNumFlag: both sides start again at 1', () => {
    const link = loggedOn()
    link.send('initiator', order('c-1'))
    link.closeNow()
    const reset = new Link({ initiator: { resetOnLogon: true } })
    Object.assign(reset.stores.initiator, link.stores.initiator)
    Object.assign(reset.stores.acceptor, link.stores.acceptor)
    reset.connect()
    expect(reset.written.initiator[0]).toMatch(/\|34=1\|.*\|141=Y\|/)
    expect(reset.written.acceptor[0]).toMatch(/\|34=1\|.*\|141=Y\|/)
    expect(reset.events.acceptor).toEqual([{ type: 'logged-on', heartBtInt: 30, reset: true }])
    expect(reset.stores.acceptor.nextIncomingSeq()).toBe(2)
    expect(reset.stores.initiator.nextIncomingSeq()).toBe(2)
  })
})

describe('sending while our Logon is in flight', () => {
  test('the order goes as soon as the Logon is answered, not a heartbeat later', () => {
    const now = Date.UTC(2026, 0, 5, 14, 30)
    const config = (role: 'initiator' | 'acceptor', sender: string, target: string) => ({
      role, senderCompId: sender, targetCompId: target, heartBtInt: 30, application: orderFlow, clock: () => now,
    })
    const us = new FixSession(config('initiator', 'BOURSE', 'VENUE'), new MemorySessionStore())
    const venue = new FixSession(config('acceptor', 'VENUE', 'BOURSE'), new MemorySessionStore())
    venue.connect()
    const logon = us.connect().send
    expect(us.send(order('c-1')).send).toEqual([]) // numbered and kept, not written yet
    const answer = logon.flatMap((bytes) => venue.receive(bytes).send)
    const written = answer.flatMap((bytes) => us.receive(bytes).send)
    expect(written.map(wireText)).toEqual([expect.stringMatching(/\|35=D\|.*\|34=2\|.*\|11=c-1\|/)])
    const delivered = written.flatMap((bytes) => venue.receive(bytes).deliver)
    expect(delivered.map((m) => getField(m, 11))).toEqual(['c-1'])
  })
})

describe('heartbeats and test requests, on the injected clock', () => {
  test('a Heartbeat after HeartBtInt without sending; none while messages flow', () => {
    const link = loggedOn()
    link.advance(HEARTBEAT_MS - 1)
    expect(link.writtenOfType('initiator', '0')).toHaveLength(0)
    link.send('initiator', order('c-1'))
    link.advance(1) // 30 s since the Logon, but the order went out 1 ms ago
    expect(link.writtenOfType('initiator', '0')).toHaveLength(0)
    expect(link.writtenOfType('acceptor', '0')).toHaveLength(1)
    link.advance(HEARTBEAT_MS - 1)
    expect(link.writtenOfType('initiator', '0')).toHaveLength(1)
    expect(link.events.initiator.filter((e) => e.type === 'disconnected')).toEqual([])
  })

  test('a TestRequest after HeartBtInt + grace of silence, answered by a Heartbeat carrying its id', () => {
    const link = loggedOn({ initiator: { testRequestGraceMs: 3_000 } })
    const acceptorSilent = { on: true }
    link.drop = (from) => from === 'acceptor' && acceptorSilent.on
    link.advance(HEARTBEAT_MS) // both heartbeat, the acceptor's is lost
    expect(link.writtenOfType('initiator', '1')).toHaveLength(0)
    acceptorSilent.on = false
    link.advance(3_000)
    const [testRequest] = link.writtenOfType('initiator', '1')
    const id = /\|112=([^|]+)\|/.exec(testRequest)?.[1]
    expect(id).toBeDefined()
    expect(link.writtenOfType('acceptor', '0').at(-1)).toContain(`|112=${id}|`)
    link.advance(HEARTBEAT_MS + 3_000)
    expect(link.sessions.initiator.state).toBe('active')
  })

  test('a TestRequest not answered: disconnect', () => {
    const link = loggedOn()
    link.drop = (from) => from === 'acceptor'
    link.advance(HEARTBEAT_MS)
    link.advance(HEARTBEAT_MS / 5) // grace: HeartBtInt / 5 by default
    expect(link.writtenOfType('initiator', '1')).toHaveLength(1)
    link.advance(HEARTBEAT_MS + HEARTBEAT_MS / 5 - 1)
    expect(link.sessions.initiator.state).toBe('active')
    link.advance(1)
    expect(link.eventsOfType('initiator', 'disconnected')).toEqual([
      { type: 'disconnected', reason: expect.stringMatching(/^TestRequest TEST-\d+ not answered$/) },
    ])
    expect(link.connected).toBe(false)
  })
})

describe('gaps, resend and gap fill', () => {
  test('a lost message: ResendRequest for the gap, later messages held back, all delivered once in order', () => {
    const link = loggedOn()
    link.drop = dropOnce((from, text) => from === 'initiator' && text.includes('|11=c-2|'))
    for (const id of ['c-1', 'c-2', 'c-3', 'c-4']) link.send('initiator', order(id))
    expect(clOrdIds(link)).toEqual(['c-1', 'c-2', 'c-3', 'c-4'])
    expect(link.eventsOfType('acceptor', 'gap-detected')).toEqual([{ type: 'gap-detected', expected: 3, received: 4 }])
    expect(link.writtenOfType('acceptor', '2')).toEqual([expect.stringMatching(/\|7=3\|16=0\|/)])
    const resent = link.written.initiator.filter((t) => t.includes('|43=Y|'))
    // 3 (c-2) and 4 (c-3) resent as they were, marked possible duplicates with their first
    // SendingTime; c-4 was sent after the request was served and arrives normally
    expect(resent).toEqual([
      expect.stringMatching(/\|34=3\|43=Y\|52=[^|]+\|122=20260105-14:30:00\.000\|11=c-2\|/),
      expect.stringMatching(/\|34=4\|43=Y\|.*\|11=c-3\|/),
    ])
    expect(link.eventsOfType('acceptor', 'gap-filled')).toEqual([{ type: 'gap-filled', nextIncoming: 5 }])
  })

  test('session messages are not resent: a SequenceReset-GapFill stands for each run of them', () => {
    const link = loggedOn()
    const lost = { on: true }
    link.drop = (from) => from === 'initiator' && lost.on
    link.send('initiator', order('c-1')) // 2
    link.advance(HEARTBEAT_MS) // Heartbeat 3 (the acceptor's heartbeat gets through)
    link.advance(HEARTBEAT_MS) // Heartbeat 4; the acceptor, hearing nothing, sends a TestRequest
    expect(link.writtenOfType('acceptor', '1')).toHaveLength(1) // answered by Heartbeat 5
    link.send('initiator', order('c-2')) // 6
    lost.on = false
    link.send('initiator', order('c-3')) // 7: too high, the acceptor asks from 2 on (16=0)
    const resend = link.written.initiator.filter((t) => t.includes('|43=Y|'))
    expect(resend).toEqual([
      expect.stringMatching(/\|35=D\|.*\|34=2\|43=Y\|.*\|11=c-1\|/),
      expect.stringMatching(/\|35=4\|.*\|34=3\|43=Y\|.*\|123=Y\|36=6\|/),
      expect.stringMatching(/\|35=D\|.*\|34=6\|43=Y\|.*\|11=c-2\|/),
      expect.stringMatching(/\|35=D\|.*\|34=7\|43=Y\|.*\|11=c-3\|/),
    ])
    expect(clOrdIds(link)).toEqual(['c-1', 'c-2', 'c-3'])
    expect(link.stores.acceptor.nextIncomingSeq()).toBe(8)
  })

  test('a ResendRequest above the expected seq is served at once, then the gap is asked for', () => {
    const link = loggedOn()
    link.drop = (from, bytes) => from === 'acceptor' && wireText(bytes).includes('|17=E-1|')
    link.send('acceptor', fill('E-1')) // lost: the initiator still expects 2 from the acceptor
    link.drop = (from, bytes) => from === 'initiator' && wireText(bytes).includes('|11=c-1|')
    link.send('initiator', order('c-1')) // lost: the acceptor still expects 2 from the initiator
    link.drop = () => false
    // The acceptor's next message is a ResendRequest numbered 4, above the 3 expected.
    link.send('initiator', order('c-2'))
    expect(clOrdIds(link)).toEqual(['c-1', 'c-2'])
    expect(execIds(link)).toEqual(['E-1'])
    expect(link.eventsOfType('initiator', 'resend-served')).toEqual([{ type: 'resend-served', begin: 2, end: 3 }])
    expect(link.eventsOfType('initiator', 'gap-detected')).toEqual([{ type: 'gap-detected', expected: 2, received: 3 }])
  })

  test('messages sent while disconnected are numbered, kept, and reach the peer after the next Logon', () => {
    const link = loggedOn()
    link.closeNow()
    link.send('initiator', order('c-1'))
    link.send('initiator', order('c-2'))
    expect(link.written.initiator.filter((t) => t.includes('|11=c-'))).toEqual([])
    link.connect()
    // The Logon numbered 4 logs on and asks for 2 and 3.
    expect(link.events.acceptor.slice(-3)).toEqual([
      { type: 'logged-on', heartBtInt: 30, reset: false },
      { type: 'gap-detected', expected: 2, received: 4 },
      { type: 'gap-filled', nextIncoming: 5 },
    ])
    expect(clOrdIds(link)).toEqual(['c-1', 'c-2'])
  })

  test('SequenceReset-Reset moves the expected seq up whatever its own MsgSeqNum; never down', () => {
    const link = loggedOn()
    link.inject('acceptor', link.forge('initiator', [[35, '4'], [36, '10']], { seq: 1 }))
    expect(link.stores.acceptor.nextIncomingSeq()).toBe(10)
    expect(link.eventsOfType('acceptor', 'sequence-reset')).toEqual([{ type: 'sequence-reset', newSeqNo: 10, gapFill: false }])
    link.inject('acceptor', link.forge('initiator', [[35, '4'], [36, '5']], { seq: 10 }))
    expect(link.stores.acceptor.nextIncomingSeq()).toBe(10)
    expect(link.writtenOfType('acceptor', '3').at(-1)).toMatch(/\|45=10\|371=36\|372=4\|373=5\|/)
  })

  test('SequenceReset-GapFill in order moves the expected seq to NewSeqNo', () => {
    const link = loggedOn()
    link.inject('acceptor', link.forge('initiator', [[35, '4'], [123, 'Y'], [36, '7']]))
    expect(link.stores.acceptor.nextIncomingSeq()).toBe(7)
    link.stores.initiator.setNextOutgoingSeq(7)
    link.send('initiator', order('c-1'))
    expect(clOrdIds(link)).toEqual(['c-1'])
  })
})

describe('sequence numbers', () => {
  test('persisted: new session objects on the same stores carry on where they were', () => {
    const link = loggedOn()
    link.send('initiator', order('c-1'))
    link.send('acceptor', fill('E-1'))
    link.restart('initiator')
    link.restart('acceptor')
    link.connect()
    expect(link.written.initiator.at(-1)).toMatch(/\|35=A\|.*\|34=3\|/)
    expect(link.eventsOfType('acceptor', 'gap-detected')).toEqual([])
    expect(link.eventsOfType('initiator', 'gap-detected')).toEqual([])
    link.send('initiator', order('c-2'))
    expect(clOrdIds(link)).toEqual(['c-1', 'c-2'])
    expect(execIds(link)).toEqual(['E-1'])
  })

  test('a Logon with MsgSeqNum too low: Logout saying what was expected, and disconnect', () => {
    const link = new Link()
    link.stores.acceptor.setNextIncomingSeq(10)
    link.connect()
    expect(link.writtenOfType('acceptor', '5')).toEqual([
      expect.stringContaining('|58=MsgSeqNum too low, expecting 10 but received 1|'),
    ])
    expect(link.eventsOfType('initiator', 'logged-out')).toEqual([
      { type: 'logged-out', text: 'MsgSeqNum too low, expecting 10 but received 1' },
    ])
    expect(link.connected).toBe(false)
  })

  test('MsgSeqNum too low without PossDupFlag while logged on: Logout and disconnect', () => {
    const link = loggedOn()
    link.send('initiator', order('c-1'))
    link.inject('acceptor', link.forge('initiator', order('c-0'), { seq: 2 }))
    expect(link.eventsOfType('acceptor', 'disconnected')).toEqual([
      { type: 'disconnected', reason: 'MsgSeqNum too low, expecting 3 but received 2' },
    ])
    expect(clOrdIds(link)).toEqual(['c-1'])
  })

  test('MsgSeqNum too low with PossDupFlag: a copy, ignored', () => {
    const link = loggedOn()
    link.send('initiator', order('c-1'))
    const copy = link.forge('initiator', order('c-1'), {
      seq: 2,
      fields: [[43, 'Y'], [122, '20260105-14:30:00.000']],
    })
    link.inject('acceptor', copy)
    expect(clOrdIds(link)).toEqual(['c-1'])
    expect(link.sessions.acceptor.state).toBe('active')
  })
})

describe('session-level Reject: the message is refused, its number used up, the session goes on', () => {
  const header = '35=D|49=BOURSE|56=VENUE|34=2'
  const body = '11=c-x|55=AAPL|54=1|38=100|40=2|44=150.25|59=0|60=20260105-14:30:00.000|'
  test.each([
    ['SendingTime missing', `${header}|${body}`, 52, 1],
    ['SendingTime in the wrong format', `${header}|52=2026-01-05 14:30|${body}`, 52, 6],
    ['a value left empty', `${header}|52=20260105-14:30:00.000|58=|${body}`, 58, 4],
    ['a PossDup without OrigSendingTime', `${header}|43=Y|52=20260105-14:30:00.000|${body}`, 122, 1],
    ['an OrigSendingTime after SendingTime', `${header}|43=Y|52=20260105-14:30:00.000|122=20260105-14:30:00.001|${body}`, 122, 10],
  ])('%s', (_, fields, refTag, reason) => {
    const link = loggedOn()
    link.stores.initiator.setNextOutgoingSeq(3) // the forged message is the initiator's seq 2
    link.inject('acceptor', rawFrame(fields))
    expect(link.writtenOfType('acceptor', '3')).toEqual([
      expect.stringMatching(new RegExp(`\\|45=2\\|371=${refTag}\\|372=D\\|373=${reason}\\|58=tag ${refTag}`)),
    ])
    expect(link.stores.acceptor.nextIncomingSeq()).toBe(3)
    if (reason === 10) {
      // SendingTime accuracy ends the session in FIX 4.4, like a CompID problem
      expect(link.writtenOfType('acceptor', '5')).toHaveLength(1)
      expect(link.connected).toBe(false)
    } else {
      expectSessionGoesOn(link)
    }
  })

  test('an unsupported MsgType', () => {
    const link = loggedOn()
    link.inject('acceptor', link.forge('initiator', [[35, 'ZZ'], [58, 'what']]))
    expect(link.writtenOfType('acceptor', '3').at(-1)).toMatch(/\|45=2\|371=35\|372=ZZ\|373=11\|/)
    expectSessionGoesOn(link)
  })

  test('an order priced with 3 decimals: Reject naming Price, incorrect data format', () => {
    const link = loggedOn()
    const body = order('c-x').map(([t, v]): [number, string] => [t, t === 44 ? '150.255' : v])
    link.inject('acceptor', link.forge('initiator', body))
    expect(link.writtenOfType('acceptor', '3').at(-1)).toMatch(
      /\|45=2\|371=44\|372=D\|373=6\|58=tag 44: "150\.255" is not a price in cents \(digits, at most 2 decimals\)\|/,
    )
    expect(link.eventsOfType('acceptor', 'rejected')).toEqual([
      expect.objectContaining({ refSeqNum: 2, refMsgType: 'D', tag: 44, reason: 6 }),
    ])
    expectSessionGoesOn(link)
  })

  test('the Reject reaches the initiator as an event', () => {
    const link = loggedOn()
    link.inject('acceptor', link.forge('initiator', [[35, 'ZZ']]))
    expect(link.eventsOfType('initiator', 'reject-received')).toEqual([
      { type: 'reject-received', refSeqNum: 2, text: 'tag 35: MsgType ZZ is not supported' },
    ])
  })

  test('a malformed Reject is not rejected back (no loop), only counted', () => {
    const link = loggedOn()
    link.inject('acceptor', link.forge('initiator', [[35, '3']]))
    expect(link.writtenOfType('acceptor', '3')).toEqual([])
    expect(link.eventsOfType('acceptor', 'rejected')).toHaveLength(1)
    expectSessionGoesOn(link)
  })

  test('a CompID problem: Reject, then Logout and disconnect (FIX 4.4)', () => {
    const link = loggedOn()
    link.inject('acceptor', link.forge('initiator', order('c-x'), { fields: [[56, 'SOMEONE-ELSE']] }))
    expect(link.writtenOfType('acceptor', '3').at(-1)).toMatch(/\|45=2\|371=56\|372=D\|373=9\|/)
    expect(link.writtenOfType('acceptor', '5')).toHaveLength(1)
    expect(link.connected).toBe(false)
  })

  test('garbled bytes are discarded and reported, the session goes on', () => {
    const link = loggedOn()
    const bytes = link.forge('initiator', order('c-x'))
    bytes[bytes.length - 3] ^= 0x01 // the CheckSum's last digit
    link.stores.initiator.setNextOutgoingSeq(2) // the garbled message never happened
    link.inject('acceptor', bytes)
    expect(link.eventsOfType('acceptor', 'garbled')).toEqual([
      { type: 'garbled', reason: expect.stringMatching(/^CheckSum \(10\)/) },
    ])
    expect(link.writtenOfType('acceptor', '3')).toEqual([])
    link.send('initiator', order('c-1'))
    expect(clOrdIds(link)).toEqual(['c-1'])
  })
})

/** The rejected message used up seq 2: the next one, 3, is delivered. */
function expectSessionGoesOn(link: Link) {
  expect(link.sessions.acceptor.state).toBe('active')
  expect(link.stores.acceptor.nextIncomingSeq()).toBe(3)
  link.send('initiator', order('c-next'))
  expect(clOrdIds(link)).toEqual(['c-next'])
}

test('send() refuses session messages', () => {
  const session = new FixSession(
    { role: 'initiator', senderCompId: 'A', targetCompId: 'B', heartBtInt: 30, application: orderFlow, clock: () => 0 },
    new MemorySessionStore(),
  )
  expect(() => session.send([[35, 'A']])).toThrow()
})
