/**
 * `deploy lint`: the monitoring assets checked by the servers' own tools where they are installed
 * (`promtool check config|rules`, `promtool test rules`, `amtool check-config`, and promtool's parser on
 * every dashboard query), plus what only cimops knows: the Grafana files' structure and that every
 * dashboard query and alert rule names a metric something exports (known-metrics.ts).
 * The tools are those of the chosen server set (CIMOPS_SERVERS, as the sandbox runs it): rules that load
 * on Prometheus 3 may not parse on 2.42, so the report says which versions linted them.
 * A tool that is not installed makes its checks `skipped`, never `failed`.
 *
 * Layout of an assets directory (the shipped `deploy/`):
 *   prometheus/prometheus.yml  prometheus/rules/*.yml  prometheus/tests/*.yml  alertmanager/*.yml
 *   grafana/provisioning/datasources/*.yml  grafana/provisioning/dashboards/*.yml  grafana/dashboards/*.json
 */
import {existsSync, statSync} from 'node:fs'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, dirname, join, relative} from 'node:path'

import {runTool, ToolNotFoundError, type RunOptions, type RunResult} from '../adapters/proc/run.js'
import {ConfigError, UsageError} from '../core/errors.js'
import {plural} from '../core/output/units.js'
import {binaryOverride, findServerBinary, serverBinaryVersion, serverSetFrom} from '../sandbox/binaries.js'
import {DEFAULT_SERVER_SET} from '../sandbox/types.js'
import {readDashboard, readProvisioning, type DashboardQuery, type ProvisionedDatasource} from './grafana.js'
import {unknownMetrics} from './known-metrics.js'
import {analyzePromql} from './promql.js'
import {packageRoot} from '../core/paths.js'

export type DeployCheckStatus = 'passed' | 'failed' | 'skipped'
export type ServerTool = 'promtool' | 'amtool'
export type DeployTool = ServerTool | 'cimops'

export interface DeployCheck {
  /** prometheus-config, prometheus-rules, prometheus-rule-tests, alertmanager-config, grafana-provisioning, grafana-dashboard, dashboard-queries, dashboard-metrics, rule-metrics */
  name: string
  /** What ran the check: a server's own tool, or cimops itself. */
  tool: DeployTool
  /** Relative to the assets directory. */
  file: string
  status: DeployCheckStatus
  /** One line: what was found, or the first problem, or why the check was skipped. */
  detail: string
  /** Every problem, one per line (empty unless failed). */
  problems: string[]
}

/** A server tool the checks ran with; null in DeployLintResult.tools when it was not found. */
export interface ToolUsed {
  path: string
  /** What `<tool> --version` reports, e.g. `3.5.3`; null when it does not say. */
  version: string | null
}

export interface DeployLintResult {
  /** The assets directory checked (absolute). */
  dir: string
  /** The server set whose tools ran (CIMOPS_SERVERS, default debian12). */
  servers: string
  tools: Record<ServerTool, ToolUsed | null>
  /** No check failed (skipped ones do not count). */
  ok: boolean
  passed: number
  failed: number
  skipped: number
  checks: DeployCheck[]
}

export type ToolRunner = (file: string, args: readonly string[], options: RunOptions) => Promise<RunResult>

export interface DeployLintOptions {
  /** Per tool run; default 60s. */
  timeoutMs?: number
  signal?: AbortSignal
  /** CIMOPS_SERVERS and the tool overrides (CIMOPS_PROMTOOL_BIN, CIMOPS_AMTOOL_BIN); default: process.env. */
  env?: NodeJS.ProcessEnv
  /** Finds a tool's executable, undefined when it is not installed; default: the server set's (findServerBinary). */
  findTool?: (program: ServerTool) => string | undefined
  /** The release a tool reports; default: its `--version`. */
  toolVersion?: (path: string) => Promise<string | undefined>
  /** Runs a tool; default: the execa adapter. */
  run?: ToolRunner
}

/** `<package root>/deploy`. */
export function packageDeployDir(): string {
  return join(packageRoot(), 'deploy')
}

const DEFAULT_TIMEOUT_MS = 60_000
const YAML_FILE = /\.ya?ml$/
const MAX_PROBLEMS = 50

