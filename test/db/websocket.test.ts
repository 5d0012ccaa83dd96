// The driver's WebSocket: what one turn of the event loop sends leaves as one frame, in order.
import { describe, expect, test } from 'bun:test'
import { coalescing } from '../../src/db/websocket.ts'

class RecordingSocket {
  static last: RecordingSocket
  binaryType = 'blob'
  frames: number[][] = []
  closed: number | undefined
  listeners: string[] = []
  constructor(readonly url: string) {
    RecordingSocket.last = this
  }
  addEventListener(type: string) {
    this.listeners.push(type)
  }
  send(data: Uint8Array) {
    this.frames.push([...data])
  }
  close(code?: number) {
    this.closed = code
  }
}

describe('coalescing WebSocket', () => {
  test('sends of one turn go out as one frame, later ones as the next', async () => {
    const Socket = coalescing(RecordingSocket)
    const ws = new Socket('ws://127.0.0.1:1/v1')
    const raw = RecordingSocket.last
    expect(raw.url).toBe('ws://127.0.0.1:1/v1')
    ws.binaryType = 'arraybuffer'
    ws.addEventListener('message', () => {})
    expect([raw.binaryType, raw.listeners]).toEqual(['arraybuffer', ['message']])

    ws.send(Uint8Array.of(1, 2))
    ws.send(Uint8Array.of(3))
    ws.send(Uint8Array.of(4, 5, 6))
    expect(raw.frames).toEqual([])
    await Promise.resolve()
    expect(raw.frames).toEqual([[1, 2, 3, 4, 5, 6]])

    ws.send(Uint8Array.of(7))
    await Promise.resolve()
    expect(raw.frames).toEqual([[1, 2, 3, 4, 5, 6], [7]])
  })

  test('close sends what is queued first', () => {
    const ws = new (coalescing(RecordingSocket))('ws://x')
    const raw = RecordingSocket.last
    ws.send(Uint8Array.of(88, 0, 0, 0, 4))
    ws.close(1000)
    expect(raw.frames).toEqual([[88, 0, 0, 0, 4]])
    expect(raw.closed).toBe(1000)
  })
})
