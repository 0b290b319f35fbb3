/** The sandbox's event monitor and its two sites, as planned (src/lib/sandbox/plan.ts): pure, no processes started. */
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {MONITOR_JOB, planSandbox, portsNeeded, processEnv} from '../../../src/lib/sandbox/plan.js'

const binaries = {nats: '/usr/sbin/nats-server', prometheus: '/usr/bin/prometheus', alertmanager: '/usr/bin/prometheus-alertmanager'}
const RULES = 'groups: []\n'

function plan(components: Parameters<typeof planSandbox>[0]['components'], cluster: 1 | 3 = 1) {
  const ports = Array.from({length: portsNeeded(components, cluster)}, (_, i) => 41_000 + i)
  return planSandbox({stateDir: '/tmp/sb', cluster, jetstream: true, components, binaries, ports, cliCommand: ['/usr/bin/node', '/pkg/bin/run.js'], alertRules: RULES})
}

describe('the sandbox event monitor plan', () => {
  it('needs one more port, and leaves the default sandbox as it was', () => {
    expect(portsNeeded(['nats', 'prometheus', 'alertmanager', 'monitor'], 1)).toBe(portsNeeded(['nats', 'prometheus', 'alertmanager'], 1) + 1)
    const without = plan(['nats', 'prometheus', 'alertmanager'])
    expect(without.map((p) => p.process.name)).toEqual(['nats-1', 'prometheus', 'alertmanager'])
    const prometheus = without.find((p) => p.process.name === 'prometheus')!
    expect(prometheus.files).toEqual([])
  })

  it('runs `cimops monitor` on its own port against every NATS node, with a natscli context as its config file', () => {
    const planned = plan(['nats', 'prometheus', 'alertmanager', 'monitor'], 3)
    expect(planned.map((p) => p.process.name)).toEqual(['nats-1', 'nats-2', 'nats-3', 'prometheus', 'alertmanager', 'monitor'])
    const monitor = planned.find((p) => p.process.name === 'monitor')!
    const ports = new Set(planned.map((p) => p.process.port))
    expect(ports.size).toBe(planned.length)
    expect(monitor.process).toMatchObject({component: 'monitor', url: `http://127.0.0.1:${monitor.process.port}`, configFile: '/tmp/sb/monitor/nats-context.json', logFile: '/tmp/sb/monitor/monitor.log'})
    expect(monitor.process.argv).toEqual([
      '/usr/bin/node',
      '/pkg/bin/run.js',
      'monitor',
      `--listen=127.0.0.1:${monitor.process.port}`,
      '--nats-context=/tmp/sb/monitor/nats-context.json',
      '--stream=EVENTS',
      '--refresh=1s',
    ])
    const natsUrls = planned.filter((p) => p.process.component === 'nats').map((p) => p.process.url)
    expect(JSON.parse(monitor.configText)).toMatchObject({url: natsUrls.join(',')})
    expect(monitor.files).toEqual([{path: '/tmp/sb/monitor/cimops.yaml', text: expect.stringContaining('contexts: {}')}])
  })

  it('has Prometheus scrape it every second as job cim-monitor and evaluate the project rules every second', () => {
    const planned = plan(['nats', 'prometheus', 'alertmanager', 'monitor'])
    const monitor = planned.find((p) => p.process.name === 'monitor')!
    const prometheus = planned.find((p) => p.process.name === 'prometheus')!
    const config = parse(prometheus.configText) as {global: Record<string, string>; scrape_configs: Array<Record<string, unknown>>}
    expect(config.global).toEqual({scrape_interval: '5s', evaluation_interval: '1s'})
    expect(config.scrape_configs.find((job) => job.job_name === 'cim')).toMatchObject({scrape_interval: '1s', scrape_timeout: '1s'})
    expect(prometheus.files).toEqual([
      {path: `/tmp/sb/prometheus/targets/${MONITOR_JOB}.json`, text: expect.any(String)},
      {path: '/tmp/sb/prometheus/rules/cim.yml', text: RULES},
    ])
    expect(JSON.parse(prometheus.files![0]!.text)).toEqual([{targets: [`127.0.0.1:${monitor.process.port}`], labels: {job: 'cim-monitor', component: 'event-monitor'}}])
  })

  it('starts the monitor away from the caller’s NATS settings and contexts', () => {
    const env = {PATH: '/bin', NATS_URL: 'nats://elsewhere:4222', NATS_CONTEXT: 'prod', NATS_CREDS: '/x.creds', CIMOPS_CONTEXT: 'prod', CIMOPS_CONFIG: '/home/me/cimops.yaml'}
    expect(processEnv({component: 'monitor', dataDir: '/tmp/sb/monitor'}, env)).toEqual({PATH: '/bin', CIMOPS_CONFIG: '/tmp/sb/monitor/cimops.yaml', NO_COLOR: '1'})
    expect(processEnv({component: 'nats', dataDir: '/tmp/sb/nats-1/data'}, env)).toBeUndefined()
  })
})

