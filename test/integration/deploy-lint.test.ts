/**
 * `cimops deploy lint` through the built CLI: green on the shipped deploy/, red on a broken copy (each
 * kind of breakage reported by the check that owns it), skipped (not failed) without promtool and amtool,
 * and usage errors. The tools are those of CIMOPS_SERVERS' set, as the CLI picks them. Run `npm run build` first.
 */
import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DeployCheck, DeployLintResult} from '../../src/lib/deploy/lint.js'
import {findServerBinary, serverBinaryVersion, serverSetFrom} from '../../src/lib/sandbox/binaries.js'
import {isolatedHome, ROOT, runCli} from '../helpers/cli.js'

let home: Awaited<ReturnType<typeof isolatedHome>>
let work: string

beforeAll(async () => {
  home = await isolatedHome()
  work = await mkdtemp(join(tmpdir(), 'cimops-deploy-lint-'))
})

afterAll(async () => {
  await rm(work, {recursive: true, force: true})
  await home.cleanup()
})

const lint = (args: string[], env: Record<string, string> = {}) => runCli(['deploy', 'lint', ...args], {...home.env, ...env})
const parseResult = (stdout: string) => JSON.parse(stdout) as DeployLintResult
const find = (result: DeployLintResult, name: string, file?: string) => result.checks.filter((c) => c.name === name && (file === undefined || c.file === file))

async function edit(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, file)
  const before = await readFile(path, 'utf8')
  const after = change(before)
  expect(after, `the edit of ${file} changed nothing`).not.toBe(before)
  await writeFile(path, after)
}