export async function lintDeploy(dir: string, options: DeployLintOptions = {}): Promise<DeployLintResult> {
  if (!existsSync(dir)) throw new UsageError(`cannot lint deploy assets in ${dir}`, 'no such directory', {hint: 'give --dir the directory holding prometheus/, alertmanager/ and grafana/'})
  if (!statSync(dir).isDirectory()) throw new UsageError(`cannot lint deploy assets in ${dir}`, 'not a directory', {hint: 'give --dir the directory holding prometheus/, alertmanager/ and grafana/'})
  const files = await assetFiles(dir)
  const total = files.rules.length + files.ruleTests.length + files.alertmanager.length + files.provisioning.length + files.dashboards.length + (files.prometheusConfig ? 1 : 0)
  if (total === 0) {
    throw new UsageError(`no deploy assets in ${dir}`, 'found no prometheus/prometheus.yml, prometheus/rules/, alertmanager/ or grafana/ files', {
      hint: 'give --dir the directory holding prometheus/, alertmanager/ and grafana/',
    })
  }
  const env = options.env ?? process.env
  const servers = serverSetFrom(env)
  const find = options.findTool ?? ((program: ServerTool) => serverTool(program, env))
  const run = options.run ?? runTool
  const tools = {promtool: find('promtool'), amtool: find('amtool')}
  const versionOf = options.toolVersion ?? serverBinaryVersion
  const used = Promise.all([tools.promtool, tools.amtool].map(async (path) => (path ? {path, version: (await versionOf(path)) ?? null} : null)))
  const runOptions = {timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: options.signal}
  const rel = (path: string) => relative(dir, path) || '.'
  const notInstalled = (tool: ServerTool) => `${tool} is not installed (${servers === DEFAULT_SERVER_SET ? 'not on PATH' : `not in the fetched ${servers} servers`})`

  /** A check by an external tool: skipped without it, passed on exit 0, failed with its messages otherwise. */
  const toolCheck = async (name: string, tool: ServerTool, file: string, args: string[], cwd?: string, passedText = 'valid'): Promise<DeployCheck> => {
    const base = {name, tool, file: rel(file)}
    const executable = tools[tool]
    if (!executable) return {...base, status: 'skipped', detail: notInstalled(tool), problems: []}
    try {
      const result = await run(executable, args, {...runOptions, ...(cwd ? {cwd} : {})})
      return result.exitCode === 0 ? {...base, status: 'passed', detail: successSummary(result.stdout, passedText), problems: []} : failed(base, toolProblems(result, file))
    } catch (error) {
      if (error instanceof ToolNotFoundError) return {...base, status: 'skipped', detail: notInstalled(tool), problems: []}
      throw error
    }
  }

  const {parse: parseYaml} = await import('yaml')
  const rules = await readRules(files.rules, parseYaml)
  const recorded = rules.flatMap((r) => r.recorded)

  // Checks in report order; the tools run concurrently. A tool's error (timeout, Ctrl-C) surfaces at the
  // Promise.all below; until then it must not count as unhandled while the dashboards are read.
  const checks: Array<DeployCheck | Promise<DeployCheck>> = []
  const add = (check: DeployCheck | Promise<DeployCheck>) => {
    if (check instanceof Promise) check.catch(() => undefined)
    checks.push(check)
  }
  if (files.prometheusConfig) add(toolCheck('prometheus-config', 'promtool', files.prometheusConfig, ['check', 'config', files.prometheusConfig]))
  for (const {file, queries, problem} of rules) {
    add(toolCheck('prometheus-rules', 'promtool', file, ['check', 'rules', file]))
    add(problem ? failed({name: 'rule-metrics', tool: 'cimops', file: rel(file)}, [problem]) : metricCheck('rule-metrics', rel(file), queries, recorded))
  }
  // Test files name their rule files relative to themselves.
  for (const file of files.ruleTests) add(toolCheck('prometheus-rule-tests', 'promtool', file, ['test', 'rules', basename(file)], dirname(file), 'all tests pass'))
  for (const file of files.alertmanager) add(toolCheck('alertmanager-config', 'amtool', file, ['check-config', file]))

  const datasources: ProvisionedDatasource[] = []
  for (const file of files.provisioning) {
    const provisioning = readProvisioning(await readFile(file, 'utf8'), parseYaml)
    datasources.push(...provisioning.datasources)
    const found = [
      ...provisioning.datasources.map((ds) => `datasource ${ds.uid ?? ds.name} (${ds.type})`),
      ...provisioning.providers.map((provider) => `dashboards from ${provider.path ?? provider.name}`),
    ]
    add(staticCheck('grafana-provisioning', rel(file), provisioning.problems, found.join(', ') || 'nothing provisioned'))
  }

  const seenUids = new Map<string, string>()
  const seenTitles = new Map<string, string>()
  for (const file of files.dashboards) {
    const dashboard = readDashboard(await readFile(file, 'utf8'), {datasources})
    const problems = [...dashboard.problems]
    if (dashboard.uid && seenUids.has(dashboard.uid)) problems.push(`uid "${dashboard.uid}" is also the uid of ${seenUids.get(dashboard.uid)}`)
    else if (dashboard.uid) seenUids.set(dashboard.uid, rel(file))
    if (dashboard.title && seenTitles.has(dashboard.title)) problems.push(`title "${dashboard.title}" is also the title of ${seenTitles.get(dashboard.title)}`)
    else if (dashboard.title) seenTitles.set(dashboard.title, rel(file))
    const summary = `${dashboard.uid ?? '?'} "${dashboard.title ?? '?'}": ${plural(dashboard.panels, 'panel')}, ${plural(dashboard.queries.length, 'query', 'queries')}`
    add(staticCheck('grafana-dashboard', rel(file), problems, summary))
    if (dashboard.queries.length === 0) continue
    add(queryParseCheck(rel(file), dashboard.queries, tools.promtool, notInstalled('promtool'), run, runOptions))
    add(metricCheck('dashboard-metrics', rel(file), dashboard.queries, recorded))
  }

  const done = await Promise.all(checks)
  const [promtool, amtool] = await used
  const count = (status: DeployCheckStatus) => done.filter((c) => c.status === status).length
  return {dir, servers, tools: {promtool, amtool}, ok: count('failed') === 0, passed: count('passed'), failed: count('failed'), skipped: count('skipped'), checks: done}
}

