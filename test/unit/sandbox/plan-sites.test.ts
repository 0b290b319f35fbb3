/** The two-site sandbox, as planned (src/lib/sandbox/plan.ts): pure, no processes started. */
import {describe, expect, it} from 'vitest'

import {planSandbox, portsNeeded} from '../../../src/lib/sandbox/plan.js'

const binaries = {nats: '/usr/sbin/nats-server', prometheus: '/usr/bin/prometheus', alertmanager: '/usr/bin/prometheus-alertmanager'}

function plan(cluster: 1 | 3, sites: 1 | 2) {
  const components = ['nats', 'prometheus', 'alertmanager', 'monitor'] as const
  const ports = Array.from({length: portsNeeded([...components], cluster, sites)}, (_, i) => 42_000 + i)
  return planSandbox({stateDir: '/tmp/sb', cluster, sites, jetstream: true, components: [...components], binaries, ports, cliCommand: ['/usr/bin/node', '/pkg/bin/run.js']})
}

describe('the two-site sandbox plan', () => {
  it('leaves a one-site sandbox as it was: no domain, no leaf nodes, no site', () => {
    const planned = plan(3, 1)
    expect(planned.filter((p) => p.process.component === 'nats').map((p) => p.process.name)).toEqual(['nats-1', 'nats-2', 'nats-3'])
    for (const node of planned.filter((p) => p.process.component === 'nats')) {
      expect(node.configText).not.toMatch(/domain|leafnodes/)
      expect(node.process.site).toBeUndefined()
    }
  })

  it('adds a DR site of as many nodes, each port used once', () => {
    const planned = plan(3, 2)
    expect(planned.map((p) => [p.process.name, p.process.site])).toEqual([
      ['nats-1', 'primary'],
      ['nats-2', 'primary'],
      ['nats-3', 'primary'],
      ['dr-nats-1', 'dr'],
      ['dr-nats-2', 'dr'],
      ['dr-nats-3', 'dr'],
      ['prometheus', undefined],
      ['alertmanager', undefined],
      ['monitor', undefined],
    ])
    const ports = planned.flatMap((p) => [p.process.port, p.process.clusterPort, p.process.leafnodePort, p.process.monitorUrl && Number(new URL(p.process.monitorUrl).port)]).filter((port) => port !== undefined)
    expect(new Set(ports).size).toBe(ports.length)
    expect(ports.length).toBe(portsNeeded(['nats', 'prometheus', 'alertmanager', 'monitor'], 3, 2))
  })

  it('gives each site its JetStream domain and cluster name; the DR nodes dial every primary leafnode port', () => {
    const planned = plan(3, 2)
    const hubPorts = planned.filter((p) => p.process.site === 'primary').map((p) => p.process.leafnodePort)
    expect(hubPorts.every((port) => port !== undefined)).toBe(true)
    for (const node of planned.filter((p) => p.process.site === 'primary')) {
      expect(node.configText).toContain('  domain: "primary"')
      expect(node.configText).toContain('name: "cimops-sandbox"')
      expect(node.configText).toContain(`leafnodes {\n  listen: "127.0.0.1:${node.process.leafnodePort}"\n}`)
    }
    const urls = hubPorts.map((port) => `"nats-leaf://127.0.0.1:${port}"`).join(', ')
    for (const node of planned.filter((p) => p.process.site === 'dr')) {
      expect(node.process.leafnodePort).toBeUndefined()
      expect(node.configText).toContain('  domain: "dr"')
      expect(node.configText).toContain('name: "cimops-sandbox-dr"')
      expect(node.configText).toContain(`remotes: [ { urls: [${urls}] } ]`)
    }
  })

  it('points the event monitor at the primary site only', () => {
    const planned = plan(1, 2)
    const monitor = planned.find((p) => p.process.name === 'monitor')!
    const primary = planned.find((p) => p.process.name === 'nats-1')!
    expect(JSON.parse(monitor.configText)).toMatchObject({url: primary.process.url})
  })
})
