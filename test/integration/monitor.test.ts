/**
 * `cimops monitor` against a real nats-server 2.9.10 with the seeded EVENTS stream: the built CLI
 * serves /metrics, the counters match the server's own per-subject counts, the lagging projection
 * shows its lag, promtool accepts the exposition, and SIGTERM stops it promptly.
 */
import {spawnSync} from 'node:child_process'
import {createServer} from 'node:net'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {parseCimSubject, parseListen, parseProjectionName} from '../../src/lib/monitor/subject.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, startCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Samples of one metric from the text format: labels as a record, value as a number. */
function samples(text: string, name: string): Array<{labels: Record<string, string>; value: number}> {
  const out: Array<{labels: Record<string, string>; value: number}> = []
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`).exec(line)
    if (!match) continue
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value
    out.push({labels, value: Number(match[2])})
  }
  return out
}

describe('monitor parsing', () => {
  it('reads domain and event type from CIM subjects only', () => {
    expect(parseCimSubject('cim.workflow.workflow.wf-1.StepCompleted')).toEqual({domain: 'workflow', aggregateType: 'workflow', aggregateId: 'wf-1', eventType: 'StepCompleted'})
    for (const bad of ['cim.workflow.wf.StepCompleted', 'cim.a.b.c.d.e', 'other.a.b.c.d', 'cim..b.c.d']) expect(parseCimSubject(bad)).toBeUndefined()
  })
  it('splits projection consumer names at the first dash', () => {
    expect(parseProjectionName('workflow-analytics')).toEqual({domain: 'workflow', projection: 'analytics'})
    expect(parseProjectionName('graph-read-model')).toEqual({domain: 'graph', projection: 'read-model'})
    for (const bad of ['analytics', '-x', 'x-']) expect(parseProjectionName(bad)).toBeUndefined()
  })
  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:9091')).toEqual({host: '127.0.0.1', port: 9091})
    expect(parseListen(':9091')).toEqual({host: '127.0.0.1', port: 9091})
    expect(parseListen('[::1]:9091')).toEqual({host: '::1', port: 9091})
    for (const bad of ['nowhere', '127.0.0.1', '127.0.0.1:99999', '::1:9091']) expect(parseListen(bad)).toBeUndefined()
  })
})

describe('cimops monitor against nats-server 2.9.10', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  /** Events per domain, from the server's own per-subject counts. */
  const expectedByDomain: Record<string, number> = {}

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      const info = await (await jetstreamManager(nc)).streams.info('EVENTS', {subjects_filter: '>'})
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        const domain = subject.split('.')[1]
        expectedByDomain[domain] = (expectedByDomain[domain] ?? 0) + count
      }
    } finally {
      await nc.close()
    }
  })

  afterAll(async () => {
    await home?.cleanup()
  })

  it('serves the derived metrics from the start of the stream, passes promtool, and stops on SIGTERM', async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const child = startCli(['monitor', '--listen', `127.0.0.1:${port}`, '--from-start', '--nats-url', sandbox().state.natsServers.join(',')], home.env)
    const done = finished(child)
    try {
      expect(await until('/healthz', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 15_000)).toBe(true)
      await until('/readyz', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), 15_000)
      const response = await fetch(`${base}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      const text = await response.text()

      const events = samples(text, 'cim_events_total')
      expect(events.reduce((sum, s) => sum + s.value, 0)).toBe(437)
      const byDomain: Record<string, number> = {}
      for (const s of events) byDomain[s.labels.domain] = (byDomain[s.labels.domain] ?? 0) + s.value
      expect(byDomain).toEqual(expectedByDomain)
      expect(events.every((s) => s.labels.event_type && !s.labels.event_type.includes('.'))).toBe(true)

      const lag = samples(text, 'cim_projection_lag_seconds').find((s) => s.labels.domain === 'workflow' && s.labels.projection === 'analytics')
      expect(lag?.value).toBeGreaterThan(0)
      const processing = samples(text, 'cim_event_processing_lag_seconds').find((s) => s.labels.domain === 'workflow')
      expect(processing?.value).toBeGreaterThanOrEqual(lag!.value)
      expect(samples(text, 'cim_active_event_streams')[0]?.value).toBe(1)
      expect(samples(text, 'cim_nats_connections').find((s) => s.labels.state === 'connected')?.value).toBe(1)
      expect(samples(text, 'cim_nats_jetstream_storage_bytes').find((s) => s.labels.stream === 'EVENTS')?.value).toBeGreaterThan(0)
      expect(text).toMatch(/^process_resident_memory_bytes \d/m)

      const promtool = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'})
      expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0)

      expect((await fetch(`${base}/nope`)).status).toBe(404)
    } finally {
      const stopAt = performance.now()
      child.kill('SIGTERM')
      const result = await done
      const stopMs = performance.now() - stopAt
      expect(result.stderr).toContain('serving http://127.0.0.1:')
      expect([0, 130]).toContain(result.code)
      expect(stopMs).toBeLessThan(2500)
    }
    await expect(fetch(`${base}/healthz`)).rejects.toThrow()
  }, 40_000)

  it('from now: counts only events stored after it started', async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const child = startCli(['monitor', '--listen', `127.0.0.1:${port}`, '--nats-url', sandbox().state.natsServers.join(',')], home.env)
    const done = finished(child)
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      await until('/readyz', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), 15_000)
      const before = samples(await (await fetch(`${base}/metrics`)).text(), 'cim_events_total')
      expect(before).toEqual([])
      const js = jetstream(nc)
      for (let i = 0; i < 3; i++) await js.publish(`cim.graph.node.live-${i}.NodeAdded`, JSON.stringify({i}))
      await js.publish('cim.document.doc.live-9.DocumentArchived', '{}')
      const counted = await until(
        'the live events to be counted',
        async () => {
          const found = samples(await (await fetch(`${base}/metrics`)).text(), 'cim_events_total')
          return found.reduce((sum, s) => sum + s.value, 0) === 4 ? found : undefined
        },
        10_000,
      )
      expect(counted.map((s) => `${s.labels.domain}/${s.labels.event_type}=${s.value}`).sort()).toEqual(['document/DocumentArchived=1', 'graph/NodeAdded=3'])
    } finally {
      await nc.close()
      child.kill('SIGINT')
      const result = await done
      expect(result.code).toBe(130)
    }
  }, 30_000)

  it('refuses a bad --listen as a usage error', async () => {
    const result = await finished(startCli(['monitor', '--listen', 'nowhere', '--nats-url', sandbox().state.natsServers.join(',')], home.env))
    expect(result.code).toBe(64) // EX_USAGE, as every usage error of cimops
    expect(result.stderr).toContain('invalid --listen "nowhere"')
  })
})