describe('cimops deploy lint', () => {
  it('passes on the shipped assets, every check run by its tool', async () => {
    const result = await lint(['--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = parseResult(result.stdout)
    expect(report.dir).toBe(join(ROOT, 'deploy'))
    expect(report.ok).toBe(true)
    expect(report.failed).toBe(0)
    expect(report.skipped).toBe(0)
    expect(report.passed).toBe(report.checks.length)
    const names = new Set(report.checks.map((c) => c.name))
    for (const name of ['prometheus-config', 'prometheus-rules', 'rule-metrics', 'prometheus-rule-tests', 'alertmanager-config', 'grafana-provisioning', 'grafana-dashboard', 'dashboard-queries', 'dashboard-metrics']) {
      expect(names.has(name), name).toBe(true)
    }
    expect(find(report, 'prometheus-config')[0]).toMatchObject({tool: 'promtool', file: 'prometheus/prometheus.yml', status: 'passed'})
    expect(find(report, 'alertmanager-config')[0]).toMatchObject({tool: 'amtool', file: 'alertmanager/alertmanager.yml', status: 'passed'})
    expect(find(report, 'prometheus-rules')[0].detail).toMatch(/16 rules found/)
    expect(find(report, 'dashboard-queries').map((c) => c.file)).toEqual(['grafana/dashboards/cim-events.json', 'grafana/dashboards/cim-gpu.json', 'grafana/dashboards/cim-nats.json'])
    for (const check of report.checks) expect(Object.keys(check).sort()).toEqual(['detail', 'file', 'name', 'problems', 'status', 'tool'])
    // The tools of the set the tests run (CIMOPS_SERVERS), at the versions they report.
    expect(report.servers).toBe(serverSetFrom())
    for (const tool of ['promtool', 'amtool'] as const) {
      const path = findServerBinary(tool)
      expect(report.tools[tool]).toEqual({path, version: (await serverBinaryVersion(path)) ?? null})
      expect(report.tools[tool]?.version).toMatch(/^\d+\.\d+\.\d+/)
    }
  })

  it('takes CIMOPS_PROMTOOL_BIN over the set, and refuses one that is no executable', async () => {
    const promtool = findServerBinary('promtool')
    const result = await lint(['--json'], {CIMOPS_PROMTOOL_BIN: promtool})
    expect(result.code, result.stderr).toBe(0)
    expect(parseResult(result.stdout).tools.promtool?.path).toBe(promtool)
    const missing = await lint([], {CIMOPS_PROMTOOL_BIN: join(work, 'no-promtool')})
    expect(missing.code).toBe(78)
    expect(missing.stderr).toContain(`CIMOPS_PROMTOOL_BIN=${join(work, 'no-promtool')} is not an executable file`)
  })

  it('prints a table and a verdict without --json', async () => {
    const result = await lint([])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^STATUS\s+CHECK\s+TOOL\s+FILE\s+DETAIL/)
    expect(result.stdout).toMatch(/passed\s+prometheus-config\s+promtool\s+prometheus\/prometheus\.yml/)
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^\d+ checks in .*deploy: \d+ passed, 0 failed, 0 skipped$/)
    const promtool = findServerBinary('promtool')
    expect(result.stdout).toContain(`Linted with the ${serverSetFrom()} servers' tools: promtool ${await serverBinaryVersion(promtool)} (${promtool}), amtool `)
  })

  it('fails on a broken copy, naming each problem where it is (exit 65)', async () => {
    const dir = join(work, 'broken')
    await cp(join(ROOT, 'deploy'), dir, {recursive: true})
    await edit(dir, 'prometheus/prometheus.yml', (t) => t.replace('scrape_interval: 15s', 'scrape_interval: 15q'))
    await edit(dir, 'alertmanager/alertmanager.yml', (t) => t.replace('receiver: oncall-primary', 'receiver: nobody'))
    // Parses (promtool check rules passes), but the metric does not exist and the unit test no longer holds.
    await edit(dir, 'prometheus/rules/cim.yml', (t) => t.replace('expr: sum(rate(cim_events_total[5m])) == 0', 'expr: sum(rate(cim_event_total[5m])) == 0'))
    await edit(dir, 'grafana/dashboards/cim-gpu.json', (t) => {
      const doc = JSON.parse(t)
      doc.panels[0].targets[0].expr = 'count(DCGM_FI_DEV_GPU_UTILIZATION{Hostname=~"$node"})'
      doc.panels[1].targets[0].expr = 'avg(DCGM_FI_DEV_GPU_UTIL{Hostname=~"$node"}'
      doc.panels[2].targets = []
      doc.panels[3].targets[0].expr = 'max(DCGM_FI_DEV_GPU_TEMP{Hostname=~"$nodes"})'
      return JSON.stringify(doc, null, 2)
    })
    await edit(dir, 'grafana/dashboards/cim-nats.json', (t) => t.replace('"uid": "cim-nats"', '"uid": "cim-events"'))
    await writeFile(join(dir, 'grafana/dashboards/broken.json'), '{"uid": "x", "title": ')

    const result = await lint(['--dir', dir, '--json'])
    expect(result.code, result.stderr).toBe(65)
    const report = parseResult(result.stdout)
    expect(report.ok).toBe(false)
    const failed = report.checks.filter((c) => c.status === 'failed').map((c) => `${c.name} ${c.file}`)
    expect(failed.sort()).toEqual(
      [
        'prometheus-config prometheus/prometheus.yml',
        'rule-metrics prometheus/rules/cim.yml',
        'prometheus-rule-tests prometheus/tests/cim_test.yml',
        'alertmanager-config alertmanager/alertmanager.yml',
        'grafana-dashboard grafana/dashboards/broken.json',
        'grafana-dashboard grafana/dashboards/cim-gpu.json',
        'dashboard-queries grafana/dashboards/cim-gpu.json',
        'dashboard-metrics grafana/dashboards/cim-gpu.json',
        'grafana-dashboard grafana/dashboards/cim-nats.json',
      ].sort(),
    )
    expect(report.failed).toBe(failed.length)
    const one = (name: string, file: string): DeployCheck => find(report, name, file)[0]
    // 2.42 says `not a valid duration string: "15q"`, 2.53 and 3.x `unknown unit "q" in duration "15q"`.
    expect(one('prometheus-config', 'prometheus/prometheus.yml').detail).toMatch(/^parsing YAML file prometheus\.yml: .*duration.*"15q"/)
    expect(one('prometheus-rules', 'prometheus/rules/cim.yml').status).toBe('passed')
    expect(one('rule-metrics', 'prometheus/rules/cim.yml').problems).toEqual([expect.stringMatching(/^alert EventStreamStalled: unknown metric cim_event_total/)])
    expect(one('prometheus-rule-tests', 'prometheus/tests/cim_test.yml').problems.join('\n')).toContain('EventStreamStalled')
    expect(one('alertmanager-config', 'alertmanager/alertmanager.yml').detail).toBe('undefined receiver "nobody" used in route')
    expect(one('grafana-dashboard', 'grafana/dashboards/broken.json').detail).toMatch(/^not valid JSON/)
    const gpuStructure = one('grafana-dashboard', 'grafana/dashboards/cim-gpu.json').problems
    expect(gpuStructure).toContainEqual(expect.stringMatching(/^panel "Framebuffer used" \(id 3\): no targets/))
    expect(gpuStructure).toContainEqual(expect.stringMatching(/^panel "Hottest GPU" \(id 4\), target A: uses \$nodes, which is not a variable/))
    // $nodes is substituted like any variable, so the query parses: only the structure check names it.
    expect(one('dashboard-queries', 'grafana/dashboards/cim-gpu.json').problems).toEqual([
      expect.stringMatching(/^panel "Average utilization" \(id 2\), target A: 1:\d+: parse error: unclosed left parenthesis: avg\(DCGM_FI_DEV_GPU_UTIL/),
    ])
    expect(one('dashboard-metrics', 'grafana/dashboards/cim-gpu.json').problems).toContainEqual(expect.stringMatching(/^panel "GPUs reporting" \(id 1\), target A: unknown metric DCGM_FI_DEV_GPU_UTILIZATION/))
    expect(one('grafana-dashboard', 'grafana/dashboards/cim-nats.json').problems).toEqual(['uid "cim-events" is also the uid of grafana/dashboards/cim-events.json'])

    const text = await lint(['--dir', dir])
    expect(text.code).toBe(65)
    expect(text.stdout).toContain('alertmanager/alertmanager.yml: error: undefined receiver "nobody" used in route [alertmanager-config]')
    expect(text.stdout.trimEnd().split('\n').at(-1)).toMatch(/: \d+ passed, 9 failed, 0 skipped$/)
  })

  it('skips, not fails, the checks of tools that are not installed', async () => {
    // A fetched set that is not in an empty cache (Debian 12's tools would be found at /usr/bin without PATH).
    const empty = await mkdtemp(join(work, 'cache-'))
    const result = await lint(['--json'], {CIMOPS_SERVERS: 'trixie', XDG_CACHE_HOME: empty, CIMOPS_PROMTOOL_BIN: '', CIMOPS_AMTOOL_BIN: ''})
    expect(result.code, result.stderr).toBe(0)
    const report = parseResult(result.stdout)
    expect(report.ok).toBe(true)
    expect(report.tools).toEqual({promtool: null, amtool: null})
    const skipped = report.checks.filter((c) => c.status === 'skipped')
    expect(new Set(skipped.map((c) => c.tool))).toEqual(new Set(['promtool', 'amtool']))
    expect(skipped.every((c) => /^(promtool|amtool) is not installed \(not in the fetched trixie servers\)$/.test(c.detail))).toBe(true)
    expect(report.checks.filter((c) => c.tool === 'cimops').every((c) => c.status === 'passed')).toBe(true)
    expect(report.skipped).toBe(skipped.length)
  })

  it('a missing --dir is one usage error line (exit 64), also under --json', async () => {
    const missing = join(work, 'nope')
    const result = await lint(['--dir', missing])
    expect(result.code).toBe(64)
    expect(result.stdout).toBe('')
    expect(result.stderr.trim().split('\n')).toEqual([`cimops: cannot lint deploy assets in ${missing}: no such directory (give --dir the directory holding prometheus/, alertmanager/ and grafana/)`])
    const json = await lint(['--dir', missing, '--json'])
    expect(json.code).toBe(64)
    expect(JSON.parse(json.stdout).error).toMatchObject({code: 'USAGE', exit: 64})
    const empty = await lint(['--dir', work])
    expect(empty.code).toBe(64)
    expect(empty.stderr).toMatch(/^cimops: no deploy assets in /)
  })

  it('rejects an unknown flag (exit 64) and shows examples in --help', async () => {
    expect((await lint(['--frobnicate'])).code).toBe(64)
    const help = await runCli(['deploy', 'lint', '--help'], home.env)
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('EXAMPLES')
    expect(help.stdout).toContain('cimops deploy lint --dir ops/deploy')
  })
})