/**
 * The set's tool, or undefined when the set lacks it (its checks are skipped). An override
 * (CIMOPS_PROMTOOL_BIN, CIMOPS_AMTOOL_BIN) that points nowhere stays an error: skipping would hide it.
 */
function serverTool(tool: ServerTool, env: NodeJS.ProcessEnv): string | undefined {
  try {
    return findServerBinary(tool, env)
  } catch (error) {
    if (error instanceof ConfigError && !binaryOverride(tool, env)) return undefined
    throw error
  }
}

interface AssetFiles {
  prometheusConfig?: string
  rules: string[]
  ruleTests: string[]
  alertmanager: string[]
  provisioning: string[]
  dashboards: string[]
}

async function assetFiles(dir: string): Promise<AssetFiles> {
  const config = join(dir, 'prometheus', 'prometheus.yml')
  return {
    ...(existsSync(config) ? {prometheusConfig: config} : {}),
    rules: await filesIn(join(dir, 'prometheus', 'rules'), YAML_FILE),
    ruleTests: await filesIn(join(dir, 'prometheus', 'tests'), YAML_FILE),
    alertmanager: await filesIn(join(dir, 'alertmanager'), YAML_FILE),
    provisioning: [...(await filesIn(join(dir, 'grafana', 'provisioning', 'datasources'), YAML_FILE)), ...(await filesIn(join(dir, 'grafana', 'provisioning', 'dashboards'), YAML_FILE))],
    dashboards: await filesIn(join(dir, 'grafana', 'dashboards'), /\.json$/),
  }
}

/** Files directly in `dir` whose names match, sorted; none when it does not exist. Hidden files are skipped. */
async function filesIn(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    const entries = await readdir(dir, {withFileTypes: true})
    return entries.filter((e) => e.isFile() && !e.name.startsWith('.') && pattern.test(e.name)).map((e) => join(dir, e.name)).sort()
  } catch {
    return []
  }
}

function failed(base: Pick<DeployCheck, 'name' | 'tool' | 'file'>, problems: string[]): DeployCheck {
  const all = problems.length > 0 ? problems : ['failed without saying why']
  const shown = all.length > MAX_PROBLEMS ? [...all.slice(0, MAX_PROBLEMS), `… and ${all.length - MAX_PROBLEMS} more`] : all
  return {...base, status: 'failed', detail: all.length > 1 ? `${all[0]} (and ${all.length - 1} more)` : all[0], problems: shown}
}

function staticCheck(name: string, file: string, problems: string[], summary: string): DeployCheck {
  return problems.length > 0 ? failed({name, tool: 'cimops', file}, problems) : {name, tool: 'cimops', file, status: 'passed', detail: summary, problems: []}
}

/** What a tool said on success, on one line: `valid; 11 rules found`, amtool's `Found:` list, promtool's warnings. */
function successSummary(stdout: string, passedText: string): string {
  const lines = stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '')
  const found = lines.filter((line) => line.startsWith('- ')).map((line) => line.slice(2))
  const said = lines
    .filter((line) => /^(SUCCESS|WARNING)\b/.test(line) && !/ is valid /.test(line))
    .map((line) => line.replace(/^SUCCESS:?\s*/, ''))
    .filter((line) => line !== '')
  return [passedText, ...said, ...(found.length > 0 ? [found.join(', ')] : [])].join('; ')
}

