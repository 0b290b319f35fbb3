/**
 * The Grafana dashboards in deploy/grafana against a real Prometheus 2.42 (sandbox): every query a
 * panel, variable or annotation holds is sent as Grafana would send it (variables substituted) and must
 * parse, and must name only metrics something exports (src/lib/deploy/known-metrics.ts). The checker is
 * shown to fail on broken expressions first, and promtool's parser (what `deploy lint` uses offline) is
 * shown to agree with the server's.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {describe, expect, it} from 'vitest'

import {runTool} from '../../src/lib/adapters/proc/run.js'
import {findOnPath} from '../../src/lib/core/executables.js'
import {readDashboard, readProvisioning, type DashboardFile, type DashboardQuery} from '../../src/lib/deploy/grafana.js'
import {unknownMetrics} from '../../src/lib/deploy/known-metrics.js'
import {parseWithPromtool} from '../../src/lib/deploy/lint.js'
import {analyzePromql, substituteGrafanaVariables} from '../../src/lib/deploy/promql.js'
import {ROOT} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const GRAFANA = join(ROOT, 'deploy', 'grafana')
const DASHBOARDS = join(GRAFANA, 'dashboards')

interface QueryProblem {
  where: string
  expr: string
  problem: string
}

/**
 * Every query through the server: an instant query (what Grafana sends) must not be refused as bad_data,
 * format_query's canonical form must name the same metrics as our lexer reads, and those must be known.
 */
async function checkQueries(prometheusUrl: string, queries: DashboardQuery[]): Promise<QueryProblem[]> {
  const problems: QueryProblem[] = []
  for (const query of queries) {
    const report = (problem: string) => problems.push({where: query.where, expr: query.expr, problem})
    const evaluated = await prometheusGet(prometheusUrl, '/api/v1/query', query.prepared)
    if (evaluated.status !== 'success') {
      report(`${evaluated.errorType}: ${evaluated.error}`)
      continue
    }
    const formatted = await prometheusGet(prometheusUrl, '/api/v1/format_query', query.prepared)
    if (formatted.status !== 'success' || typeof formatted.data !== 'string') {
      report(`format_query: ${formatted.error}`)
      continue
    }
    const ours = analyzePromql(query.prepared)
    const canonical = analyzePromql(formatted.data)
    if (ours.error || canonical.error) report(`cannot read: ${ours.error ?? canonical.error}`)
    else if (ours.metrics.join() !== canonical.metrics.join()) report(`metric names read as ${ours.metrics.join(', ')} but Prometheus's form has ${canonical.metrics.join(', ')}`)
    const unknown = unknownMetrics(canonical.metrics)
    if (unknown.length > 0) report(`unknown metrics ${unknown.join(', ')}`)
  }
  return problems
}

async function prometheusGet(base: string, path: string, query: string): Promise<{status: string; data?: unknown; errorType?: string; error?: string}> {
  const response = await fetch(`${base}${path}?${new URLSearchParams({query})}`)
  const body = (await response.json()) as {status: string; data?: unknown; errorType?: string; error?: string}
  if (response.status !== 200 && body.status === 'success') throw new Error(`${path}: HTTP ${response.status} with status success`)
  return body
}

function asQueries(exprs: string[]): DashboardQuery[] {
  return exprs.map((expr, i) => ({where: `test ${i}`, expr, prepared: substituteGrafanaVariables(expr)}))
}

function loadDashboards(): Array<{file: string; dashboard: DashboardFile}> {
  const datasources = readdirSync(join(GRAFANA, 'provisioning', 'datasources'))
    .filter((name) => name.endsWith('.yml'))
    .flatMap((name) => readProvisioning(readFileSync(join(GRAFANA, 'provisioning', 'datasources', name), 'utf8'), parseYaml).datasources)
  return readdirSync(DASHBOARDS)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({file, dashboard: readDashboard(readFileSync(join(DASHBOARDS, file), 'utf8'), {datasources})}))
}

const BROKEN = [
  'sum(rate(cim_events_total[$__rate_interval])', // unclosed parenthesis
  'rate(cim_events_total[5q])', // bad duration
  'sum(rate(cim_event_total{domain=~"$domain"}[$__rate_interval]))', // a metric nobody exports
  'nosuchfunction(cim_events_total)', // unknown function
  'cim_events_total{domain=~"("}', // invalid regex
]

