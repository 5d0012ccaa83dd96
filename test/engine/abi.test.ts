import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { WASM_PATH, bookModule } from '../../src/engine/wasm-file.ts'

/** `export const NAME = number` lines of a source file. */
function constants(path: string): Record<string, number> {
  const text = readFileSync(join(import.meta.dir, path), 'utf8')
  const found: Record<string, number> = {}
  for (const [, name, value] of text.matchAll(/^export const (\w+)(?:: \w+)? = ([\d_]+)$/gm)) {
    found[name] = Number(value.replaceAll('_', ''))
  }
  return found
}

describe('the TS/WASM boundary', () => {
  test('src/engine/abi.ts mirrors every number of wasm/assembly/abi.ts', () => {
    const wasm = constants('../../wasm/assembly/abi.ts')
    expect(Object.keys(wasm).length).toBeGreaterThan(30)
    expect(constants('../../src/engine/abi.ts')).toEqual(wasm)
  })

  test('the module exports only the narrow, numeric interface the wrapper uses', () => {
    const exports = WebAssembly.Module.exports(bookModule()).map((e) => `${e.kind} ${e.name}`)
    expect(exports.sort()).toEqual(
      [
        'function commandBuffer',
        'function depth',
        'function eventBuffer',
        'function eventBufferCapacity',
        'function execute',
        'function inputBuffer',
        'function openOrders',
        'function outputBuffer',
        'function restore',
        'function snapshot',
        'function stateHash',
        'memory memory',
      ].sort(),
    )
    const imports = WebAssembly.Module.imports(bookModule()).map((i) => `${i.module}.${i.name}`)
    expect(imports).toEqual(['env.abort'])
  })

  test('the release build stays small', () => {
    const size = readFileSync(WASM_PATH).length
    expect(size).toBeLessThan(24 * 1024)
  })
})
