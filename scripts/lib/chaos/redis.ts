// A redis-server of the harness's own on a free port, so the chaos harness can stop and restart
// it without touching a Redis anyone else uses. Undefined when redis-server is not installed.
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../local-db.ts'

export interface OwnRedis {
  url: string
  /** SIGKILL, down for downMs (its data gone, as after a crash), then up on the same port */
  crash(downMs: number): Promise<void>
  stop(): Promise<void>
}

export async function startOwnRedis(): Promise<OwnRedis | undefined> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined
  const port = await freePort()
  let proc: ChildProcess | undefined
  const start = async () => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    await untilListening(port)
  }
  const stop = async () => {
    const p = proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return
    const exited = new Promise((resolve) => p.once('exit', resolve))
    p.kill('SIGKILL')
    await exited
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    async crash(downMs) {
      await stop()
      await sleep(downMs)
      await start()
    },
    stop,
  }
}

async function untilListening(port: number) {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (up) return
    await sleep(25)
  }
  throw new Error(`redis-server did not listen on ${port}`)
}
