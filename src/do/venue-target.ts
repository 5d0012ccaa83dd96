// What an object holding a connection to a venue keeps in its storage: the venue's name (an alarm
// may start the object by its id alone, without it) and the address to reach it at. Its alarm
// comes back every few seconds to reconnect what dropped.
const VENUE_KEY = 'venue'
const ADDRESS_KEY = 'address'
export const RECONNECT_MS = 5_000

export interface VenueTarget {
  venue: string
  /** host:port */
  address: string
}

/** Keeps the object's venue (its name) at `address` from now on, and arms its alarm. */
export async function keepTarget(ctx: DurableObjectState, address: string): Promise<VenueTarget> {
  const venue = ctx.id.name
  if (!venue) throw new Error('an object of a venue is reached by its name (idFromName)')
  const [storedVenue, storedAddress] = await Promise.all([
    ctx.storage.get<string>(VENUE_KEY),
    ctx.storage.get<string>(ADDRESS_KEY),
  ])
  if (storedVenue !== venue || storedAddress !== address) {
    await ctx.storage.put({ [VENUE_KEY]: venue, [ADDRESS_KEY]: address })
  }
  await rearm(ctx)
  return { venue, address }
}

/** The target kept, if the object was ever given one. */
export async function keptTarget(ctx: DurableObjectState): Promise<VenueTarget | undefined> {
  const [venue, address] = await Promise.all([
    ctx.storage.get<string>(VENUE_KEY),
    ctx.storage.get<string>(ADDRESS_KEY),
  ])
  return venue && address ? { venue, address } : undefined
}

export const rearm = (ctx: DurableObjectState) => ctx.storage.setAlarm(Date.now() + RECONNECT_MS)
