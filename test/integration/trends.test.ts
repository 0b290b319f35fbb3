/**
 * `cimops trends` against a Prometheus started on a known history: four weeks of hourly samples written as
 * OpenMetrics, turned into TSDB blocks by the server set's promtool (`tsdb create-blocks-from openmetrics`), and
 * loaded with a retention longer than the history. The report's end is pinned (--until), so every count, rate,
 * quantile and date is checked exactly against what was generated. The HTML report is loaded in headless Chromium.
 * Run `npm run build` first.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createPrometheusClient} from '../../src/lib/adapters/prometheus/client.js'
import type {TrendsReport} from '../../src/lib/trends/model.js'
import {buildTrends} from '../../src/lib/trends/service.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {startTestSandbox, type TestSandbox} from '../helpers/sandbox.js'
import {runServerTool} from '../helpers/server-tools.js'

const HOUR = 3600
const DAY = 24 * HOUR
const MiB = 1024 * 1024
/** The history: four weeks to the report's end, a Monday (each 2 hours a block: fewer days start faster). */
const END = Date.parse('2026-11-30T00:00:00Z') / 1000
const T0 = END - 28 * DAY
/** This week: the last 7 days before END. */
const THIS_WEEK = END - 7 * DAY
/** Events per hour are the domain's base times the hour's weight: 09:00 is the busiest, then 14:00. */
const weight = (hourStart: number) => ({9: 3, 14: 2})[new Date(hourStart * 1000).getUTCHours()] ?? 1
const WEIGHTS_PER_DAY = 27
const BASE = {
  graph: {before: 40, thisWeek: 80},
  workflow: {before: 20, thisWeek: 20},
  agent: {before: 200_000, thisWeek: 400_000},
} as const
const GRAPH_FAILED_BASE = 2
/** The workflow counter restarts from 0 just after this hour (a monitor restart). */
const WORKFLOW_RESET = Date.parse('2026-11-20T12:00:00Z') / 1000
/** EVENTS grows 1 MiB an hour from 268 MiB; its max_bytes is reached 15 days after END. */
const eventsBytes = (t: number) => 268 * MiB + ((t - T0) / HOUR) * MiB
const EVENTS_MAX_BYTES = 1300 * MiB
const OPS_BYTES = MiB

/** Gauges are sampled at half past, so no sample sits on a 7-day window's edge (Prometheus 2 closes it, 3 opens it). */
function history(): string {
  const lines: string[] = []
  const family = (name: string, type: string, samples: Array<[string, number, number]>) => {
    lines.push(`# TYPE ${name} ${type}`)
    for (const [labels, value, t] of samples) lines.push(`${name}${type === 'counter' ? '_total' : ''}{${labels}} ${value} ${t}`)
  }
  const counters: Array<[string, number, number]> = []
  for (const [domain, base] of Object.entries(BASE)) {
    let value = 0
    for (let t = T0; t <= END; t += HOUR) {
      counters.push([`domain="${domain}",event_type="Changed"`, value, t])
      const perHour = (t >= THIS_WEEK ? base.thisWeek : base.before) * weight(t)
      value = domain === 'workflow' && t === WORKFLOW_RESET ? perHour : value + perHour
    }
  }
  family('cim_events', 'counter', counters)
  const failed: Array<[string, number, number]> = []
  for (let t = T0, value = 0; t <= END; value += GRAPH_FAILED_BASE * weight(t), t += HOUR) failed.push(['domain="graph",event_type="NodeFailed",error="timeout"', value, t])
  family('cim_events_failed', 'counter', failed)
  const lag: Array<[string, number, number]> = []
  const storage: Array<[string, number, number]> = []
  const series: Array<[string, number, number]> = []
  for (let t = T0 + HOUR / 2; t < END; t += HOUR) {
    // This week: 2s, but 30s at 09:30 (7 of 168 samples); before: 1s.
    lag.push(['domain="graph",projection="nodes"', t < THIS_WEEK ? 1 : new Date(t * 1000).getUTCHours() === 9 ? 30 : 2, t])
    storage.push(['stream="EVENTS"', eventsBytes(t), t], ['stream="CIM_OPS"', OPS_BYTES, t])
    series.push(['instance="history"', t < THIS_WEEK ? 900_000 : 1_200_000, t])
  }
  family('cim_projection_lag_seconds', 'gauge', lag)
  family('cim_nats_jetstream_storage_bytes', 'gauge', storage)
  family('prometheus_tsdb_head_series', 'gauge', series)
  return `${lines.join('\n')}\n# EOF\n`
}

