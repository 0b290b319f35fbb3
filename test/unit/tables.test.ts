/**
 * The house rules for tables (src/lib/core/output/table.ts) on the renderers of the commands, with long
 * real names, at 80, 120 and 200 columns: key columns whole, no line wider than the width when a fit is
 * possible, no two rows that read alike. The stream and consumer tables are in streams/render.test.ts,
 * the gpu, morning and backup ones beside their other tests.
 */
import {describe, expect, it} from 'vitest'

import {renderAlertHistory} from '../../src/lib/alerts/render-history.js'
import type {AuditListResult} from '../../src/lib/audit/list.js'
import {renderAuditList} from '../../src/lib/audit/render.js'
import {renderContextList} from '../../src/lib/contexts/render.js'
import {createStyle} from '../../src/lib/core/output/style.js'
import type {DeployLintResult} from '../../src/lib/deploy/lint.js'
import {renderDeployLint} from '../../src/lib/deploy/render.js'
import {renderEmergency} from '../../src/lib/emergency/render.js'
import type {EmergencyResult} from '../../src/lib/emergency/service.js'
import {renderReport as renderHealth} from '../../src/lib/health/render.js'
import {renderIncident, renderList as renderIncidentList} from '../../src/lib/incident/render.js'
import type {IncidentSummary, IncidentView} from '../../src/lib/incident/service.js'
import {renderCounts} from '../../src/lib/replay/render.js'
import {loadRunbooks, packageRunbooksDir} from '../../src/lib/runbooks/load.js'
import {renderRunbookList} from '../../src/lib/runbooks/render.js'
import {renderProcesses, renderSeededConsumers} from '../../src/lib/sandbox/render.js'
import type {ProcessStatus} from '../../src/lib/sandbox/types.js'
import {expectFits, WIDTHS} from './core/output/fits.js'

const style = createStyle({noColor: true})
/** Text without its layout: free text wrapped in the last column reads back whole. */
const squeezed = (text: string) => text.replaceAll(/\s+/g, '')
/** The words of the last column, from its header down, however it wrapped. */
const lastColumn = (text: string, header: string) => {
  const start = text.split('\n')[0].indexOf(header)
  return squeezed(text.split('\n').map((line) => line.slice(start)).join(''))
}
const LONG = 'workflow-analytics-projection-eu-west-1'
/** 70 characters, as an incident commander types them at 3 a.m. */
const TITLE = 'Graph projection stalled after the 02:00 deploy, workflow lag over 900s'

const incidents: IncidentSummary[] = [
  {id: 'INC-20261205-0207-a1', title: TITLE, severity: 'critical', status: 'open', commander: 'alice.johnson@ops-eu-west-1', declaredAt: '2026-12-05T02:07:00.000Z', declaredBy: {user: 'alice', host: 'ops-1'}, durationSeconds: 5400, notifications: {alertmanager: {action: 'trigger', outcome: 'sent', at: '2026-12-05T02:07:01.000Z', attempts: 1}, slack: {action: 'trigger', outcome: 'failed', at: '2026-12-05T02:07:02.000Z', attempts: 3, error: 'slack webhook answered 500 Internal Server Error three times'}}},
  {id: 'INC-20261205-0207-b2', title: `${TITLE} (eu-west-2)`, severity: 'major', status: 'resolved', declaredAt: '2026-12-05T02:07:30.000Z', declaredBy: {user: 'bob', host: 'ops-2'}, resolvedAt: '2026-12-05T03:00:00.000Z', durationSeconds: 3150, notifications: {}},
]

