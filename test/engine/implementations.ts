// The books every engine test runs against: the WASM engine and the reference model, which must
// agree on every rule. A scenario is written once and run against each of them.

import type { BookEvent, Command, Depth, NewOrder } from '../../src/engine/types.ts'
import { newOrderBook } from '../../src/engine/wasm-file.ts'
import { ReferenceBook } from './reference-book.ts'

/** What the tests need from a book: the API shared by OrderBook and ReferenceBook. */
export interface Book {
  submit(order: NewOrder): BookEvent[]
  cancel(id: number): BookEvent[]
  amend(id: number, qty: number): BookEvent[]
  close(): BookEvent[]
  apply(command: Command): BookEvent[]
  execute(commands: Command[]): BookEvent[]
  depth(maxLevels?: number): Depth
}

export const implementations: [name: string, make: () => Book][] = [
  ['wasm', () => newOrderBook()],
  ['reference', () => new ReferenceBook()],
]