/** A tool's complaint as problem lines, without its banner lines and with the checked file's path shortened. */
function toolProblems(result: RunResult, file: string): string[] {
  const text = `${result.stderr}\n${result.stdout}`
  return text
    .split('\n')
    .map((line) => line.trim().replace(/^(Checking '[^']*'\s+)?FAILED:\s*/, '').replaceAll(file, basename(file)))
    .filter((line) => line !== '' && !/^(Checking |Unit Testing:|SUCCESS\b)/.test(line) && !/^amtool: error: failed to validate/.test(line))
    .filter((line, i, all) => all.indexOf(line) === i)
}

/** Every query names only known metrics, and reads as PromQL (the static half; promtool parses for real). */
function metricCheck(name: string, file: string, queries: DashboardQuery[], extraMetrics: string[]): DeployCheck {
  const problems: string[] = []
  const names = new Set<string>()
  for (const query of queries) {
    const analysis = analyzePromql(query.prepared)
    if (analysis.error) problems.push(`${query.where}: cannot read the query: ${analysis.error}: ${query.expr}`)
    for (const metric of analysis.metrics) names.add(metric)
    const unknown = unknownMetrics(analysis.metrics, extraMetrics)
    if (unknown.length > 0) problems.push(`${query.where}: unknown metric${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (not exported by the CIM event monitor or a known exporter)`)
  }
  return staticCheck(name, file, problems, `${plural(queries.length, 'query', 'queries')}, ${plural(names.size, 'metric')}, all known`)
}

interface RulesFile {
  file: string
  /** Alert and recording rule expressions. */
  queries: DashboardQuery[]
  /** Names of its recording rules: metrics the other rules and the dashboards may use. */
  recorded: string[]
  /** The file is not YAML (promtool says more). */
  problem?: string
}

async function readRules(files: string[], parseYaml: (text: string) => unknown): Promise<RulesFile[]> {
  const result: RulesFile[] = []
  for (const file of files) {
    const entry: RulesFile = {file, queries: [], recorded: []}
    result.push(entry)
    let doc: unknown
    try {
      doc = parseYaml(await readFile(file, 'utf8'))
    } catch (error) {
      entry.problem = `not valid YAML: ${(error as Error).message.split('\n')[0]}`
      continue
    }
    const groups = (doc as {groups?: unknown} | null)?.groups
    for (const group of Array.isArray(groups) ? groups : []) {
      const rules = (group as {rules?: unknown} | null)?.rules
      for (const rule of Array.isArray(rules) ? rules : []) {
        const {alert, record, expr} = (rule ?? {}) as {alert?: unknown; record?: unknown; expr?: unknown}
        if (typeof record === 'string') entry.recorded.push(record)
        if (typeof expr === 'string') entry.queries.push({where: typeof alert === 'string' ? `alert ${alert}` : `record ${String(record)}`, expr, prepared: expr})
      }
    }
  }
  return result
}

/** Every query of a dashboard through promtool's parser: one recording rule each in a throw-away rules file. */
async function queryParseCheck(file: string, queries: DashboardQuery[], promtool: string | undefined, missing: string, run: ToolRunner, runOptions: Omit<RunOptions, 'cwd'>): Promise<DeployCheck> {
  const base = {name: 'dashboard-queries', tool: 'promtool' as const, file}
  if (!promtool) return {...base, status: 'skipped', detail: missing, problems: []}
  const errors = await parseWithPromtool(queries.map((q) => q.prepared), promtool, run, runOptions)
  const problems = errors.flatMap((error, i) => (error ? [`${queries[i].where}: ${error}: ${queries[i].expr}`] : []))
  return problems.length > 0 ? failed(base, problems) : {...base, status: 'passed', detail: `${plural(queries.length, 'query', 'queries')} parse`, problems: []}
}

const RECORD_PREFIX = 'cimops_lint_query_'

/**
 * Parses PromQL expressions with promtool (`check rules` on a generated file of recording rules), no
 * server needed. Returns, per expression, Prometheus's parse error or undefined when it parses.
 */
export async function parseWithPromtool(exprs: string[], promtool: string, run: ToolRunner, runOptions: Omit<RunOptions, 'cwd'>): Promise<Array<string | undefined>> {
  if (exprs.length === 0) return []
  const {stringify} = await import('yaml')
  const dir = await mkdtemp(join(tmpdir(), 'cimops-lint-'))
  try {
    const file = join(dir, 'queries.yml')
    await writeFile(file, stringify({groups: [{name: 'queries', rules: exprs.map((expr, i) => ({record: `${RECORD_PREFIX}${i}`, expr}))}]}))
    const result = await run(promtool, ['check', 'rules', file], runOptions)
    const errors: Array<string | undefined> = exprs.map(() => undefined)
    if (result.exitCode === 0) return errors
    let matched = false
    for (const line of `${result.stderr}\n${result.stdout}`.split('\n')) {
      const m = new RegExp(`"${RECORD_PREFIX}(\\d+)": (.*)$`).exec(line)
      if (!m) continue
      matched = true
      errors[Number(m[1])] = m[2].replace(/^could not parse expression: /, '')
    }
    // A failure promtool did not pin on one expression: every expression shares it.
    if (!matched) return exprs.map(() => toolProblems(result, file)[0] ?? `promtool exited ${result.exitCode}`)
    return errors
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}
