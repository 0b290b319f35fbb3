import {afterEach, describe, expect, it} from 'vitest'

import {natsMonitor} from '../../../../src/lib/adapters/nats/connz.js'
import {ParseError, UnreachableError} from '../../../../src/lib/core/errors.js'
import {json, type Loopback, type Route, send, startLoopback} from '../loopback.js'

// The shape of nats-server 2.9's connz, cut to what is read.
const OPEN = {
  connections: [
    {cid: 5, kind: 'Client', ip: '127.0.0.1', port: 51234, pending_bytes: 0, name: 'cim-projector', lang: 'nats.js'},
    {cid: 6, kind: 'Client', ip: '10.0.0.7', port: 40111, pending_bytes: 2048, name: 'cim-workflow'},
    {cid: 7, kind: 'Client', ip: '127.0.0.1', port: 51300},
  ],
}
const CLOSED = {connections: [{cid: 9, ip: '127.0.0.1', port: 51400, pending_bytes: 65_536, name: 'cim-slow', reason: 'Slow Consumer (Write Deadline)'}]}

let server: Loopback | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('natsMonitor', () => {
  it('finds open connections by client name, with their address and pending bytes', async () => {
    server = await startLoopback({'/connz': json(200, OPEN), '/varz': json(200, {port: 4222, server_id: 'N1'})})
    const monitor = natsMonitor(server.url, 2000)
    expect(await monitor.connectionsNamed('cim-projector')).toEqual([{cid: 5, name: 'cim-projector', ip: '127.0.0.1', port: 51234, pendingBytes: 0}])
    expect(await monitor.connectionsNamed('nobody')).toEqual([])
    expect(await monitor.clientPort()).toBe(4222)
    expect(server.requests[0].url).toBe('/connz?subs=0&limit=100000')
  })

  it('one connection by id, open or else closed: a closed one says why', async () => {
    const byState: Route = (req, res) => send(res, 200, 'application/json', JSON.stringify(req.url!.includes('state=closed') ? CLOSED : OPEN))
    server = await startLoopback({'/connz': byState})
    const monitor = natsMonitor(server.url, 2000)
    expect(await monitor.connection(5)).toEqual({cid: 5, name: 'cim-projector', ip: '127.0.0.1', port: 51234, pendingBytes: 0})
    expect(await monitor.connection(9)).toEqual({cid: 9, name: 'cim-slow', ip: '127.0.0.1', port: 51400, pendingBytes: 65_536, closedReason: 'Slow Consumer (Write Deadline)'})
    expect(await monitor.connection(10)).toBeUndefined()
    // With a cid, the server's state=any looks at closed connections only: open is asked first.
    expect(server.requests.map((r) => r.url)).toEqual([
      '/connz?cid=5&state=open&subs=0',
      '/connz?cid=9&state=open&subs=0',
      '/connz?cid=9&state=closed&subs=0',
      '/connz?cid=10&state=open&subs=0',
      '/connz?cid=10&state=closed&subs=0',
    ])
  })

  it('a server without connections answers null: none', async () => {
    server = await startLoopback({'/connz': json(200, {connections: null})})
    expect(await natsMonitor(server.url, 2000).connectionsNamed('x')).toEqual([])
  })

  it('not a NATS monitor, or none there: typed errors naming it', async () => {
    server = await startLoopback({'/connz': json(200, {connections: [{cid: 'x'}]})})
    await expect(natsMonitor(server.url, 2000).connectionsNamed('x')).rejects.toThrow(ParseError)
    await expect(natsMonitor('http://127.0.0.1:9', 2000).connectionsNamed('x')).rejects.toThrow(UnreachableError)
  })
})
