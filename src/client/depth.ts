// The depth channel's checksum, for a client's copy of a book: the server sends with each
// snapshot and update the CRC-32 of its top levels as text (README, "Market data over
// WebSockets"); the same sum over the copy tells the client whether the copy is right or it must
// resubscribe. Over the wire's decimal strings; test/client checks it against the server's own
// depthChecksum.
import type { WireLevel } from './types.ts'

const CHECKSUM_LEVELS = 10

/** CRC-32 of "price:qty,…|price:qty,…" over the top 10 bids then asks (each side best first) */
export function wireChecksum(bids: WireLevel[], asks: WireLevel[]): number {
  const side = (levels: WireLevel[]) =>
    levels
      .slice(0, CHECKSUM_LEVELS)
      .map(([price, qty]) => `${price}:${qty}`)
      .join(',')
  return crc32(`${side(bids)}|${side(asks)}`)
}

const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(text: string): number {
  let c = 0xffffffff
  for (let i = 0; i < text.length; i++) c = TABLE[(c ^ text.charCodeAt(i)) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
