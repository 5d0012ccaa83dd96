// A stand-in for a DevTools window on wrangler dev's inspector port, for long runs (bench:soak).
// wrangler's inspector proxy (InspectorProxyWorker, in its own workerd) keeps every message of the
// Worker's inspector — each console.log, so each request's log line — in a buffer it empties only
// into a connected DevTools: with none, that workerd grows for as long as requests are logged.
// Connected, the buffer is handed over and dropped here. Only one DevTools may connect at a time.
import WebSocket from 'ws'

export interface DevToolsStandIn {
  /** inspector messages received and dropped */
  received(): number
  close(): void
}

export async function attachDevTools(inspectorPort: number): Promise<DevToolsStandIn> {
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/`)
  let received = 0
  ws.on('message', () => received++)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return { received: () => received, close: () => ws.close() }
}
