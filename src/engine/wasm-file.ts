// Loading the compiled book outside Workers (tests, the replay CLI, benchmarks). In a Worker the
// bundler imports book.wasm as a WebAssembly.Module directly.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OrderBook } from './book.ts'

export const WASM_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../wasm/build/book.wasm')

// The project's global types are Workers', where Module is abstract: a Worker may not compile
// code at run time. Node and Bun may.
const CompiledModule = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module

let compiled: WebAssembly.Module | undefined

/** The compiled book module (built by `npm run build:wasm`), compiled once per process. */
export function bookModule(): WebAssembly.Module {
  compiled ??= new CompiledModule(readFileSync(WASM_PATH))
  return compiled
}

export function newOrderBook(): OrderBook {
  return OrderBook.create(bookModule())
}