describe.each(WIDTHS)('at %d columns', (width) => {
  it('incident list: ids whole, the 70-character title wrapped, never cut', () => {
    const text = expectFits((w) => renderIncidentList(incidents, 'all', {style, width: w}), width, incidents.map((i) => [i.id]))
    expect(text).not.toContain('…')
    expect(lastColumn(text, 'TITLE')).toContain(squeezed(TITLE))
  })

  it('incident show: notifications and timeline keep their keys', () => {
    const view = {
      ...incidents[0],
      summary: 'workflow-analytics stopped acking',
      timeline: [
        {at: '2026-12-05T02:07:00.000Z', by: 'alice@ops-1', type: 'IncidentDeclared', text: TITLE},
        {at: '2026-12-05T02:15:00.000Z', by: 'alice@ops-1', type: 'IncidentNoteAdded', text: `restarted ${LONG}; lag falling at 40 events/s, expected caught up by 02:40 if the rate holds`},
      ],
    } as unknown as IncidentView
    const text = expectFits((w) => renderIncident(view, {style, width: w}), width, [['alertmanager'], ['slack'], ['2026-12-05 02:07:00Z'], ['2026-12-05 02:15:00Z']])
    expect(squeezed(text)).toContain('threetimes')
  })

  it('runbook list (the shipped runbooks): ids whole, ALERTS wrapped in a block of at most 40', async () => {
    const {runbooks} = await loadRunbooks([packageRunbooksDir()])
    const text = expectFits((w) => renderRunbookList(runbooks, style, w), width, runbooks.map((r) => [r.id]))
    const header = text.split('\n')[0]
    const alerts = header.indexOf('ALERTS')
    expect(header.indexOf('STEPS') - alerts).toBeLessThanOrEqual(42)
    expect(text).not.toContain('…')
  })

  it('audit list: time and command whole, arguments wrapped', () => {
    const at = (s: number) => `2026-12-05T02:${String(s).padStart(2, '0')}:00.000Z`
    const events = [
      {id: '1', type: 'OperatorActionRecorded', command: 'alerts silence add', actor: {user: 'alice.johnson', host: 'ops-eu-west-1.internal'}, at: at(10), args: ['alerts', 'silence', 'add', `consumer=${LONG}`, 'domain=workflow', '--duration', '2h', '--comment', 'deploy of the analytics service, see INC-20261205-0207-a1'], outcome: 'success', exitCode: 0, durationSeconds: 0.4, spooled: false},
      {id: '2', type: 'OperatorActionRecorded', command: 'restore', actor: {user: 'bob', host: 'ops-2'}, at: at(11), args: ['restore', '/var/backups/cim/2026-12-05T0200Z', '--stream', 'EVENTS', '--force'], outcome: 'failure', exitCode: 2, durationSeconds: 12.3, spooled: true},
    ] as AuditListResult['events']
    const result = {since: at(0), events, skipped: 0}
    const text = expectFits((w) => renderAuditList(result, new Date(at(0)), {style, width: w}), width, [['2026-12-05 02:10:00Z', 'alerts silence add'], ['2026-12-05 02:11:00Z', 'restore']])
    expect(squeezed(text)).toContain(squeezed('deploy of the analytics service, see INC-20261205-0207-a1'))
    expect(text).not.toContain('…')
  })

  it('context list: names whole', () => {
    const contexts = [
      {name: 'prod-eu-west-1', current: true, nats: 'nats://nats-1.prod-eu-west-1.internal:4222,nats://nats-2.prod-eu-west-1.internal:4222', prometheus: 'http://prometheus.prod-eu-west-1.internal:9090', alertmanager: 'http://alertmanager.prod-eu-west-1.internal:9093'},
      {name: 'prod-eu-west-2', current: false, nats: 'nats://nats-1.prod-eu-west-2.internal:4222'},
    ]
    expectFits((w) => renderContextList({file: '/home/a/.config/cimops/config.yaml', contexts}, {style, width: w}), width, [['prod-eu-west-1'], ['prod-eu-west-2']])
  })

  it('sandbox status and seed: process and consumer names whole', () => {
    const processes: ProcessStatus[] = [1, 2, 3].map((n) => ({name: `nats-${n}`, component: 'nats', pid: 41_000 + n, url: `nats://127.0.0.1:${4221 + n}`, port: 4221 + n, version: '2.10.27', configFile: `/tmp/sandbox/nats-${n}.conf`, dataDir: `/tmp/sandbox/nats-${n}`, logFile: `/tmp/sandbox/nats-${n}.log`, argv: [], alive: true, healthy: n !== 3, detail: n === 3 ? 'healthz: JetStream is not current with the meta leader (catching up after restart)' : 'ready, routed to 2 peers'}))
    expectFits((w) => renderProcesses(processes, style, w), width, processes.map((p) => [p.name]))
    const consumers = [{name: LONG, stream: 'EVENTS', pending: 41, ackPending: 12}, {name: 'workflow-analytics-projection-eu-west-2', stream: 'EVENTS', pending: 0, ackPending: 0}]
    expectFits((w) => renderSeededConsumers(consumers, style, w), width, consumers.map((c) => [c.name, c.stream]))
  })

  it('health-check: check names whole, summaries wrapped (--verbose metrics too)', () => {
    const checks = [
      {name: 'consumer:EVENTS/workflow-analytics-projection-eu-west-1', component: 'jetstream', status: 'CRITICAL' as const, summary: 'lag 15m4s >= 1m (default), 12345 pending, no delivery for 6m1s (stalled)', metrics: [{name: 'lag_seconds', value: 904}, {name: 'pending', value: 12_345}]},
      {name: 'consumer:EVENTS/workflow-analytics-projection-eu-west-2', component: 'jetstream', status: 'OK' as const, summary: 'lag 0s', metrics: [{name: 'lag_seconds', value: 0}]},
    ]
    const report = {status: 'CRITICAL' as const, summary: '1 of 2 checks CRITICAL', checks, durationSeconds: 0.4, score: 50}
    expectFits((w) => renderHealth(report, style, {width: w}), width, checks.map((c) => [c.name]))
    expectFits((w) => renderHealth(report, style, {width: w, verbose: true}), width, checks.map((c) => [c.name]))
  })

  it('deploy lint: check names whole, files and details wrapped', () => {
    const checks = ['prometheus-rules', 'prometheus-rule-tests', 'dashboard-metrics'].map((name, i) => ({name, tool: i === 2 ? 'cimops' : 'promtool', file: `prometheus/rules/${LONG}-alerts.yml`, status: i === 1 ? 'failed' : 'passed', detail: i === 1 ? 'alert HighEventProcessingLag for consumer workflow-analytics did not fire at 5m: expected 1 alert, got 0' : '12 rules, 4 groups', problems: []}))
    const result = {dir: '/srv/cim/deploy', ok: false, passed: 2, failed: 1, skipped: 0, checks} as unknown as DeployLintResult
    expectFits((w) => renderDeployLint(result, style, w), width, checks.map((c) => [c.name]))
  })

  it('emergency stop: stream and consumer whole', () => {
    const consumers = [
      {stream: 'EVENTS', name: LONG, outcome: 'paused', pauseUntil: '2026-12-05T06:00:00.000Z'},
      {stream: 'EVENTS', name: 'workflow-analytics-projection-eu-west-2', outcome: 'failed', error: 'consumer pause answered 503: JetStream not enabled for account on nats-eu-west-1-c'},
    ]
    const result = {action: 'stop', domain: 'workflow', subject: 'cim.ops.emergency.stop', dryRun: false, broadcastOnly: false, consumers, message: ''} as unknown as EmergencyResult
    expectFits((w) => renderEmergency(result, {style, width: w}), width, consumers.map((c) => [c.stream, c.name]))
  })

  it('replay dry run: domains and event types whole', () => {
    const counts = {WorkflowAnalyticsProjectionRebuildRequested: 12, WorkflowCompleted: 400, NodeAdded: 3}
    expectFits((w) => renderCounts('EVENT TYPE', counts, {style, width: w}), width, Object.keys(counts).map((k) => [k]))
  })

  it('alerts history: two alerts of one name told apart by their labels, wrapped', () => {
    const labels = (region: string) => ({severity: 'critical', domain: 'workflow', consumer: LONG, stream: 'EVENTS', region, cluster: `nats-${region}`, team: 'cim-platform', instance: 'monitor-1.internal:9091'})
    const episodes = [
      {alertname: 'HighEventProcessingLag', labels: labels('eu-west-1'), from: '2026-12-05T02:00:00.000Z', to: null, stillFiring: true, durationSeconds: 3600},
      {alertname: 'HighEventProcessingLag', labels: labels('eu-west-2'), from: '2026-12-05T02:00:00.000Z', to: '2026-12-05T02:30:00.000Z', stillFiring: false, durationSeconds: 1800},
    ]
    const result = {from: '2026-12-04T15:00:00.000Z', to: '2026-12-05T03:00:00.000Z', stepSeconds: 15, query: 'ALERTS', episodes}
    const text = expectFits((w) => renderAlertHistory(result, 'the last 12h', {style, width: w}), width, episodes.map((e) => [e.alertname]))
    expect(text).not.toContain('…')
    expect(squeezed(text)).toContain('region=eu-west-1')
    expect(squeezed(text)).toContain('region=eu-west-2')
  })
})
