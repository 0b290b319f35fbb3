import {createServer, type Socket, connect as connectTcp} from 'node:net'

/** A loopback TCP forwarder a test can cut and restore: the link between two sites. */
export interface LinkProxy {
  port: number
  /** Drops every connection through it and refuses new ones until restored. */
  cut(): void
  restore(): void
  close(): Promise<void>
}

/**
 * Listens on a free loopback port and forwards each connection to the port `target()` names when it comes in
 * (known only once the servers behind it are planned); a connection with no target yet is dropped, as when cut.
 */
export async function linkProxy(target: () => Promise<number | undefined>): Promise<LinkProxy> {
  const sockets = new Set<Socket>()
  let open = true
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server = createServer((client) => {
    track(client)
    client.pause()
    void target().then(
      (port) => {
        if (!open || port === undefined || client.destroyed) return client.destroy()
        const upstream = connectTcp(port, '127.0.0.1')
        track(upstream)
        upstream.on('close', () => client.destroy())
        client.on('close', () => upstream.destroy())
        client.pipe(upstream).pipe(client)
        client.resume()
      },
      () => client.destroy(),
    )
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  return {
    port,
    cut() {
      open = false
      for (const socket of sockets) socket.destroy()
    },
    restore() {
      open = true
    },
    async close() {
      open = false
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
