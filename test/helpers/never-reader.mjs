// A WebSocket client that never reads, run with Node (its socket.pause() stops reading from the
// kernel, so the receive buffer fills, the TCP window closes and the server's sends queue up;
// Bun keeps reading into its own buffers). It upgrades to `path` with the bearer subprotocol,
// subscribes to every channel, optionally pings every 200 ms (the exact ping the platform
// answers), stops reading for `seconds`, then reads what is there and prints one JSON line:
// {bytes, frames, closeCodes}. It says `upgraded` on stderr once it has stopped reading.
//
//   node test/helpers/never-reader.mjs <base url> <path> <bearer> <seconds> [ping]
import { connect } from 'node:net'

const [base, path, bearer, seconds, ping] = process.argv.slice(2)
const url = new URL(base)

/** a masked text frame (clients must mask) */
function frame(text) {
  const payload = Buffer.from(text)
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78])
  const length = payload.length < 126 ? [0x80 | payload.length] : [0x80 | 126, payload.length >> 8, payload.length & 255]
  return Buffer.concat([Buffer.from([0x81, ...length]), mask, payload.map((b, i) => b ^ mask[i % 4])])
}

/** the frames of `data` (server frames are not masked): how many, and the codes of close frames */
function frames(data) {
  const closeCodes = []
  let count = 0
  for (let i = 0; i + 2 <= data.length; count++) {
    let length = data[i + 1] & 127
    let offset = 2
    if (length === 126) [length, offset] = [data.readUInt16BE(i + 2), 4]
    else if (length === 127) [length, offset] = [Number(data.readBigUInt64BE(i + 2)), 10]
    if ((data[i] & 15) === 8 && length >= 2) closeCodes.push(data.readUInt16BE(i + offset))
    i += offset + length
  }
  return { frames: count, closeCodes }
}

const socket = connect({ host: url.hostname, port: Number(url.port) })
socket.write(
  `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')}\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bourse.v1, bearer.${bearer}\r\n\r\n`,
)
let received = Buffer.alloc(0)
const onHandshake = (chunk) => {
  received = Buffer.concat([received, chunk])
  const end = received.indexOf('\r\n\r\n')
  if (end < 0) return
  if (!received.subarray(0, end).toString().startsWith('HTTP/1.1 101')) {
    console.log(JSON.stringify({ error: received.subarray(0, end).toString() }))
    process.exit(1)
  }
  received = received.subarray(end + 4)
  socket.off('data', onHandshake)
  socket.pause() // from here on, nothing is read
  process.stderr.write('upgraded\n')
  socket.write(frame(JSON.stringify({ op: 'subscribe', channels: ['quotes', 'trades', 'depth'] })))
  const pinger = ping ? setInterval(() => socket.write(frame('{"op":"ping"}')), 200) : undefined
  setTimeout(() => {
    clearInterval(pinger)
    socket.on('data', (chunk) => (received = Buffer.concat([received, chunk])))
    socket.resume()
    setTimeout(() => {
      console.log(JSON.stringify({ bytes: received.length, ...frames(received) }))
      socket.destroy()
    }, 1000)
  }, Number(seconds) * 1000)
}
socket.on('data', onHandshake)
socket.on('error', (err) => {
  console.log(JSON.stringify({ error: err.message }))
  process.exit(1)
})