/** Events of a domain per day: a day has 27 weights of 1 hour each. */
const perDay = (base: number) => base * WEIGHTS_PER_DAY

let sandbox: TestSandbox
let work: string
let home: Awaited<ReturnType<typeof isolatedHome>>
let env: Record<string, string>

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cimops-trends-'))
  await writeFile(join(work, 'history.om'), history())
  await runServerTool('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', join(work, 'history.om'), join(work, 'blocks')], 60_000)
  sandbox = await startTestSandbox({components: ['nats', 'prometheus'], prometheusHistory: {blocksDir: join(work, 'blocks'), retention: '3650d'}})
  const nc = await connect({servers: sandbox.state.natsServers})
  try {
    await (await jetstreamManager(nc)).streams.add({name: 'EVENTS', subjects: ['cim.>'], max_bytes: EVENTS_MAX_BYTES})
  } finally {
    await nc.close()
  }
  home = await isolatedHome()
  env = {...home.env, NATS_URL: sandbox.state.natsServers.join(','), CIMOPS_PROMETHEUS_URL: sandbox.state.prometheusUrl!}
}, 90_000)

afterAll(async () => {
  await sandbox?.stop()
  await home?.cleanup()
  if (work) await rm(work, {recursive: true, force: true})
})

const UNTIL = ['--until', new Date(END * 1000).toISOString()]

