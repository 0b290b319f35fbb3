/**
 * The fleet (issue 20): health-check on several contexts at once, each a real sandbox of its own in an isolated
 * config. One site's servers are stopped for the last test: its verdict is CRITICAL, the other's stays as it was,
 * and the answer comes within the timeout plus a small margin.
 */
import {randomUUID} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createAlertmanagerClient} from '../../src/lib/adapters/alertmanager/client.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {eventually} from '../helpers/health.js'
import {startTestSandbox, type TestSandbox} from '../helpers/sandbox.js'

/** The checks that depend on the site only, not on how loaded this machine is. */
const SITE_CHECKS = ['--component', 'nats,jetstream,prometheus,alertmanager']
const TIMEOUT_S = 3
const RUN = randomUUID()

interface FleetAlertJson {
  alertname: string
  contexts: string[]
}

describe('health-check and alerts list on several contexts', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let east: TestSandbox
  let west: TestSandbox | undefined

  beforeAll(async () => {
    home = await isolatedHome()
    ;[east, west] = await Promise.all([startTestSandbox(), startTestSandbox()])
    const context = (sandbox: TestSandbox) =>
      `    nats: {servers: [${sandbox.state.natsServers.join(', ')}]}\n    prometheus: {url: '${sandbox.state.prometheusUrl}'}\n    alertmanager: {url: '${sandbox.state.alertmanagerUrl}'}\n    timeout: ${TIMEOUT_S}s\n`
    const dir = join(home.dir, 'config', 'cimops')
    await mkdir(dir, {recursive: true})
    await writeFile(join(dir, 'config.yaml'), `current-context: east\ncontexts:\n  east:\n${context(east)}  west:\n${context(west)}`)
  }, 120_000)

  afterAll(async () => {
    await Promise.all([east?.stop(), west?.stop()])
    await home?.cleanup()
  })

  const cli = (...args: string[]) => runCli(['health-check', ...SITE_CHECKS, ...args], home.env)

  it('one --context answers as it always has: the site report, no fleet table', async () => {
    const single = await cli('--context', 'east')
    expect(single.code, single.stderr).toBe(0)
    expect(single.stdout).toMatch(/^STATUS +COMPONENT +CHECK +SUMMARY/)
    expect(single.stdout).not.toContain('CONTEXT')
    const json = JSON.parse((await cli('--context', 'east', '--json')).stdout)
    expect(json).toMatchObject({status: 'OK', context: 'east'})
    expect(json.contexts).toBeUndefined()
  })

  it('several contexts: a fleet table first, each site report only with --verbose', async () => {
    const fleet = await cli('--context', 'east', '--context', 'west')
    expect(fleet.code, fleet.stderr).toBe(0)
    const lines = fleet.stdout.split('\n')
    expect(lines[0]).toMatch(/^CONTEXT +STATUS +SCORE +WORST FINDING$/)
    expect(lines.slice(1, 3).sort()).toEqual([expect.stringMatching(/^east +OK +100 +-$/), expect.stringMatching(/^west +OK +100 +-$/)])
    expect(fleet.stdout).toMatch(/^OK +all 2 sites OK/m)
    expect(fleet.stdout).not.toContain('COMPONENT')

    const verbose = await cli('--context', 'east', '--context', 'west', '--verbose')
    expect(verbose.stdout).toMatch(/── east ──\nSTATUS +COMPONENT +CHECK/)
    expect(verbose.stdout).toMatch(/── west ──\nSTATUS +COMPONENT +CHECK/)
  })

  it('--json, --format nagios and --format prometheus name every site', async () => {
    const json = await cli('--all-contexts', '--json')
    expect(json.code, json.stderr).toBe(0)
    const report = JSON.parse(json.stdout)
    expect(report.status).toBe('OK')
    expect(report.contexts.map((site: {context: string}) => site.context).sort()).toEqual(['east', 'west'])
    for (const site of report.contexts) {
      expect(site).toMatchObject({status: 'OK', score: 100})
      expect(site.checks.map((check: {component: string}) => check.component)).toEqual(expect.arrayContaining(['nats', 'jetstream', 'prometheus', 'alertmanager']))
    }

    const nagios = await cli('--all-contexts', '--format', 'nagios')
    expect(nagios.stdout.trim().split('\n')).toHaveLength(1)
    expect(nagios.stdout).toMatch(/^OK all 2 sites OK \| 'east_score'=100;;;0;100 'west_score'=100;;;0;100$/m)

    const prometheus = await cli('--all-contexts', '--format', 'prometheus')
    expect(prometheus.stdout).toMatch(/^cimops_health_status\{context="east"\} 0$/m)
    expect(prometheus.stdout).toMatch(/^cimops_health_status\{context="west"\} 0$/m)
    expect(prometheus.stdout).toMatch(/^cimops_check_status\{context="west",check="nats",component="nats"\} 0$/m)
    expect(prometheus.stdout.match(/^# TYPE cimops_health_status gauge$/gm)).toHaveLength(1)
  })

  it('refuses an address flag with several contexts: it names one site', async () => {
    const run = await cli('--all-contexts', '--nats-url', 'nats://127.0.0.1:4222')
    expect(run.code).toBe(64)
    expect(run.stderr).toMatch(/^cimops: --nats-url with several contexts/)
  })

  it('alerts list: the same alert in two Alertmanagers is listed once with both contexts; a site is as bad as its worst active alert', async () => {
    const alert = (alertname: string, severity: string) => ({labels: {alertname, severity, test_run: RUN}, annotations: {summary: `${alertname} fires`}, endsAt: new Date(Date.now() + 3_600_000).toISOString()})
    await createAlertmanagerClient({url: east.state.alertmanagerUrl!}, 5000).postAlerts([alert('CimopsFleetShared', 'warning'), alert('CimopsFleetEastOnly', 'critical')])
    await createAlertmanagerClient({url: west!.state.alertmanagerUrl!}, 5000).postAlerts([alert('CimopsFleetShared', 'warning')])
    const list = () => runCli(['alerts', 'list', '--all-contexts', '--json', `test_run=${RUN}`], home.env)
    const run = await eventually(list, (r) => r.code === 2 && JSON.parse(r.stdout).alerts.length === 2)
    const report = JSON.parse(run.stdout)
    expect(report.status).toBe('CRITICAL')
    expect(report.contexts.map((site: {context: string; status: string; alerts: unknown[]}) => [site.context, site.status, site.alerts.length])).toEqual([
      ['east', 'CRITICAL', 2],
      ['west', 'WARNING', 1],
    ])
    expect(report.alerts.map((a: FleetAlertJson) => [a.alertname, a.contexts])).toEqual([
      ['CimopsFleetEastOnly', ['east']],
      ['CimopsFleetShared', ['east', 'west']],
    ])

    const table = await runCli(['alerts', 'list', '--context', 'east', '--context', 'west', `test_run=${RUN}`], home.env)
    expect(table.code, table.stderr).toBe(2)
    expect(table.stdout).toMatch(/^CONTEXT +STATUS +WORST FINDING\neast +CRITICAL +CimopsFleetEastOnly: CimopsFleetEastOnly fires\nwest +WARNING +CimopsFleetShared: CimopsFleetShared fires$/m)
    expect(table.stdout).toMatch(/^SEVERITY +ALERTNAME +CONTEXTS +LABELS/m)
    expect(table.stdout).toMatch(/^warning +CimopsFleetShared +east, west /m)
    expect(table.stdout.match(/CimopsFleetShared +east/g)).toHaveLength(1)

    const single = await runCli(['alerts', 'list', '--context', 'west', `test_run=${RUN}`], home.env)
    expect(single.code, single.stderr).toBe(0)
    expect(single.stdout).toMatch(/^SEVERITY +ALERTNAME +LABELS/)

    // West's own table under its heading, as alerts list on west alone gives it (but for a second more in STARTED).
    const verbose = await runCli(['alerts', 'list', '--context', 'east', '--context', 'west', '--verbose', `test_run=${RUN}`], home.env)
    const alike = (text: string) => text.replaceAll(/\d+/g, 'N').replaceAll(/ +/g, ' ')
    expect(alike(verbose.stdout.split(/^── west ──\n/m)[1] ?? '')).toBe(alike(single.stdout))
  })

  it('morning-check: a fleet table with each site\'s score, every site\'s report in --json and with --verbose', async () => {
    const backups = ['--backups', join(home.dir, 'no-backups')]
    const json = await runCli(['morning-check', '--all-contexts', '--json', ...backups], home.env)
    const report = JSON.parse(json.stdout)
    expect(json.code, json.stderr).toBe({OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3}[report.status as string])
    expect(report.contexts.map((site: {context: string}) => site.context)).toEqual(['east', 'west'])
    for (const site of report.contexts) {
      expect(site.score).toBe(site.health.score)
      expect(site.checks.map((check: {name: string}) => check.name)).toEqual(expect.arrayContaining(['alerts', 'backups', 'health']))
    }
    // East fires a critical alert (above), west only a warning.
    expect(report.contexts[0].status).toBe('CRITICAL')

    const text = await runCli(['morning-check', '--context', 'east', '--context', 'west', '--verbose', ...backups], home.env)
    expect(text.stdout).toMatch(/^CONTEXT +STATUS +SCORE +WORST FINDING\neast +CRITICAL +\d+ +Needs attention: /)
    expect(text.stdout).toContain('── east ──')
    expect(text.stdout).toContain('── west ──')
  })

  it('a site whose servers are gone is CRITICAL, answers within its timeout, and leaves the other verdict intact', async () => {
    // East's verdict as a single-site check gives it now (the alerts above fire there).
    const alone = JSON.parse((await cli('--context', 'east', '--json')).stdout)
    await west!.stop()
    west = undefined
    const run = await cli('--all-contexts', '--json')
    expect(run.code, run.stderr).toBe(2)
    const report = JSON.parse(run.stdout)
    const site = (name: string) => report.contexts.find((s: {context: string}) => s.context === name)
    expect(report.status).toBe('CRITICAL')
    expect(site('east')).toMatchObject({status: alone.status, score: alone.score})
    expect(site('west').status).toBe('CRITICAL')
    expect(site('west').worstFinding).toMatch(/127\.0\.0\.1/)
    expect(report.durationSeconds).toBeLessThan(TIMEOUT_S + 1)
    expect(run.durationMs).toBeLessThan((TIMEOUT_S + 6) * 1000)

    const table = await cli('--all-contexts')
    expect(table.stdout).toMatch(/^west +CRITICAL +\d+ +\S/m)
    expect(table.stdout).toMatch(/^CRITICAL +2 of 2 sites not OK: east CRITICAL, west CRITICAL/m)

    const alerts = await runCli(['alerts', 'list', '--all-contexts', '--json', `test_run=${RUN}`], home.env)
    expect(alerts.code, alerts.stderr).toBe(2)
    const listed = JSON.parse(alerts.stdout)
    expect(listed.contexts[1]).toMatchObject({context: 'west', status: 'CRITICAL', alerts: []})
    expect(listed.contexts[1].worstFinding).toMatch(/cannot reach alertmanager at http:\/\/127\.0\.0\.1:\d+/)
    expect(listed.alerts.map((a: FleetAlertJson) => [a.alertname, a.contexts])).toEqual([
      ['CimopsFleetEastOnly', ['east']],
      ['CimopsFleetShared', ['east']],
    ])
    expect(listed.durationSeconds).toBeLessThan(TIMEOUT_S + 1)

    const morning = await runCli(['morning-check', '--all-contexts', '--json', '--backups', join(home.dir, 'no-backups')], home.env)
    expect(morning.code, morning.stderr).toBe(2)
    const sites = JSON.parse(morning.stdout).contexts
    expect(sites[0]).toMatchObject({context: 'east', status: 'CRITICAL', health: {status: alone.status}})
    expect(sites[1]).toMatchObject({context: 'west', status: 'CRITICAL'})
    expect(JSON.parse(morning.stdout).durationSeconds).toBeLessThan(TIMEOUT_S + 3 + 1)
  })
})
