// A stand-in for a DevTools window on wrangler dev's inspector port, for long runs (bench:soak).
// wrangler's inspector proxy (InspectorProxyWorker, in its own workerd) keeps every message of the
// Worker's inspector — each console.log, so each request's log line — in a buffer it empties only
// into a connected DevTools: with none, that workerd grows for as long as requests are logged.
// Connected, the buffer is handed over and dropped here. Only one DevTools may connect at a time.
import WebSocket from 'ws'

export interface DevToolsStandIn {
  /** inspector messages received and dropped */
  received(): number
  /** the Worker isolate's JS heap in use, MB (Runtime.getHeapUsage); undefined if it did not answer */
  heapUsedMb(): Promise<number | undefined>
  /**
   * A full garbage collection of the Worker isolate: workerd does not answer
   * HeapProfiler.collectGarbage, so a heap snapshot (which collects first) is taken and dropped.
   */
  collectGarbage(): Promise<void>
  close(): void
}

export async function attachDevTools(inspectorPort: number): Promise<DevToolsStandIn> {
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/`)
  let received = 0
  let nextId = 1_000_000 // clear of the ids wrangler's proxy gives its own commands
  const waiting = new Map<number, (result: unknown) => void>()
  ws.on('message', (data: Buffer) => {
    received++
    const text = data.toString()
    if (!text.startsWith('{"id":')) return // an event, not an answer
    const { id, result } = JSON.parse(text) as { id: number; result?: unknown }
    waiting.get(id)?.(result)
    waiting.delete(id)
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const call = (method: string, params?: object) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++
      waiting.set(id, resolve)
      ws.send(JSON.stringify({ id, method, params }))
      setTimeout(() => waiting.delete(id) && resolve(undefined), 30_000)
    })
  return {
    received: () => received,
    async heapUsedMb() {
      const usage = (await call('Runtime.getHeapUsage')) as { usedSize?: number } | undefined
      return usage?.usedSize === undefined ? undefined : usage.usedSize / 2 ** 20
    },
    async collectGarbage() {
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false })
    },
    close: () => ws.close(),
  }
}
