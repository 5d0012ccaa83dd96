// The Cron Trigger's run: its jobs side by side, each on its own.

/**
 * Runs every job; one failing is logged by name and fails the run (so the platform shows it
 * failed), not the others. Each run ends with one line: a heartbeat, which jobs failed, how long.
 */
export async function runCronJobs<E>(jobs: Record<string, (env: E) => unknown>, env: E): Promise<void> {
  const started = Date.now()
  const named = Object.entries(jobs)
  // (async: a job that throws before its first await rejects like the others)
  const results = await Promise.allSettled(named.map(async ([, job]) => job(env)))
  const failed = named.flatMap(([name], i) => {
    const r = results[i]
    return r.status === 'rejected' ? [{ job: name, error: String(r.reason?.stack ?? r.reason) }] : []
  })
  for (const f of failed) console.error(JSON.stringify({ level: 'error', msg: 'cron job failed', ...f }))
  const failedJobs = failed.map((f) => f.job)
  console.log(JSON.stringify({ level: 'info', msg: 'cron run', ms: Date.now() - started, failed: failedJobs }))
  if (failed.length > 0) throw new Error(`cron jobs failed: ${failedJobs.join(', ')}`)
}
