/**
 * `cimops morning-check` through the built CLI against a sandbox (nats-server, Prometheus, Alertmanager)
 * set up for a bad morning: a critical alert firing in Alertmanager, the seeded projection
 * workflow-analytics lagging (lag thresholds 1s/1h in the context), a backup set five days old next to
 * an unfinished one, and a successful DR drill forty days ago in the ops log. Run `npm run build` first.
 */
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createAlertmanagerClient} from '../../src/lib/adapters/alertmanager/client.js'
import {connectNats, jetstreamManagerFor} from '../../src/lib/adapters/nats/connection.js'
import {openOpsLog} from '../../src/lib/adapters/nats/ops-events.js'
import type {MorningReport} from '../../src/lib/morning/model.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli, type CliResult} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const DAY_MS = 86_400_000
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString()

describe('cimops morning-check against a sandbox with a bad morning', () => {
  const sandbox = useSandbox()
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let backups: string
  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--backups', backups], home.env)

  beforeAll(async () => {
    const {state} = sandbox()
    home = await isolatedHome()
    await seedSandbox(state.natsServers)
    await mkdir(join(home.env.XDG_CONFIG_HOME, 'cimops'), {recursive: true})
    await writeFile(
      join(home.env.XDG_CONFIG_HOME, 'cimops', 'config.yaml'),
      [
        'current-context: morning',
        'contexts:',
        '  morning:',
        `    nats: {servers: [${state.natsServers.join(', ')}]}`,
        `    prometheus: {url: ${state.prometheusUrl}}`,
        `    alertmanager: {url: ${state.alertmanagerUrl}}`,
        '    thresholds: {lagWarn: 1s, lagCrit: 1h}',
        '    timeout: 3s',
      ].join('\n') + '\n',
    )

    // A firing critical alert about the lagging projection.
    const am = createAlertmanagerClient({url: state.alertmanagerUrl!}, 5000)
    await am.postAlerts([
      {labels: {alertname: 'HighEventProcessingLag', severity: 'critical', domain: 'workflow', consumer: 'workflow-analytics'}, annotations: {summary: 'workflow-analytics is behind'}, startsAt: new Date(Date.now() - 20 * 60_000).toISOString()},
    ])

    // The newest complete backup set is five days old; a fresh set that never finished does not count.
    backups = await mkdtemp(join(tmpdir(), 'cimops-morning-backups-'))
    const set = join(backups, '20261117T030000Z')
    await mkdir(join(set, 'EVENTS'), {recursive: true})
    const manifest = {format: 'cimops-backup/1', cimopsVersion: '0.1.0', serverVersion: '2.9.10', mode: 'snapshot', createdAt: daysAgo(5.01), completedAt: daysAgo(5), durationSeconds: 12, options: {consumers: false, check: false}, streams: [{name: 'EVENTS', dir: 'EVENTS', messages: 437}]}
    await writeFile(join(set, 'manifest.json'), JSON.stringify(manifest))
    await mkdir(join(backups, '20261122T030000Z.partial'))
    await writeFile(join(backups, '20261122T030000Z.partial', 'manifest.json'), JSON.stringify({...manifest, completedAt: daysAgo(0.01)}))

    // The last successful DR drill, forty days ago, in the ops log.
    const settings = {servers: state.natsServers}
    const nc = await connectNats(settings, {timeoutMs: 5000})
    try {
      const log = await openOpsLog(nc, await jetstreamManagerFor(nc, settings, 5000), settings, 'CIM_OPS', 5000)
      await log.publish('cim.ops.drill.dr-20261013.completed', {id: 'dr-20261013', passed: true, finishedAt: daysAgo(40), rtoSeconds: 4.2})
    } finally {
      await nc.close()
    }
    // The seeded lag must pass the 1s warning threshold.
    await new Promise((resolve) => setTimeout(resolve, 1200))
  })

  afterAll(async () => {
    await home?.cleanup()
    if (backups) await rm(backups, {recursive: true, force: true})
  })

  it('reports every area, exits with the Nagios code of the verdict, links actions to runbooks, within 3 s', async () => {
    const result = await cli('morning-check', '--json')
    expect(result.code, result.stderr).toBe(2)
    const report = JSON.parse(result.stdout) as MorningReport
    console.log(`morning-check: ${report.durationSeconds}s inside, ${Math.round(result.durationMs)}ms wall clock including node startup`)
    expect(report.durationSeconds).toBeLessThanOrEqual(3)
    expect(result.durationMs).toBeLessThan(6000)

    expect(report).toMatchObject({status: 'CRITICAL', context: 'morning', window: {seconds: 43200}})
    expect(Object.fromEntries(report.checks.map((c) => [c.name, c.status]))).toMatchObject({alerts: 'CRITICAL', consumers: 'WARNING', gpu: 'OK', backups: 'CRITICAL', drills: 'WARNING'})

    expect(report.alerts.active).toEqual([expect.objectContaining({alertname: 'HighEventProcessingLag', severity: 'critical', runbook: 'high-event-lag'})])
    const lagging = report.consumers.consumers.find((c) => c.name === 'workflow-analytics')!
    expect(lagging).toMatchObject({stream: 'EVENTS', status: 'WARNING', stalled: false})
    expect(lagging.pending).toBeGreaterThan(0)
    expect(lagging.trend).toBeUndefined()
    expect(report.consumers.consumers.filter((c) => c.status === 'OK').length).toBeGreaterThanOrEqual(4)

    expect(report.events).toMatchObject({status: 'OK', source: 'jetstream', stream: 'EVENTS'})
    expect(report.events.windowCount).toBeGreaterThanOrEqual(400)
    expect(report.events.domains.map((d) => d.domain)).toEqual(expect.arrayContaining(['graph', 'workflow']))
    expect(report.events.domains.every((d) => (d.stored ?? 0) > 0 && d.lastEventAt)).toBe(true)

    expect(report.backups).toMatchObject({status: 'CRITICAL', sets: 1, newest: {name: '20261117T030000Z', streams: ['EVENTS']}})
    expect(report.backups.newest!.ageSeconds).toBeGreaterThan(4.9 * 86400)
    expect(report.drills).toMatchObject({status: 'WARNING', lastSuccessful: {id: 'dr-20261013', passed: true}})
    expect(report.drills.summary).toMatch(/^last successful drill 40d ago \(due every 35d\)/)
    expect(report.health.checks.length).toBeGreaterThan(5)
    // The domains section: workflow has the critical alert labelled with its domain and the lagging projection.
    expect(report.domains.status).toBe('CRITICAL')
    expect(report.domains.domains.find((d) => d.domain === 'workflow')).toMatchObject({status: 'CRITICAL', summary: expect.stringContaining('alert HighEventProcessingLag firing (critical)')})
    expect(report.domains.domains.find((d) => d.domain === 'graph')).toMatchObject({status: 'OK'})

    expect(report.actions[0]).toMatchObject({
      status: 'CRITICAL',
      area: 'alerts',
      runbook: 'high-event-lag',
      // Parameters from the alert's labels (Alertmanager gives them sorted).
      command: 'cimops runbook run high-event-lag --all --param CONSUMER=workflow-analytics --param DOMAIN=workflow',
    })
    expect(report.actions).toContainEqual(expect.objectContaining({area: 'backups', runbook: 'backup-restore', command: 'cimops backup create'}))
    expect(report.actions).toContainEqual(expect.objectContaining({area: 'drills', runbook: 'dr-drill', command: 'cimops runbook run dr-drill --all'}))
    // The alert already names workflow-analytics: no second action for the same consumer.
    expect(report.actions.filter((a) => a.area === 'consumers')).toEqual([])
  })

  it('--format md --out writes a report worth pasting; the next run shows the backlog trend', async () => {
    const out = join(backups, 'morning.md')
    const astray = await cli('morning-check', '--out', join(backups, 'no-such-dir', 'morning.md'))
    expect(astray.code).toBe(64)
    expect(astray.stderr).toMatch(/^cimops: cannot write --out .*morning\.md: directory .*no-such-dir does not exist \(/)
    const result = await cli('morning-check', '--format', 'md', '--out', out)
    expect(result.code, result.stderr).toBe(2)
    expect(result.stdout).toMatch(/^CRITICAL Needs attention: Alerts \(CRITICAL\), Backups \(CRITICAL\), .* \(report in .*morning\.md\)\n$/)
    const md = await readFile(out, 'utf8')
    expect(md.split('\n')[0]).toBe('### 🔴 CIM morning check — CRITICAL')
    expect(md).toContain('**Needs attention: Alerts (CRITICAL), Backups (CRITICAL), ')
    expect(md).toContain('| 🔴 | Alerts | CRITICAL | 1 firing (1 critical); 0 episodes resolved in the window |')
    expect(md).toMatch(/1\. 🔴 Alert HighEventProcessingLag \(.*\) firing for 20m\d*s?: workflow-analytics is behind — runbook `high-event-lag`<br>`cimops runbook run high-event-lag --all/)
    expect(md).toContain('| critical | **HighEventProcessingLag** | consumer=workflow-analytics domain=workflow |')
    // The first run kept the backlog: this one compares with it.
    expect(md).toMatch(/\| workflow-analytics \| 🟡 WARNING \| [^|]+ \| \d+ \| (backlog (growing|shrinking) \([+-]?\d+ since the last check\)|backlog unchanged since the last check) \|/)
    expect(md).toContain('- 🔴 Backups: EVENTS last in 20261117T030000Z, 5d old (critical from 3d); CIM_OPS never backed up here; 1 set')
    console.log(md)
  })

  it('an area that cannot be read is UNKNOWN, and the rest of the report still comes', async () => {
    const result = await cli('morning-check', '--alertmanager-url', 'http://127.0.0.1:1', '--timeout', '1s')
    expect(result.code, result.stderr).toBe(2)
    expect(result.stdout).toMatch(/^Alerts\s+UNKNOWN\s+could not be read: cannot reach alertmanager at http:\/\/127\.0\.0\.1:1/m)
    expect(result.stdout).toMatch(/^Backups\s+CRITICAL\s+EVENTS last in 20261117T030000Z, 5d old/m)
    expect(result.stdout).toContain('Recommended actions')
    expect((await cli('morning-check', '--since', '10s')).code).toBe(64)
  })
})
