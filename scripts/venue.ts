// `npm run venue -- --fix-port 9878 --feed-port 9879 [--symbols AAPL:150.00,MSFT:410.00]
//   [--initiators BOURSE] [--comp-id NSIM] [--venue NSIM] [--seed 1] [--host 127.0.0.1]`
// runs the simulated venue (scripts/lib/venue/) until Ctrl-C, logging to stdout. Fault controls
// are lines on stdin, e.g. `drop-outbound 2`; `help` lists them.
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { parseCents } from '../src/lib/money.ts'
import { DEFAULT_SYMBOLS, startVenue, type Venue } from './lib/venue/index.ts'

const { values } = parseArgs({
  options: {
    'fix-port': { type: 'string', default: '9878' },
    'feed-port': { type: 'string', default: '9879' },
    host: { type: 'string', default: '127.0.0.1' },
    symbols: { type: 'string' },
    initiators: { type: 'string', default: 'BOURSE' },
    'comp-id': { type: 'string', default: 'NSIM' },
    venue: { type: 'string', default: 'NSIM' },
    seed: { type: 'string', default: '1' },
  },
})

/** `AAPL:150.00,MSFT:410.00` → { AAPL: 15000, MSFT: 41000 } */
function parseSymbols(text: string): Record<string, number> {
  return Object.fromEntries(
    text.split(',').map((entry) => {
      const [symbol, price] = entry.split(':')
      if (!symbol || !price) throw new Error(`--symbols: ${JSON.stringify(entry)} is not SYMBOL:PRICE`)
      return [symbol, parseCents(price)]
    }),
  )
}

function integer(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`${name}: ${JSON.stringify(text)} is not a whole number`)
  return Number(text)
}

const COMMANDS = `commands:
  drop-inbound N       the next N application messages from initiators are lost
  drop-outbound N      the next N application messages to initiators are lost
  disconnect [COMPID]  cut the connection now (all initiators without a CompID)
  disconnect-after N   cut the connection that carries the N-th application message from now
  reject N             reject the next N orders
  pause | resume       stop and restart filling (orders wait, acknowledged)
  quote SYMBOL | depth SYMBOL`

/** The admin commands; those that return nothing print "ok". */
const ACTIONS: Record<string, (venue: Venue, arg: string) => string | void> = {
  'drop-inbound': (venue, arg) => venue.dropInbound(integer('drop-inbound', arg)),
  'drop-outbound': (venue, arg) => venue.dropOutbound(integer('drop-outbound', arg)),
  disconnect: (venue, arg) => venue.disconnect(arg || undefined),
  'disconnect-after': (venue, arg) => venue.disconnectAfter(integer('disconnect-after', arg)),
  reject: (venue, arg) => venue.rejectOrders(integer('reject', arg)),
  pause: (venue) => venue.pause(),
  resume: (venue) => venue.resume(),
  quote: (venue, arg) => JSON.stringify(venue.quote(arg)),
  depth: (venue, arg) => JSON.stringify(venue.depth(arg)),
}

/** One admin line; returns what to print. */
function command(venue: Venue, line: string): string {
  const [name, arg = ''] = line.trim().split(/\s+/)
  if (name === '') return ''
  const action = ACTIONS[name]
  return action ? (action(venue, arg) ?? 'ok') : COMMANDS
}

const venue = await startVenue({
  fixPort: integer('--fix-port', values['fix-port']),
  feedPort: integer('--feed-port', values['feed-port']),
  host: values.host,
  symbols: values.symbols ? parseSymbols(values.symbols) : DEFAULT_SYMBOLS,
  initiators: values.initiators.split(','),
  compId: values['comp-id'],
  venue: values.venue,
  seed: integer('--seed', values.seed),
  log: (line) => console.log(`${new Date().toISOString()} ${line}`),
})

createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    const answer = command(venue, line)
    if (answer) console.log(answer)
  } catch (error) {
    console.log((error as Error).message)
  }
})

process.on('SIGINT', () => {
  void venue.stop().then(() => process.exit(0))
})
