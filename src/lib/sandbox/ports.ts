import {createServer, type AddressInfo, type Server} from 'node:net'

/**
 * `count` distinct free ports on 127.0.0.1. Every listener stays open until all ports are known,
 * so the kernel cannot hand out the same one twice; another program may still take one before a
 * server binds it, which the caller handles by retrying the start.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnAnyPort())
    return servers.map((server) => (server.address() as AddressInfo).port)
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  }
}

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}
