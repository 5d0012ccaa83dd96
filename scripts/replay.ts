// The replay CLI: JSON commands on stdin, one JSON event per line on stdout, nothing else there.
//   npm run --silent replay < commands.jsonl > events.jsonl
// Order and user ids are strings here; the book works on integers, so they are numbered as they
// first appear and named back in the events.

import { createInterface } from 'node:readline'
import type { BookEvent, Command, DepthLevel, NewOrder, OrderType, Side, TimeInForce } from '../src/engine/types.ts'
import { newOrderBook } from '../src/engine/wasm-file.ts'

type Json = Record<string, unknown>

const book = newOrderBook()
const orderNumbers = new Map<string, number>()
const orderNames: string[] = ['']
const userNumbers = new Map<string, number>()

function number(names: Map<string, number>, name: string, list?: string[]): number {
  let n = names.get(name)
  if (n === undefined) {
    n = names.size + 1
    names.set(name, n)
    list?.push(name)
  }
  return n
}

const orderId = (id: unknown) => number(orderNumbers, String(id), orderNames)

function toCommand(c: Json): Command | 'depth' | undefined {
  switch (c.op) {
    case 'new':
      return c.user === undefined || c.user === null ? undefined : { op: 'new', ...toOrder(c) }
    case 'cancel':
      return { op: 'cancel', id: orderId(c.id) }
    case 'amend':
      return { op: 'amend', id: orderId(c.id), qty: c.qty as number }
    case 'close':
      return { op: 'close' }
    case 'depth':
      return 'depth'
  }
}

function toOrder(c: Json): NewOrder {
  return {
    id: orderId(c.id),
    user: number(userNumbers, String(c.user)),
    side: c.side as Side,
    type: c.type as OrderType,
    qty: c.qty as number,
    price: (c.price ?? 0) as number,
    stop: (c.stop ?? 0) as number,
    tif: c.tif as TimeInForce,
    postOnly: c.post_only === true,
  }
}

/** Events with the CLI's string ids, fields in the contract's order. */
function named(e: BookEvent): Json {
  const name = (n: number) => orderNames[n]
  switch (e.type) {
    case 'fill':
      return { type: 'fill', taker: name(e.taker), maker: name(e.maker), price: e.price, qty: e.qty, side: e.side }
    case 'canceled':
      return { type: 'canceled', id: name(e.id), qty: e.qty, reason: e.reason }
    case 'rested':
      return { type: 'rested', id: name(e.id), price: e.price, qty: e.qty }
    case 'pending':
      return { type: 'pending', id: name(e.id), stop: e.stop, qty: e.qty }
    default:
      return { ...e, id: name(e.id) }
  }
}

function depthEvent(): Json {
  const { bids, asks } = book.depth()
  const levels = (side: DepthLevel[]) => side.map(([price, qty, orders]) => [price, qty, orders])
  return { type: 'depth', bids: levels(bids), asks: levels(asks) }
}

/** The events for one input line; a line that is not a command is answered, never fatal. */
function handle(line: string): Json[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return [{ type: 'rejected', id: null, reason: 'invalid' }]
  }
  const input = (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {}) as Json
  const hasId = input.id !== undefined && input.id !== null
  const command = hasId || input.op === 'close' || input.op === 'depth' ? toCommand(input) : undefined
  if (command === 'depth') return [depthEvent()]
  if (command === undefined) return [{ type: 'rejected', id: input.id ?? null, reason: 'invalid' }]
  return book.apply(command).map(named)
}

let out: string[] = []
const flush = () => {
  if (out.length) process.stdout.write(out.join(''))
  out = []
}
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue
  for (const event of handle(line)) out.push(JSON.stringify(event) + '\n')
  if (out.length >= 4096) flush()
}
flush()
