// Where a benchmark ran, as its record says it: the commit and the machine.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'

/** git's output, trimmed; '' when git fails (no git, no repository) */
function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

/** HEAD's short hash, marked when what the Worker is built from has local changes */
export function commitLabel(): string {
  const dirty = git('status', '--porcelain', 'src', 'wasm', 'wrangler.toml') !== ''
  return git('rev-parse', '--short', 'HEAD') + (dirty ? ' (+ local changes)' : '')
}

/** an installed package's version */
export function packageVersion(pkg: string): string {
  const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url).pathname
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

/** CPUs, memory, and the versions of Node and of the dev server's wrangler and workerd */
export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU'
  const gb = Math.round(totalmem() / 2 ** 30)
  return (
    `${cpus().length} vCPU ${cpu}, ${gb} GB RAM; Node ${process.version}, ` +
    `wrangler ${packageVersion('wrangler')}, workerd ${packageVersion('workerd')}`
  )
}