describe('cimops trends', () => {
  let report: TrendsReport

  it('--json: events per day and week per domain, errors, busiest hours, lag, storage dates and series, exactly; exit 1 (WARNING)', async () => {
    const result = await runCli(['trends', ...UNTIL, '--json'], env)
    expect(result.stderr).toBe('')
    report = JSON.parse(result.stdout) as TrendsReport
    expect(result.code).toBe(1)
    expect(report.until).toBe('2026-11-30T00:00:00.000Z')
    expect(report.from).toBe('2026-11-02T00:00:00.000Z')
    expect(report.prometheusHistoryFrom).toBe(report.from)
    expect(report.streamFallback.used).toBe(false)
    expect(report.domains.map((d) => d.domain)).toEqual(['agent', 'graph', 'workflow'])

    const graph = report.domains.find((d) => d.domain === 'graph')!
    expect(graph.days).toHaveLength(28)
    expect(graph.days.every((d) => d.source === 'prometheus')).toBe(true)
    expect(graph.days.map((d) => d.events)).toEqual([...new Array(21).fill(perDay(40)), ...new Array(7).fill(perDay(80))])
    expect(graph.thisWeek).toEqual({from: '2026-11-23T00:00:00.000Z', events: 7 * perDay(80), eventsPerDay: perDay(80), failed: 7 * perDay(2), errorRate: 0.025})
    expect(graph.before).toMatchObject({events: 21 * perDay(40), eventsPerDay: perDay(40), failed: 21 * perDay(2), errorRate: 0.05})
    expect(graph.change).toBe(1)
    expect(graph.weeks.map((w) => w.errorRate)).toEqual([0.05, 0.05, 0.05, 0.025])

    // The restart of the workflow counter loses nothing: 540 every day, the day of the restart included.
    const workflow = report.domains.find((d) => d.domain === 'workflow')!
    expect(workflow.days.map((d) => d.events)).toEqual(new Array(28).fill(perDay(20)))
    expect(workflow.change).toBe(0)
    expect(workflow.thisWeek.errorRate).toBe(0)

    const agent = report.domains.find((d) => d.domain === 'agent')!
    expect(agent.peakDayEvents).toBe(10_800_000)
    expect(agent.ofShardGuideline).toBe(1.08)
    expect(report.total.weeks.at(-1)!.eventsPerDay).toBe(perDay(80 + 20 + 400_000))

    expect(report.hours.busiest).toEqual([
      {hour: 9, eventsPerHour: 3 * (80 + 20 + 400_000)},
      {hour: 14, eventsPerHour: 2 * (80 + 20 + 400_000)},
      {hour: 0, eventsPerHour: 80 + 20 + 400_000},
    ])

    expect(report.lag).toEqual([
      {
        domain: 'graph',
        projection: 'nodes',
        weeks: [
          ...['2026-11-02', '2026-11-09', '2026-11-16'].map((day) => ({from: `${day}T00:00:00.000Z`, p50: 1, p95: 1, p99: 1, max: 1})),
          {from: '2026-11-23T00:00:00.000Z', p50: 2, p95: 2, p99: 30, max: 30},
        ],
        thisWeek: {from: '2026-11-23T00:00:00.000Z', p50: 2, p95: 2, p99: 30, max: 30},
      },
    ])

    const events = report.storage.streams.find((s) => s.stream === 'EVENTS')!
    expect(events.bytes).toBe(eventsBytes(END - HOUR / 2))
    expect(events.growthBytesPerDay).toBe(24 * MiB)
    expect(events.forecast).toEqual({limit: {kind: 'max_bytes', bytes: EVENTS_MAX_BYTES}, fullAt: '2026-12-15T00:00:00.000Z', daysLeft: 15})
    // Mean of a day's samples, each at half past: the line's value at the day's noon.
    expect(events.daily.at(-1)).toBe(eventsBytes(END - DAY / 2))
    const ops = report.storage.streams.find((s) => s.stream === 'CIM_OPS')!
    expect(ops).toMatchObject({bytes: OPS_BYTES, growthBytesPerDay: 0, forecast: null})
    const total = 7 * perDay(80 + 20 + 400_000)
    expect(graph.storageBytesPerMonth).toBe(Math.round((24 * MiB * 30 * 7 * perDay(80)) / total))

    expect(report.series).toMatchObject({activeSeries: 1_200_000, ofGuideline: 1.2, weeks: [900_000, 900_000, 900_000, 1_200_000].map((peak, i) => ({peak, from: report.lag[0].weeks[i].from}))})

    expect(report.status).toBe('WARNING')
    expect(report.findings.map((f) => f.text)).toEqual([
      'stream EVENTS reaches its max_bytes (1.3 GiB) on 2026-12-15, in 15 days at +24.0 MiB/day',
      'domain agent: 10.8M events on its busiest day this week, past the 10M/day guideline: shard by domain',
      'Prometheus holds 1.2M active series, past the 1M guideline: add replicas',
    ])
  })

  it('CRITICAL (exit 2) when the limit is nearer than --full-crit', async () => {
    const result = await runCli(['trends', ...UNTIL, '--full-crit', '20d', '--json'], env)
    expect(result.code).toBe(2)
    expect((JSON.parse(result.stdout) as TrendsReport).findings[0]).toMatchObject({status: 'CRITICAL'})
  })

  it('days before Prometheus\' history: "not available" without a stream counter, counted on the stream with one', async () => {
    const result = await runCli(['trends', ...UNTIL, '--weeks', '5', '--json'], env)
    const wide = JSON.parse(result.stdout) as TrendsReport
    expect(wide.prometheusHistoryFrom).toBe('2026-11-02T00:00:00.000Z')
    expect(wide.streamFallback.used).toBe(false)
    // The sandbox's events stream holds nothing that old: counting it would say 0 events, not "unknown".
    expect(wide.streamFallback.detail).toMatch(/^not available: 7 day\(s\) before Prometheus' history could not be counted on stream EVENTS: EVENTS holds no events from before /)
    const graphDays = wide.domains.find((d) => d.domain === 'graph')!.days
    expect(graphDays.slice(0, 7).map((d) => [d.events, d.source])).toEqual(new Array(7).fill([null, 'none']))
    expect(graphDays[7]).toMatchObject({events: perDay(40), source: 'prometheus'})

    // The service with a stream counter: 100 events a day per domain.
    const calls: string[] = []
    const countMatching = async (filter: string, from: Date, to: Date) => {
      calls.push(filter)
      return Math.round((100 * (to.getTime() - from.getTime())) / 1000 / DAY)
    }
    const prometheus = createPrometheusClient({url: sandbox.state.prometheusUrl!}, 10_000)
    const counted = await buildTrends(
      {prometheus, storageLimits: async () => ({maxBytes: new Map()}), streamCounts: {stream: 'EVENTS', countMatching}},
      {weeks: 5, until: new Date(END * 1000), eventsStream: 'EVENTS', fullWarnDays: 30, fullCritDays: 7},
    )
    expect(counted.streamFallback.used).toBe(true)
    expect(new Set(calls)).toEqual(new Set(['cim.agent.>', 'cim.graph.>', 'cim.workflow.>']))
    const graph = counted.domains.find((d) => d.domain === 'graph')!
    expect(graph.days.slice(0, 7)).toEqual(graph.days.slice(0, 7).map((d) => ({from: d.from, events: 100, failed: null, source: 'stream'})))
    expect(graph.weeks[0]).toMatchObject({events: 700, eventsPerDay: 100, failed: null, errorRate: null})
    expect(graph.weeks[1]).toMatchObject({events: 7 * perDay(40), errorRate: 0.05})
  })

  it('text and Markdown: the tables with sparklines; --output writes the file and prints the status line', async () => {
    const text = await runCli(['trends', ...UNTIL], env)
    expect(text.code).toBe(1)
    expect(text.stdout).toContain('CIM trends · 4 week(s) to 2026-11-30 00:00 UTC')
    expect(text.stdout).toMatch(/graph\s+2\.2k\s+1\.1k\s+\+100%\s+2\.2k\s+0%\s+▁{21}█{7}/)
    expect(text.stdout).toMatch(/EVENTS\s+939\.5 MiB\s+\+24\.0 MiB\s+1\.3 GiB\s+2026-12-15\s+15\b/)
    const file = join(work, 'review.md')
    const md = await runCli(['trends', ...UNTIL, '--format', 'md', '--output', file], env)
    expect(md.code).toBe(1)
    expect(md.stdout.trim()).toBe(`WARNING ${report.summary} (report in ${file})`)
    const page = await readFile(file, 'utf8')
    expect(page).toContain('| graph | 2.2k | 1.1k | +100% | 2.2k | 0% | `▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁███████` |')
    expect(page).toContain('| 09:00 | 1.2M |')
  })

  it('HTML: a self-contained page whose charts headless Chromium finds in the DOM it builds', async () => {
    const file = join(work, 'report.html')
    const result = await runCli(['trends', ...UNTIL, '--format', 'html', '--output', file], env)
    expect(result.code).toBe(1)
    const html = await readFile(file, 'utf8')
    expect(html).not.toMatch(/<script|<link|src=/)
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path))
    if (!chromium) {
      console.log('[skip] HTML report in a browser: no chromium (apt-get install chromium)')
      return
    }
    const {stdout: dom} = await promisify(execFile)(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`], {timeout: 30_000, maxBuffer: 16 * MiB})
    const charts = [...dom.matchAll(/<svg class="trend-chart" id="(chart-[\w-]+)"[^>]*>.*?<path class="trend-line"[^>]* d="([^"]+)"/g)].map(([, id, d]) => ({id, d}))
    expect(charts.map((c) => c.id)).toEqual(expect.arrayContaining(['chart-events-0', 'chart-events-1', 'chart-events-2', 'chart-errors-1', 'chart-hours-0', 'chart-lag-0', 'chart-storage-0', 'chart-series-0']))
    for (const chart of charts) expect(chart.d, chart.id).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+/)
    // The graph domain's line: 21 days low, then 7 days high.
    const graph = charts.find((c) => c.id === 'chart-events-1')!.d.split('L')
    expect(graph).toHaveLength(28)
    expect(new Set(graph.slice(1, 21).map((point) => point.split(',')[1])).size).toBe(1)
  })
})
