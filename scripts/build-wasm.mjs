// Builds wasm/build/book.wasm from wasm/assembly with asc, unless it is already up to date.
// Writes only to stderr, so `npm run --silent replay` keeps stdout for events.
//   node scripts/build-wasm.mjs [--debug]   (--debug also builds book.debug.wasm, asserts on)
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const wasmDir = join(root, 'wasm')
const targets = { release: 'book.wasm', debug: 'book.debug.wasm' }
const wanted = process.argv.includes('--debug') ? ['release', 'debug'] : ['release']

/** What a build depends on: the sources, the config and the compiler's version. */
function digest() {
  const hash = createHash('sha256')
  const sources = readdirSync(join(wasmDir, 'assembly'), { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort()
  for (const name of sources) hash.update(name).update(readFileSync(join(wasmDir, 'assembly', name)))
  hash.update(readFileSync(join(wasmDir, 'asconfig.json')))
  hash.update(readFileSync(join(root, 'node_modules', 'assemblyscript', 'package.json')))
  return hash.digest('hex')
}

const current = digest()
mkdirSync(join(wasmDir, 'build'), { recursive: true })
for (const target of wanted) {
  const stamp = join(wasmDir, 'build', `.${target}.stamp`)
  const upToDate =
    existsSync(stamp) && readFileSync(stamp, 'utf8') === current && existsSync(join(wasmDir, 'build', targets[target]))
  if (upToDate) continue
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', target], {
      cwd: wasmDir,
      stdio: ['ignore', 2, 2],
    })
  } catch {
    process.stderr.write(`asc failed to build the ${target} target (its errors are above)\n`)
    process.exit(1)
  }
  writeFileSync(stamp, current)
  process.stderr.write(`built wasm/build/${targets[target]}\n`)
}
