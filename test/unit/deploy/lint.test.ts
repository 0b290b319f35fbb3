import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ConfigError, UsageError} from '../../../src/lib/core/errors.js'
import {readDashboard, readProvisioning, variableQueryExpr} from '../../../src/lib/deploy/grafana.js'
import {lintDeploy, type ToolRunner} from '../../../src/lib/deploy/lint.js'

const DS = {type: 'prometheus', uid: '${datasource}'}
const datasources = [{name: 'CIM Prometheus', uid: 'cim-prometheus', type: 'prometheus'}]

function dashboard(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uid: 'test',
    title: 'Test',
    schemaVersion: 39,
    templating: {
      list: [
        {type: 'datasource', name: 'datasource', query: 'prometheus'},
        {type: 'query', name: 'domain', datasource: DS, query: {query: 'label_values(cim_events_total{job="cim-monitor"}, domain)'}},
      ],
    },
    annotations: {list: [{name: 'Alerts', datasource: DS, expr: 'ALERTS{alertstate="firing"}'}]},
    panels: [
      {id: 1, type: 'timeseries', title: 'Rate', gridPos: {h: 8, w: 12, x: 0, y: 0}, datasource: DS, targets: [{refId: 'A', datasource: DS, expr: 'sum(rate(cim_events_total{domain=~"$domain"}[$__rate_interval]))'}]},
      {id: 2, type: 'row', title: 'More', gridPos: {h: 1, w: 24, x: 0, y: 8}, collapsed: true, panels: [
        {id: 3, type: 'stat', title: 'Streams', gridPos: {h: 4, w: 6, x: 0, y: 9}, datasource: {type: 'prometheus', uid: 'cim-prometheus'}, targets: [{refId: 'A', expr: 'max(cim_active_event_streams)'}]},
      ]},
      {id: 4, type: 'text', title: 'Notes', gridPos: {h: 4, w: 6, x: 6, y: 9}},
      {id: 5, type: 'table', title: 'Silences', gridPos: {h: 4, w: 6, x: 12, y: 9}, targets: [{refId: 'A', datasource: {type: 'alertmanager', uid: 'cim-alertmanager'}}]},
    ],
    ...overrides,
  }
}

