/**
 * `cimops monitor` against a real nats-server (the chosen server set) with the seeded EVENTS stream: the built CLI
 * serves /metrics, the counters match the server's own per-subject counts, the lagging projection
 * shows its lag, failed events, queues, sent and received messages are derived, promtool accepts the
 * exposition, and SIGTERM stops it promptly with exit 0. Run `npm run build` first.
 */
import {spawnSync} from 'node:child_process'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createPrometheusClient} from '../../src/lib/adapters/prometheus/client.js'
import {parseCimSubject, parseListen, parseProjectionName} from '../../src/lib/monitor/subject.js'
import {findServerBinary} from '../../src/lib/sandbox/binaries.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, startCli} from '../helpers/cli.js'
import {freePort, samples, until} from '../helpers/monitor.js'
import {useSandbox} from '../helpers/sandbox.js'

/** What Prometheus 3.5.3 sends with every scrape (captured from a scrape of a loopback target). */
const PROMETHEUS_3_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2'

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

describe('cimops monitor against nats-server (the chosen server set)', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  /** Events per domain, from the server's own per-subject counts. */
  const expectedByDomain: Record<string, number> = {}
  let expectedFailed = 0
  /** Deliveries per consumer filter prefix and workflow-analytics' in-flight window, from the server's consumer state. */
  const expectedDeliveries: Record<string, number> = {}
  let lagging: {ackPending: number; maxAckPending: number}

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
    const nc = await connect({servers: sandbox().state.natsServers})
    try {
      const info = await (await jetstreamManager(nc)).streams.info('EVENTS', {subjects_filter: '>'})
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        const domain = subject.split('.')[1]
        expectedByDomain[domain] = (expectedByDomain[domain] ?? 0) + count
        if (subject.endsWith('.WorkflowFailed')) expectedFailed += count
      }
      for await (const consumer of (await jetstreamManager(nc)).consumers.list('EVENTS')) {
        const prefix = consumer.config.filter_subject!.replace(/\.>$/, '')
        expectedDeliveries[prefix] = (expectedDeliveries[prefix] ?? 0) + consumer.delivered.consumer_seq
        if (consumer.name === 'workflow-analytics') lagging = {ackPending: consumer.num_ack_pending, maxAckPending: consumer.config.max_ack_pending!}
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
      // The Accept of Prometheus 3.5.3's scrapes (captured): it takes text 0.0.4, and fails a scrape without a Content-Type it knows.
      const response = await fetch(`${base}/metrics`, {headers: {Accept: PROMETHEUS_3_ACCEPT}})
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      const text = await response.text()
      expect(text).not.toMatch(/^# EOF/m)
      // Asked only for OpenMetrics, it still answers (and labels) text 0.0.4, as Prometheus's client libraries do.
      const openMetricsOnly = await fetch(`${base}/metrics`, {headers: {Accept: 'application/openmetrics-text;version=1.0.0'}})
      expect(openMetricsOnly.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      expect(await openMetricsOnly.text()).not.toMatch(/^# EOF/m)

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

      // Failed events: the seed's WorkflowFailed events carry data.error "upstream timeout".
      expect(expectedFailed).toBeGreaterThan(0)
      expect(samples(text, 'cim_events_failed_total')).toEqual([{labels: {domain: 'workflow', event_type: 'WorkflowFailed', error: 'upstream_timeout'}, value: expectedFailed}])
      // Sent: every stored event by cim.<domain>; received: deliveries to the projections by their filter.
      const sent = Object.fromEntries(samples(text, 'cim_nats_messages_sent_total').map((s) => [s.labels.subject, s.value]))
      expect(sent).toEqual(Object.fromEntries(Object.entries(expectedByDomain).map(([domain, count]) => [`cim.${domain}`, count])))
      const received = Object.fromEntries(samples(text, 'cim_nats_messages_received_total').map((s) => [s.labels.subject, s.value]))
      expect(received).toEqual(expectedDeliveries)
      // Queue: workflow-analytics' 12 unacknowledged events against its max_ack_pending.
      expect(lagging.ackPending).toBe(12)
      expect(samples(text, 'cim_event_queue_depth').find((s) => s.labels.domain === 'workflow')?.value).toBe(12)
      expect(samples(text, 'cim_event_queue_capacity').find((s) => s.labels.domain === 'workflow')?.value).toBe(lagging.maxAckPending)
      expect(samples(text, 'cim_event_queue_depth').find((s) => s.labels.domain === 'graph')?.value).toBe(0)
      expect(samples(text, 'cim_monitor_counted_sequence')).toEqual([{labels: {stream: 'EVENTS'}, value: 437}])
      expect(samples(text, 'cim_monitor_stream_last_sequence')).toEqual([{labels: {stream: 'EVENTS'}, value: 437}])

      // The set's promtool: 3.x lints more (duplicates, type suffixes, _timestamp_seconds gauges); any lint exits non-zero.
      const promtool = spawnSync(findServerBinary('promtool'), ['check', 'metrics'], {input: text, encoding: 'utf8'})
      expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0)
      expect(`${promtool.stdout}${promtool.stderr}`).toBe('')

      expect((await fetch(`${base}/nope`)).status).toBe(404)
    } finally {
      const stopAt = performance.now()
      child.kill('SIGTERM')
      const result = await done
      const stopMs = performance.now() - stopAt
      expect(result.stderr).toContain('serving http://127.0.0.1:')
      expect(result.code).toBe(0)
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

describe('the sandbox Prometheus scrapes cimops monitor (the chosen server set)', () => {
  const sandbox = useSandbox({components: ['nats', 'prometheus', 'monitor']})

  it('the monitor target is up, and its samples are in Prometheus', async () => {
    const prometheus = createPrometheusClient({url: sandbox().state.prometheusUrl ?? ''}, 5000)
    // Bounded: the sandbox scrapes the monitor every second or so once its file_sd target is read (refresh 5s).
    let seen: unknown
    const target = await until(
      'the cim-monitor target to be up',
      async () => {
        seen = (await prometheus.targets()).activeTargets.find((t) => t.labels.job === 'cim-monitor')
        return (seen as {health?: string} | undefined)?.health === 'up' ? seen : undefined
      },
      30_000,
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen: ${JSON.stringify(seen)}`)
    })
    expect(target).toMatchObject({lastError: '', scrapePool: 'cim'})
    const scraped = await prometheus.query('process_resident_memory_bytes{job="cim-monitor"}')
    expect(scraped.resultType === 'vector' ? scraped.result.length : 0).toBe(1)
  }, 60_000)
})
