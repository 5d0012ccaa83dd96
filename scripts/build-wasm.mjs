// Builds wasm/build/book.wasm from wasm/assembly with asc, unless it is already up to date.
// Writes only to stderr, so `npm run --silent replay` keeps stdout for events.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const wasmDir = new URL('../wasm/', import.meta.url).pathname
const stampFile = join(wasmDir, 'build', '.stamp')
const targets = process.argv.includes('--debug') ? ['release', 'debug'] : ['release']

function sourceDigest() {
  const hash = createHash('sha256')
  const files = readdirSync(join(wasmDir, 'assembly')).sort()
  for (const f of files) hash.update(f).update(readFileSync(join(wasmDir, 'assembly', f)))
  hash.update(readFileSync(join(wasmDir, 'asconfig.json'))).update(targets.join())
  return hash.digest('hex')
}

const digest = sourceDigest()
const upToDate =
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8') === digest &&
  targets.every((t) => existsSync(join(wasmDir, 'build', t === 'release' ? 'book.wasm' : 'book.debug.wasm')))

if (!upToDate) {
  const asc = new URL('../node_modules/.bin/asc', import.meta.url).pathname
  for (const target of targets) {
    try {
      execFileSync(asc, ['assembly/index.ts', '--config', 'asconfig.json', '--target', target], {
        cwd: wasmDir,
        stdio: ['ignore', 2, 2],
      })
    } catch {
      process.stderr.write(`asc failed to build the ${target} target (its errors are above)\n`)
      process.exit(1)
    }
  }
  writeFileSync(stampFile, digest)
  process.stderr.write(`built wasm/build/book.wasm (${targets.join(', ')})\n`)
}
