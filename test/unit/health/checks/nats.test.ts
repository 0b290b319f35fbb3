import {describe, expect, it} from 'vitest'

import {clusterMembership, type PeerProbe} from '../../../../src/lib/health/checks/nats.js'

const urls = ['nats://127.0.0.1:4001', 'nats://127.0.0.1:4002', 'nats://127.0.0.1:4003']
const advertised = (...ports: number[]) => ports.map((port) => `127.0.0.1:${port}`)
const node = (i: number, routedTo: string[]): PeerProbe => ({url: urls[i - 1], serverName: `nats-${i}`, routedTo})

describe('cluster membership of the nats check', () => {
  it('counts every node that answers and that the others are routed to', () => {
    const all = advertised(4001, 4002, 4003)
    const {up, down} = clusterMembership([node(1, all), node(2, all), node(3, all)])
    expect([...up]).toEqual(['nats-1', 'nats-2', 'nats-3'])
    expect(down).toEqual([])
  })

  it('a node that answers but that the others have no route to is down, named, and cannot outvote them', () => {
    const routedPair = advertised(4001, 4002)
    const {up, down} = clusterMembership([node(1, routedPair), node(2, routedPair), node(3, advertised(4003))])
    expect([...up]).toEqual(['nats-1', 'nats-2'])
    expect(down).toEqual([{url: urls[2], why: 'nats-3 answers but nats-1, nats-2 have no route to it'}])
  })

  it('an unreachable node is down with its error; a server advertising addresses we cannot reach judges nobody', () => {
    const {up, down} = clusterMembership([
      node(1, ['10.0.0.1:4222', '10.0.0.2:4222']),
      node(2, ['10.0.0.1:4222', '10.0.0.2:4222']),
      {url: urls[2], error: 'CONNECTION_REFUSED'},
    ])
    expect([...up]).toEqual(['nats-1', 'nats-2'])
    expect(down).toEqual([{url: urls[2], why: 'CONNECTION_REFUSED'}])
  })
})