function planSites(cluster: 1 | 3, sites: 1 | 2) {
  const components = ['nats', 'prometheus', 'alertmanager', 'monitor'] as const
  const ports = Array.from({length: portsNeeded([...components], cluster, sites)}, (_, i) => 42_000 + i)
  return planSandbox({stateDir: '/tmp/sb', cluster, sites, jetstream: true, components: [...components], binaries, ports, cliCommand: ['/usr/bin/node', '/pkg/bin/run.js']})
}

describe('the two-site sandbox plan', () => {
  it('leaves a one-site sandbox as it was: no domain, no leaf nodes, no site', () => {
    const planned = planSites(3, 1)
    expect(planned.filter((p) => p.process.component === 'nats').map((p) => p.process.name)).toEqual(['nats-1', 'nats-2', 'nats-3'])
    for (const node of planned.filter((p) => p.process.component === 'nats')) {
      expect(node.configText).not.toMatch(/domain|leafnodes/)
      expect(node.process.site).toBeUndefined()
    }
  })

  it('adds a DR site of as many nodes, each port used once', () => {
    const planned = planSites(3, 2)
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
    const planned = planSites(3, 2)
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

  it("with a link port (a test's proxy), the DR site dials it and the primary advertises it, so the leaf never goes round the proxy", () => {
    const components = ['nats'] as const
    const ports = Array.from({length: portsNeeded([...components], 1, 2)}, (_, i) => 42_000 + i)
    const planned = planSandbox({stateDir: '/tmp/sb', cluster: 1, sites: 2, leafLinkPort: 41_999, jetstream: true, components: [...components], binaries, ports})
    const [primary, dr] = planned
    expect(primary.configText).toContain(`leafnodes {\n  listen: "127.0.0.1:${primary.process.leafnodePort}"\n  advertise: "127.0.0.1:41999"\n}`)
    expect(dr.configText).toContain('remotes: [ { urls: ["nats-leaf://127.0.0.1:41999"] } ]')
  })

  it('points the event monitor at the primary site only', () => {
    const planned = planSites(1, 2)
    const monitor = planned.find((p) => p.process.name === 'monitor')!
    const primary = planned.find((p) => p.process.name === 'nats-1')!
    expect(JSON.parse(monitor.configText)).toMatchObject({url: primary.process.url})
  })
})

describe('the sandbox Prometheus on a history', () => {
  const ports = Array.from({length: portsNeeded(['prometheus'], 1)}, (_, i) => 42_000 + i)
  const prometheusOf = (input: Partial<Parameters<typeof planSandbox>[0]>) => planSandbox({stateDir: '/tmp/sb', cluster: 1, jetstream: true, components: ['prometheus'], binaries, ports, ...input})[0]

  it('copies the blocks into its data directory and keeps them with the retention given', () => {
    const planned = prometheusOf({prometheusHistory: {blocksDir: '/tmp/blocks', retention: '3650d'}})
    expect(planned.copies).toEqual([{from: '/tmp/blocks', to: '/tmp/sb/prometheus/data'}])
    expect(planned.process.argv).toContain('--storage.tsdb.retention.time=3650d')
  })

  it('without one, starts as always: no copy, the default retention', () => {
    const planned = prometheusOf({})
    expect(planned.copies).toBeUndefined()
    expect(planned.process.argv.some((arg) => arg.startsWith('--storage.tsdb.retention'))).toBe(false)
  })
})
