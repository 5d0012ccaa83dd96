import {
  COMMAND_CAPACITY, COMMAND_WORDS, DEPTH_WORDS, EVENT_WORDS, OP_CANCEL, decodeEvent,
  encodeCommand, encodeOrder, encodeTarget,
} from './abi.ts'
import type { BookEvent, Command, Depth, DepthLevel, NewOrder } from './types.ts'

interface BookExports {
  memory: WebAssembly.Memory
  commandBuffer(): number
  execute(count: number): number
  eventBuffer(): number
  eventBufferCapacity(): number
  depth(maxLevels: number): number
  openOrders(): number
  snapshot(): number
  outputBuffer(): number
  inputBuffer(size: number): number
  restore(size: number): number
  stateHash(): bigint
}

/**
 * One symbol's order book, running in its own WebAssembly instance. Commands are encoded into
 * the book's command buffer and run in one call; the events they made are decoded from its
 * event buffer. Not safe to share across concurrent callers (nothing in a Durable Object is).
 */
export class OrderBook {
  private readonly wasm: BookExports
  private readonly commandWord: number
  private words: Int32Array
  private eventWord: number
  private eventCapacity: number

  private constructor(instance: WebAssembly.Instance) {
    this.wasm = instance.exports as unknown as BookExports
    this.commandWord = this.wasm.commandBuffer() >>> 2
    this.words = new Int32Array(this.wasm.memory.buffer)
    this.eventWord = this.wasm.eventBuffer() >>> 2
    this.eventCapacity = this.wasm.eventBufferCapacity()
  }

  /** A new, empty book. Instantiating a compiled module is synchronous and takes microseconds. */
  static create(module: WebAssembly.Module): OrderBook {
    return new OrderBook(new WebAssembly.Instance(module, { env: { abort } }))
  }

  submit(order: NewOrder): BookEvent[] {
    encodeOrder(order, this.view(), this.commandWord)
    return this.run(1)
  }

  cancel(id: number): BookEvent[] {
    encodeTarget(OP_CANCEL, id, 0, this.view(), this.commandWord)
    return this.run(1)
  }

  amend(id: number, qty: number): BookEvent[] {
    encodeCommand({ op: 'amend', id, qty }, this.view(), this.commandWord)
    return this.run(1)
  }

  close(): BookEvent[] {
    encodeCommand({ op: 'close' }, this.view(), this.commandWord)
    return this.run(1)
  }

  /** Runs one command of any kind (a log's entry, a CLI line). */
  apply(command: Command): BookEvent[] {
    switch (command.op) {
      case 'new':
        return this.submit(command)
      case 'cancel':
        return this.cancel(command.id)
      case 'amend':
        return this.amend(command.id, command.qty)
      case 'close':
        return this.close()
    }
  }

  /**
   * Runs many commands with one boundary crossing per COMMAND_CAPACITY commands. All are encoded
   * first, so a command the encoder refuses (a bad id or user: RangeError) runs none of them.
   */
  execute(commands: Command[]): BookEvent[] {
    const records = new Int32Array(commands.length * COMMAND_WORDS)
    commands.forEach((command, i) => encodeCommand(command, records, i * COMMAND_WORDS))
    const events: BookEvent[] = []
    for (let start = 0; start < commands.length; start += COMMAND_CAPACITY) {
      const n = Math.min(COMMAND_CAPACITY, commands.length - start)
      this.view().set(records.subarray(start * COMMAND_WORDS, (start + n) * COMMAND_WORDS), this.commandWord)
      for (const event of this.run(n)) events.push(event)
    }
    return events
  }

  /**
   * Runs `count` already encoded command records (see encodeCommand) inside WASM and returns how
   * many events they made, without decoding them: bulk replay and benchmarks.
   */
  executeEncoded(records: Int32Array, count: number): number {
    let events = 0
    for (let start = 0; start < count; start += COMMAND_CAPACITY) {
      const n = Math.min(COMMAND_CAPACITY, count - start)
      this.view().set(records.subarray(start * COMMAND_WORDS, (start + n) * COMMAND_WORDS), this.commandWord)
      events += this.wasm.execute(n)
    }
    return events
  }

  /** Aggregated levels, best first, at most `maxLevels` per side. */
  depth(maxLevels = 0x7fffffff): Depth {
    const at = this.wasm.depth(Math.max(0, Math.min(maxLevels, 0x7fffffff))) >>> 2
    const words = this.view()
    const bids = readLevels(words, at + 2, words[at])
    const asks = readLevels(words, at + 2 + words[at] * DEPTH_WORDS, words[at + 1])
    return { bids, asks }
  }

  /** Number of live orders: resting plus pending stops. */
  openOrders(): number {
    return this.wasm.openOrders()
  }

  /** The book's whole state as bytes: resting orders, pending stops, every id it has seen. */
  snapshot(): Uint8Array {
    const length = this.wasm.snapshot()
    const at = this.wasm.outputBuffer()
    return new Uint8Array(this.wasm.memory.buffer, at, length).slice()
  }

  /** Replaces this book's state with a snapshot's; throws (leaving the book empty) if malformed. */
  restore(snapshot: Uint8Array): void {
    const at = this.wasm.inputBuffer(snapshot.length)
    new Uint8Array(this.wasm.memory.buffer, at, snapshot.length).set(snapshot)
    if (!this.wasm.restore(snapshot.length)) throw new Error('malformed order book snapshot')
  }

  /** A digest of the state (same state, same hash, whatever the history): 16 hex digits. */
  hash(): string {
    return BigInt.asUintN(64, this.wasm.stateHash()).toString(16).padStart(16, '0')
  }

  private run(count: number): BookEvent[] {
    const n = this.wasm.execute(count)
    if (n > this.eventCapacity) {
      // The buffer grew (and may have moved) to hold this batch's events.
      this.eventWord = this.wasm.eventBuffer() >>> 2
      this.eventCapacity = this.wasm.eventBufferCapacity()
    }
    const words = this.view()
    if (n === 1) return [decodeEvent(words, this.eventWord)] // most commands make one event
    const events: BookEvent[] = []
    for (let i = 0; i < n; i++) events.push(decodeEvent(words, this.eventWord + i * EVENT_WORDS))
    return events
  }

  /**
   * The memory view, re-created when the book's memory has grown: growth detaches the old buffer,
   * which empties its views (cheaper to test than fetching memory.buffer on every call).
   */
  private view(): Int32Array {
    if (this.words.length === 0) this.words = new Int32Array(this.wasm.memory.buffer)
    return this.words
  }
}

/** AssemblyScript's abort, reached only if the book runs out of memory. */
function abort(): never {
  throw new Error('order book aborted: out of memory')
}

function readLevels(words: Int32Array, at: number, count: number): DepthLevel[] {
  const levels = new Array<DepthLevel>(count)
  for (let i = 0; i < count; i++) {
    const w = at + i * DEPTH_WORDS
    levels[i] = [words[w], (words[w + 2] >>> 0) + words[w + 3] * 4294967296, words[w + 1]]
  }
  return levels
}
