// bench:soak's peer (bench/soak-peer/worker.js) under its own wrangler dev: temporary state, free
// loopback ports, its own process group, and BOURSE_STATE_DIR in its environment so the soak's
// memory sampler finds its processes as it finds the dev server's.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../scripts/lib/local-db.ts'

export interface Peer {
  base: string
  stateDir: string
  inspectorPort: number
  stop(): Promise<void>
}

export async function startPeer(): Promise<Peer> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bourse-peer-'))
  const [port, inspectorPort] = [await freePort(), await freePort()]
  const dir = new URL('./soak-peer/', import.meta.url).pathname
  const wrangler = new URL('../node_modules/.bin/wrangler', import.meta.url).pathname
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort),
    '--persist-to', join(stateDir, 'wrangler'), '--show-interactive-dev-session=false']
  const proc = spawn(wrangler, args, {
    cwd: dir,
    env: { ...process.env, BOURSE_STATE_DIR: stateDir },
    detached: true,
    stdio: 'ignore',
  })
  const base = `http://127.0.0.1:${port}`
  const stop = async () => {
    try {
      process.kill(-proc.pid!, 'SIGTERM')
    } catch {
      // gone already
    }
    await sleep(1_000)
    rmSync(stateDir, { recursive: true, force: true })
  }
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(250)) {
    if (await fetch(base).then((r) => r.ok, () => false)) return { base, stateDir, inspectorPort, stop }
  }
  await stop()
  throw new Error('the peer Worker did not start within 60 s')
}
