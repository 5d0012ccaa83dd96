// The SYMBOL_BOOK binding for in-process tests of the whole app (app.request): each symbol's real
// journal and WASM book on bun:sqlite, with the order desk its Durable Object runs, on the test
// database. Fills stay in each journal's outbox until drain() applies them to Postgres, as the
// object's alarm does. (test/orders/gateway.test.ts has its own, which can be made to fail.)
import { BookJournal } from '../../src/engine/journal.ts'
import { bookModule } from '../../src/engine/wasm-file.ts'
import type { Db } from '../../src/db/client.ts'
import { applyFills } from '../../src/orders/fills.ts'
import { OrderDesk } from '../../src/orders/desk.ts'
import type { DeskItem } from '../../src/orders/desk.ts'
import { sqliteStore } from './sqlite-store.ts'

export function inProcessBooks(db: () => Db) {
  const journals = new Map<string, BookJournal>()
  const desks = new Map<string, OrderDesk>()
  const journal = (symbol: string) => {
    let j = journals.get(symbol)
    if (!j) {
      j = new BookJournal(sqliteStore(), bookModule())
      j.open()
      journals.set(symbol, j)
    }
    return j
  }
  const desk = (symbol: string) => {
    let d = desks.get(symbol)
    if (!d) {
      const book = {
        submit: (o: never) => journal(symbol).submit(o),
        submitBatch: (os: never[]) => os.map((o) => journal(symbol).submit(o)),
        refuseUnseen: (os: never[]) => os.map((o) => journal(symbol).refuseUnseen(o)),
        pendingFills: (limit?: number) => journal(symbol).pendingFills(limit),
      }
      d = new OrderDesk(db, book)
      desks.set(symbol, d)
    }
    return d
  }
  const SYMBOL_BOOK = {
    idFromName: (name: string) => name,
    get: (symbol: string) => ({
      place: async (userId: number, item: DeskItem) => desk(symbol).place(userId, item),
      placeMany: async (userId: number, items: DeskItem[]) => desk(symbol).placeMany(userId, items),
      placeClosed: async (userId: number, item: DeskItem) => desk(symbol).place(userId, item),
      placeManyClosed: async (userId: number, items: DeskItem[]) => desk(symbol).placeMany(userId, items),
      submit: async (o: never) => journal(symbol).submit(o),
      submitBatch: async (os: never[]) => os.map((o) => journal(symbol).submit(o)),
      refuseUnseen: async (os: never[]) => os.map((o) => journal(symbol).refuseUnseen(o)),
      cancel: async (id: number) => journal(symbol).cancel(id),
      amend: async (id: number, qty: number) => journal(symbol).amend(id, qty),
      pendingFills: async (limit?: number) => journal(symbol).pendingFills(limit),
    }),
  }

  /** Applies every symbol's outbox fills to Postgres, as the objects' drains do. */
  async function drain() {
    for (const [symbol, j] of journals) {
      const pending = j.pendingFills(10_000)
      if (pending.length === 0) continue
      const { through } = await applyFills(db(), symbol, pending)
      j.acknowledgeFills(through)
    }
  }

  return { SYMBOL_BOOK, drain }
}