describe('readDashboard', () => {
  it('collects the queries of panels (rows included), variables and annotations, with variables substituted', () => {
    const result = readDashboard(JSON.stringify(dashboard()), {datasources: [...datasources, {name: 'AM', uid: 'cim-alertmanager', type: 'alertmanager'}]})
    expect(result.problems).toEqual([])
    expect(result).toMatchObject({uid: 'test', title: 'Test', panels: 5})
    expect(result.queries.map((q) => [q.where, q.prepared])).toEqual([
      ['variable domain', 'cim_events_total{job="cim-monitor"}'],
      ['annotation Alerts', 'ALERTS{alertstate="firing"}'],
      ['panel "Rate" (id 1), target A', 'sum(rate(cim_events_total{domain=~".*"}[1m]))'],
      ['panel "Streams" (id 3), target A', 'max(cim_active_event_streams)'],
    ])
  })

  it('names what would break the dashboard or leave a panel empty', () => {
    const bad = dashboard({uid: 'no spaces allowed', title: undefined, schemaVersion: undefined})
    const panels = bad.panels as Array<Record<string, unknown>>
    panels[0].targets = [{refId: 'A', expr: 'rate(x[$window])'}, {refId: 'A', expr: ''}]
    panels[0].datasource = {type: 'prometheus', uid: '${prom}'}
    panels.push({id: 1, type: 'stat', title: 'Again', gridPos: {h: 4, w: 6, x: 20, y: 0}, datasource: {type: 'prometheus', uid: 'elsewhere'}})
    const problems = readDashboard(JSON.stringify(bad), {datasources}).problems
    expect(problems).toEqual([
      'uid "no spaces allowed" is not 1-40 letters, digits, - or _',
      'no title',
      'no schemaVersion',
      'panel "Rate" (id 1): datasource ${prom} is not a datasource variable of this dashboard',
      'panel "Rate" (id 1), target A: uses $window, which is not a variable of this dashboard',
      'panel "Rate" (id 1), target A: refId A is used twice',
      'panel "Rate" (id 1), target A: no expr',
      'panel "Silences" (id 5), target A: datasource "cim-alertmanager" is not provisioned (cim-prometheus)',
      'panel "Again" (id 1): id 1 is used by another panel',
      'panel "Again" (id 1): gridPos x + w is more than 24 columns',
      'panel "Again" (id 1): datasource "elsewhere" is not provisioned (cim-prometheus)',
      'panel "Again" (id 1): no targets, the panel would stay empty',
    ])
    expect(readDashboard('{"uid": ', {datasources}).problems[0]).toMatch(/^not valid JSON/)
    expect(readDashboard(JSON.stringify({uid: 'x', title: 'X', schemaVersion: 39, panels: []}), {datasources}).problems).toEqual(['no panels'])
    expect(readDashboard(JSON.stringify({dashboard: {uid: 'x'}, overwrite: true}), {datasources}).problems[0]).toMatch(/API payload/)
  })

  it('accepts any literal datasource uid when nothing is provisioned, and __inputs datasources as variables', () => {
    const exported = dashboard({__inputs: [{name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus'}]})
    const panels = exported.panels as Array<Record<string, unknown>>
    panels[0].datasource = {type: 'prometheus', uid: '${DS_PROMETHEUS}'}
    expect(readDashboard(JSON.stringify(exported), {datasources: []}).problems).toEqual([])
  })
})

describe('readProvisioning', () => {
  it('reads datasources and dashboard providers', () => {
    const result = readProvisioning('apiVersion: 1\ndatasources:\n  - {name: P, uid: p-1, type: prometheus, url: "http://x:9090"}\nproviders:\n  - {name: cim, type: file, options: {path: /d}}\n', parseYaml)
    expect(result).toEqual({problems: [], datasources: [{name: 'P', uid: 'p-1', type: 'prometheus'}], providers: [{name: 'cim', path: '/d'}]})
  })

  it('names what Grafana would refuse', () => {
    expect(readProvisioning('apiVersion: 2\ndatasources:\n  - {type: prometheus}\n  - {name: P, type: prometheus}\nproviders:\n  - {name: cim}\n', parseYaml).problems).toEqual([
      'apiVersion is 2, Grafana expects 1',
      'datasources[0] needs a name and a type',
      'datasource P: no url',
      'provider cim: a file provider needs options.path (the directory of the dashboard JSON files)',
    ])
    expect(readProvisioning('a: [', parseYaml).problems[0]).toMatch(/^not valid YAML/)
    expect(readProvisioning('apiVersion: 1\n', parseYaml).problems).toEqual(['has neither datasources nor providers'])
  })
})

describe('variableQueryExpr', () => {
  it('finds the PromQL in Prometheus variable queries', () => {
    expect(variableQueryExpr('label_values(cim_events_total{a="x,y"}, domain)')).toBe('cim_events_total{a="x,y"}')
    expect(variableQueryExpr('query_result(topk(5, up))')).toBe('topk(5, up)')
    expect(variableQueryExpr('label_values(domain)')).toBeUndefined()
    expect(variableQueryExpr('label_names()')).toBeUndefined()
    expect(variableQueryExpr('metrics(cim_.*)')).toBeUndefined()
  })
})

describe('lintDeploy', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cimops-deploy-unit-'))
    await mkdir(join(dir, 'assets', 'prometheus', 'rules'), {recursive: true})
    await mkdir(join(dir, 'assets', 'grafana', 'dashboards'), {recursive: true})
    await mkdir(join(dir, 'empty'))
    await writeFile(join(dir, 'assets', 'prometheus', 'prometheus.yml'), 'rule_files: [rules/*.yml]\n')
    await writeFile(join(dir, 'assets', 'prometheus', 'rules', 'r.yml'), 'groups:\n  - name: g\n    rules:\n      - record: job:cim_events:rate5m\n        expr: sum(rate(cim_events_total[5m]))\n      - alert: A\n        expr: job:cim_events:rate5m == 0 and cim_typo > 1\n')
    await writeFile(join(dir, 'assets', 'grafana', 'dashboards', 'd.json'), JSON.stringify(dashboard()))
  })
  afterAll(() => rm(dir, {recursive: true, force: true}))

  it('skips the checks of missing tools and still runs its own', async () => {
    const result = await lintDeploy(join(dir, 'assets'), {findTool: () => undefined})
    expect(result.checks.map((c) => [c.name, c.status])).toEqual([
      ['prometheus-config', 'skipped'],
      ['prometheus-rules', 'skipped'],
      ['rule-metrics', 'failed'],
      ['grafana-dashboard', 'passed'],
      ['dashboard-queries', 'skipped'],
      ['dashboard-metrics', 'passed'],
    ])
    // Recording rules of the same files count as known metrics.
    expect(result.checks[2].problems).toEqual(['alert A: unknown metric cim_typo (not exported by the CIM event monitor or a known exporter)'])
    expect(result).toMatchObject({ok: false, passed: 2, failed: 1, skipped: 3})
  })

  it("reports a tool's verdict: its summary when it passes, its messages when it fails", async () => {
    const calls: string[][] = []
    const run: ToolRunner = async (file, args) => {
      calls.push([file, ...args])
      if (args[0] === 'check' && args[1] === 'config') return {exitCode: 1, stdout: `Checking ${args[2]}\n`, stderr: `  FAILED: parsing YAML file ${args[2]}: bad\n`, durationMs: 1}
      if (String(args[2]).endsWith('queries.yml')) {
        return {exitCode: 1, stdout: '', stderr: `  FAILED:\n${args[2]}: 7:15: group "queries", rule 3, "cimops_lint_query_2": could not parse expression: 1:5: parse error: oops\n`, durationMs: 1}
      }
      return {exitCode: 0, stdout: `Checking ${args[2]}\n  SUCCESS: 2 rules found\n`, stderr: '', durationMs: 1}
    }
    const result = await lintDeploy(join(dir, 'assets'), {findTool: (program) => `/opt/bin/${program}`, run})
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]))
    expect(byName['prometheus-config']).toMatchObject({status: 'failed', tool: 'promtool', file: 'prometheus/prometheus.yml', detail: 'parsing YAML file prometheus.yml: bad'})
    expect(byName['prometheus-rules']).toMatchObject({status: 'passed', detail: 'valid; 2 rules found'})
    expect(byName['dashboard-queries']).toMatchObject({status: 'failed', problems: ['panel "Rate" (id 1), target A: 1:5: parse error: oops: sum(rate(cim_events_total{domain=~"$domain"}[$__rate_interval]))']})
    expect(calls.map((c) => c.slice(0, 3))).toContainEqual(['/opt/bin/promtool', 'check', 'config'])
  })

  it("says which set's tools linted, at which version, and skips the checks of a set that lacks them", async () => {
    const run: ToolRunner = async () => ({exitCode: 0, stdout: '  SUCCESS: 2 rules found\n', stderr: '', durationMs: 1})
    const result = await lintDeploy(join(dir, 'assets'), {env: {CIMOPS_SERVERS: 'unstable'}, findTool: (program) => (program === 'promtool' ? '/opt/unstable/promtool' : undefined), toolVersion: async () => '3.5.3', run})
    expect(result).toMatchObject({servers: 'unstable', tools: {promtool: {path: '/opt/unstable/promtool', version: '3.5.3'}, amtool: null}})
    // A set that was never fetched (an empty cache): its tools are missing, not PATH's taken instead.
    const emptyCache = join(dir, 'empty')
    const unfetched = await lintDeploy(join(dir, 'assets'), {env: {CIMOPS_SERVERS: 'trixie', XDG_CACHE_HOME: emptyCache, PATH: process.env.PATH}, run})
    expect(unfetched.tools).toEqual({promtool: null, amtool: null})
    expect(unfetched.checks.find((c) => c.name === 'prometheus-rules')).toMatchObject({status: 'skipped', detail: 'promtool is not installed (not in the fetched trixie servers)'})
  })

  it('an override that names no executable is an error, not a skipped check', async () => {
    await expect(lintDeploy(join(dir, 'assets'), {env: {CIMOPS_PROMTOOL_BIN: join(dir, 'no-promtool')}})).rejects.toThrow(ConfigError)
    await expect(lintDeploy(join(dir, 'assets'), {env: {CIMOPS_SERVERS: 'bookworm'}})).rejects.toThrow(/unknown server set bookworm/)
  })

  it('refuses a directory that is missing or holds no assets', async () => {
    await expect(lintDeploy(join(dir, 'missing'))).rejects.toThrow(UsageError)
    await expect(lintDeploy(join(dir, 'empty'))).rejects.toThrow(/no deploy assets/)
  })
})
