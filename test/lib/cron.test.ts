// The Cron Trigger's run: a failing job, even one throwing before its first await, neither stops
// nor hides the others.
import { afterEach, beforeEach, describe, expect, spyOn, test } from 'bun:test'
import { runCronJobs } from '../../src/lib/cron.ts'

let logged: string[]
const spies: { mockRestore(): void }[] = []
beforeEach(() => {
  logged = []
  const keep = (line: unknown) => void logged.push(String(line))
  spies.push(spyOn(console, 'log').mockImplementation(keep), spyOn(console, 'error').mockImplementation(keep))
})
afterEach(() => {
  for (const s of spies.splice(0)) s.mockRestore()
})

describe('runCronJobs', () => {
  test('every job runs; the run succeeds with a heartbeat naming no failure', async () => {
    const ran: string[] = []
    await runCronJobs({ a: async (env: string) => ran.push(`a:${env}`), b: (env: string) => ran.push(`b:${env}`) }, 'E')
    expect(ran.sort()).toEqual(['a:E', 'b:E'])
    expect(JSON.parse(logged.at(-1)!)).toMatchObject({ msg: 'cron run', failed: [] })
  })

  test('a failing job is logged by name, the others finish, and the run fails', async () => {
    let finished = false
    const jobs = {
      sync: () => {
        throw new Error('bad VENUES')
      },
      slow: async () => {
        await Bun.sleep(20)
        finished = true
      },
    }
    await expect(runCronJobs(jobs, undefined)).rejects.toThrow('cron jobs failed: sync')
    expect(finished).toBe(true) // awaited before the run ended, though the other failed at once
    const failure = JSON.parse(logged.find((l) => l.includes('cron job failed'))!)
    expect(failure).toMatchObject({ level: 'error', job: 'sync' })
    expect(failure.error).toContain('bad VENUES')
    expect(JSON.parse(logged.at(-1)!)).toMatchObject({ msg: 'cron run', failed: ['sync'] })
  })
})
