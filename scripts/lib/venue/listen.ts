// Starting a TCP server as a promise: the port it listens on (the ephemeral one for port 0).
import type { AddressInfo, Server } from 'node:net'

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}
