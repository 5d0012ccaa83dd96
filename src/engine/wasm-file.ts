// Loading the compiled book outside Workers (tests, the replay CLI, benchmarks). In a Worker the
// bundler imports book.wasm as a WebAssembly.Module directly.

import { readFileSync } from 'node:fs'
import { OrderBook } from './book.ts'

const WASM_PATH = new URL('../../wasm/build/book.wasm', import.meta.url)

let compiled: WebAssembly.Module | undefined

/** The compiled book module (built by `npm run build:wasm`), compiled once per process. */
export function bookModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(WASM_PATH))
  return compiled
}

export function newOrderBook(): OrderBook {
  return OrderBook.create(bookModule())
}
