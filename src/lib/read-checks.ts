// Proof that a WebSocket client reads what it is sent. workerd does not tell how much a socket
// still buffers (no bufferedAmount), and the platform answers pings without waking the object,
// also for a client that reads nothing. So after every quarter of the budget sent, the server
// sends a read_check with a random token; the client's {"op":"ack","token"} acknowledges all that
// was sent before the check, which only a client that read that far can do. A socket more than the
// budget behind what it acknowledged is closed with 4008 (it reconnects and resumes).
//
// The counts outlive hibernation in the socket's attachment (`saved`), rounded up to the next
// eighth of the budget, so a restored count is never below what was really sent: saving then
// happens at most every eighth of the budget, not on every send. Counts are of UTF-8 bytes, what
// goes on the wire.

/** What a socket's attachment keeps of its reading. */
export interface Reading {
  sent: number
  read: number
  check?: { token: string; at: number }
}

export const READ_CHECK_PREFIX = '{"type":"read_check"'
/** the close code for a reader a budget behind */
export const SLOW_CONSUMER = 4008

export class ReadChecks {
  private readonly state: Reading
  /** `sent` as last saved, rounded up */
  private savedSent: number

  constructor(
    private readonly budget: number,
    saved: Reading = { sent: 0, read: 0 },
  ) {
    this.state = { ...saved }
    this.savedSent = saved.sent
  }

  /** Whether `bytes` more may go out; false: the reader is a budget behind (close it, 4008). */
  admits(bytes: number): boolean {
    return this.state.sent + bytes - this.state.read <= this.budget
  }

  /**
   * Counts `bytes` sent. Returns the read_check to send now, if one is due (count it in turn), and
   * whether the attachment should be saved.
   */
  sent(bytes: number): { check?: string; save: boolean } {
    const s = this.state
    s.sent += bytes
    let check: string | undefined
    if (!s.check && s.sent - s.read >= this.budget / 4) {
      const token = [...crypto.getRandomValues(new Uint8Array(8))]
        .map((b) => b.toString(16).padStart(2, '0'))
        .join('')
      check = `${READ_CHECK_PREFIX},"token":"${token}"}`
      s.check = { token, at: s.sent + check.length }
    }
    return { check, save: check !== undefined || s.sent > this.savedSent }
  }

  /** Whether `token` answers the pending check: what the client read moves up to it. */
  acknowledge(token: string): boolean {
    const s = this.state
    if (s.check?.token !== token) return false
    s.read = s.check.at
    s.check = undefined
    return true
  }

  /** What to keep across hibernation (see the top of the file). */
  saved(): Reading {
    if (this.state.sent > this.savedSent) {
      const step = Math.max(1, Math.floor(this.budget / 8))
      this.savedSent = Math.ceil(this.state.sent / step) * step
    }
    return { ...this.state, sent: this.savedSent }
  }
}

/**
 * Sends `text` to a socket and any read_check then due; false when the socket is a budget behind
 * (closed with 4008) or already closed. `save` stores `reading.saved()` in the attachment.
 */
export function sendChecked(ws: WebSocket, reading: ReadChecks, text: string, save: () => void): boolean {
  const bytes = utf8Length(text)
  if (!reading.admits(bytes)) {
    ws.close(SLOW_CONSUMER, 'slow consumer: read faster, answer read_check, resume with since')
    return false
  }
  try {
    ws.send(text)
  } catch {
    return false // closed meanwhile
  }
  const { check, save: due } = reading.sent(bytes)
  // the check is counted before the one save below (`due` is set when a check is)
  if (check && !sendChecked(ws, reading, check, () => {})) return false
  if (due) save()
  return true
}

let lastText = ''
let lastLength = 0

/**
 * The UTF-8 length of `text` without encoding it. The last answer is kept: a fan-out sends one
 * string to every subscriber, and comparing the same string is a pointer check.
 */
export function utf8Length(text: string): number {
  if (text === lastText) return lastLength
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    // 2 bytes up to U+07FF, 3 up to U+FFFF, 4 for a surrogate pair (2 units): +1, +2, +1 per unit
    if (unit >= 0x80) bytes += unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 1 : 2
  }
  lastText = text
  lastLength = bytes
  return bytes
}
