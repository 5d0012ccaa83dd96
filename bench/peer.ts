// nodejs-order-book, the npm order book a TypeScript developer would pick, driven exactly as the
// reference bench.mjs drives it, so that its figures here can be checked against the reference
// README's (about 207k ops/s on this machine).

import { OrderBook, Side } from 'nodejs-order-book'
import type { Replayer } from './measure.ts'
import { CANCEL, MARKET, type Stream } from './stream.ts'

export const PEER_NAME = 'nodejs-order-book'

const SIDES = [Side.BUY, Side.SELL]

export function createPeer(stream: Stream): Replayer {
  const book = new OrderBook()
  const { kind, side, id, price, qty } = stream
  // It takes string ids; formatting them before the clock starts times the book, not String().
  const ids = Array.from({ length: stream.n + 1 }, (_, i) => String(i))
  return {
    run(i) {
      const k = kind[i]
      if (k === CANCEL) return book.cancel(ids[id[i]])
      if (k === MARKET) return book.market({ side: SIDES[side[i]], size: qty[i] })
      return book.limit({ side: SIDES[side[i]], id: ids[id[i]], size: qty[i], price: price[i] })
    },
    depth() {
      const [asks, bids] = book.depth()
      return { bids, asks }
    },
  }
}
