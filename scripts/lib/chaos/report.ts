// The chaos run's report as printed: faults by kind, what the clients saw, restart and replay
// times (p50/p99), each check with what it found, and the summary line.
import type { ChaosReport } from './harness.ts'

/** the p-th percentile (nearest rank) */
export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : 0
}

export function describe(r: ChaosReport): string {
  const pct = percentile
  const lines = [
    `seed ${r.seed}, ${(r.durationMs / 1000).toFixed(0)} s`,
    `faults by kind: ${Object.entries(r.faults).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    ...r.notes.map((n) => `note: ${n}`),
    `orders acked ${r.acked}, canceled ${r.canceled}, amended ${r.amended}; refused ` +
      `${JSON.stringify(r.refused)}; attempts that failed ${r.client.cutOff}, ` +
      `5xx ${r.client.serverErrors}, requests retried ` +
      `${r.client.retried} (${r.client.replayed} answered Idempotent-Replayed)`,
    `restart (kill -9 to listening) p50 ${pct(r.restartMs, 50)} ms, ` +
      `p99 ${pct(r.restartMs, 99)} ms; ` +
      `replay after restart (listening to each book answering) p50 ${pct(r.replayMs, 50)} ms, ` +
      `p99 ${pct(r.replayMs, 99)} ms`,
    `time per fault, p50: ${Object.entries(r.faultMs)
      .map(([kind, ms]) => `${kind} ${pct(ms, 50)} ms`)
      .join(', ')}`,
    ...r.checks.map((c) =>
      [
        `${c.violations.length === 0 ? 'ok  ' : 'FAIL'} ${c.name}`,
        ...c.violations.slice(0, 10).map((v) => `       ${v}`),
        ...(c.violations.length > 10 ? [`       … ${c.violations.length - 10} more`] : []),
      ].join('\n'),
    ),
    r.summary,
  ]
  return lines.join('\n')
}