describe('Grafana dashboards against a real Prometheus', () => {
  const sandbox = useSandbox({components: ['prometheus']})
  const dashboards = loadDashboards()

  it('the checker reports broken expressions, and passes good ones', async () => {
    const problems = await checkQueries(sandbox().state.prometheusUrl!, asQueries([...BROKEN, 'sum by (domain) (rate(cim_events_total{domain=~"$domain"}[$__rate_interval]))']))
    expect(problems.map((p) => p.where)).toEqual(BROKEN.map((_, i) => `test ${i}`))
    expect(problems[0].problem).toMatch(/^bad_data: .*unclosed left parenthesis/)
    expect(problems[1].problem).toMatch(/^bad_data: /)
    expect(problems[2].problem).toBe('unknown metrics cim_event_total')
    expect(problems[3].problem).toMatch(/unknown function/)
    expect(problems[4].problem).toMatch(/^bad_data: /)
  })

  it("promtool's parser (deploy lint's, offline) refuses the same expressions the server does", async () => {
    const promtool = findOnPath('promtool')
    expect(promtool, 'promtool is installed with the servers (scripts/install-servers.sh)').toBeDefined()
    const exprs = asQueries([...BROKEN, 'up']).map((q) => q.prepared)
    const errors = await parseWithPromtool(exprs, promtool!, runTool, {timeoutMs: 30_000})
    // The unknown metric parses: only the name check catches it.
    expect(errors.map((e) => e !== undefined)).toEqual([true, true, false, true, true, false])
    expect(errors[0]).toMatch(/unclosed left parenthesis/)
  })

  it('ships the three dashboards of the operations summary, structurally sound', () => {
    expect(dashboards.map((d) => [d.file, d.dashboard.uid, d.dashboard.title])).toEqual([
      ['cim-events.json', 'cim-events', 'CIM Event Overview'],
      ['cim-gpu.json', 'cim-gpu', 'CIM GPU'],
      ['cim-nats.json', 'cim-nats', 'CIM NATS'],
    ])
    for (const {file, dashboard} of dashboards) {
      expect(dashboard.problems, file).toEqual([])
      expect(dashboard.queries.length, file).toBeGreaterThan(10)
    }
  })

  for (const file of ['cim-events.json', 'cim-gpu.json', 'cim-nats.json']) {
    it(`every query of ${file} parses in Prometheus and names only known metrics`, async () => {
      const {dashboard} = dashboards.find((d) => d.file === file)!
      const problems = await checkQueries(sandbox().state.prometheusUrl!, dashboard.queries)
      expect(problems).toEqual([])
    })
  }

  it("the event overview has the monitoring guide's panels", () => {
    const {dashboard} = dashboards.find((d) => d.file === 'cim-events.json')!
    const titles = dashboard.queries.map((q) => q.where)
    for (const title of ['Event rate by domain', 'Event processing lag', 'Event type distribution', 'Domain errors', 'Active event streams', 'Total events processed', 'Event success rate', 'Current event rate']) {
      expect(titles.some((where) => where.startsWith(`panel "${title}"`)), title).toBe(true)
    }
  })

  it('the GPU and NATS dashboards read the exporters and the monitor by their real names', () => {
    const metricsOf = (file: string) => new Set(dashboards.find((d) => d.file === file)!.dashboard.queries.flatMap((q) => analyzePromql(q.prepared).metrics))
    const gpu = metricsOf('cim-gpu.json')
    for (const name of ['DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED', 'DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_XID_ERRORS', 'DCGM_FI_DEV_POWER_USAGE', 'cimops_check_status']) expect(gpu.has(name), name).toBe(true)
    const nats = metricsOf('cim-nats.json')
    for (const name of ['cim_nats_connections', 'cim_nats_messages_sent_total', 'cim_nats_messages_received_total', 'cim_nats_jetstream_storage_bytes', 'gnatsd_varz_connections', 'gnatsd_varz_in_msgs', 'jetstream_consumer_num_pending']) {
      expect(nats.has(name), name).toBe(true)
    }
  })

  it('panels use the provisioned Prometheus through a datasource variable', () => {
    const provisioned = readProvisioning(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'), parseYaml)
    const prometheus = provisioned.datasources.find((ds) => ds.type === 'prometheus')
    expect(prometheus?.uid).toBe('cim-prometheus')
    for (const file of ['cim-events.json', 'cim-gpu.json', 'cim-nats.json']) {
      const doc = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {templating: {list: Array<{type: string; name: string; current?: {value?: string}}>}}
      const variable = doc.templating.list.find((v) => v.type === 'datasource')
      expect(variable?.name, file).toBe('datasource')
      expect(variable?.current?.value, file).toBe(prometheus?.uid)
    }
    const dashboardProvider = readProvisioning(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'cim.yml'), 'utf8'), parseYaml)
    expect(dashboardProvider.problems).toEqual([])
    expect(dashboardProvider.providers).toHaveLength(1)
  })
})
