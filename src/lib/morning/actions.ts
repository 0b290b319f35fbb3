/**
 * What to do about the morning's findings: a short list, worst first, each linked to the runbook that
 * covers it (found by the alert it answers, as `runbook for-alert` finds it) and with the command to type.
 */
import {humanSeconds} from '../alerts/model.js'
import {formatSeconds} from '../core/output/units.js'
import {STATUS_ORDER} from '../core/check/status.js'
import {trendText} from './areas.js'
import type {Action, MorningReport} from './model.js'

export interface RunbookRef {
  id: string
  /** Parameter names the runbook takes. */
  params: string[]
}

export interface RunbookLookup {
  forAlert(alertname: string): RunbookRef | undefined
  byId(id: string): RunbookRef | undefined
}

/** Which alert (and runbook id, failing that) covers each kind of finding. */
export const COVERAGE = {
  lag: {alert: 'HighEventProcessingLag', id: 'high-event-lag'},
  stalled: {alert: 'EventStreamStalled', id: 'event-stream-stalled'},
  nats: {alert: 'NatsConnectionLost', id: 'nats-recovery'},
  jetstream: {alert: 'JetStreamStorageFull', id: 'nats-recovery'},
  memory: {alert: 'HighMemoryUsage', id: 'memory-issues'},
  disk: {alert: 'DiskSpaceLow', id: 'disk-space-low'},
  prometheus: {alert: 'EventMonitorDown', id: 'no-metrics'},
  gpu: {alert: 'GpuUnhealthy', id: 'gpu-failure'},
  backups: {alert: 'BackupTooOld', id: 'backup-restore'},
  drills: {alert: 'DrillOverdue', id: 'dr-drill'},
} as const

export const MAX_ACTIONS = 8

type Findings = Pick<MorningReport, 'alerts' | 'events' | 'consumers' | 'gpu' | 'backups' | 'drills' | 'health' | 'checkedAt'>

export function recommendActions(report: Findings, runbooks: RunbookLookup): Action[] {
  const actions: Action[] = []
  const now = Date.parse(report.checkedAt)
  const cover = (kind: keyof typeof COVERAGE) => runbooks.forAlert(COVERAGE[kind].alert) ?? runbooks.byId(COVERAGE[kind].id)
  const run = (runbook: RunbookRef | undefined, values: Record<string, string | undefined> = {}, how = '--all') => {
    if (!runbook) return undefined
    const params = Object.entries(values)
      .map(([name, value]) => [runbook.params.find((p) => p.toLowerCase() === name.toLowerCase()), value] as const)
      .filter((pair): pair is readonly [string, string] => pair[0] !== undefined && pair[1] !== undefined && pair[1] !== '')
      .map(([name, value]) => ` --param ${name}=${shellQuote(value)}`)
    return `cimops runbook run ${runbook.id} ${how}${[...new Set(params)].join('')}`
  }

  // Alerts firing now: their own runbook (runbook_url or front matter), parameters from their labels.
  for (const alert of report.alerts.active) {
    if (alert.severity !== 'critical' && alert.severity !== 'warning') continue
    const runbook = alert.runbook && !alert.runbook.includes('://') ? runbooks.byId(alert.runbook) : undefined
    const labels = Object.entries(alert.labels).filter(([k]) => k !== 'severity').map(([k, v]) => `${k}=${v}`).join(' ')
    actions.push({
      status: alert.severity === 'critical' ? 'CRITICAL' : 'WARNING',
      area: 'alerts',
      text: `Alert ${alert.alertname}${labels ? ` (${labels})` : ''} firing for ${humanSeconds((now - Date.parse(alert.startsAt)) / 1000)}${alert.summary ? `: ${alert.summary}` : ''}${alert.runbook?.includes('://') ? ` — runbook ${alert.runbook}` : ''}`,
      ...(runbook ? {runbook: runbook.id, command: run(runbook, alert.labels)} : {command: `cimops alerts list ${alert.alertname}`}),
    })
  }
  if (report.alerts.status === 'UNKNOWN') {
    actions.push({status: 'UNKNOWN', area: 'alerts', text: `Alertmanager could not be read: ${report.alerts.error ?? ''}`.trim(), command: 'cimops health-check --component alertmanager'})
  }

  // Consumers behind, unless an alert firing about them already says so.
  const alerted = new Set(report.alerts.active.flatMap((a) => Object.values(a.labels)))
  for (const consumer of report.consumers.consumers.filter((c) => c.status !== 'OK' && !alerted.has(c.name)).slice(0, 3)) {
    // A stalled projection is a lagging one whose service does not pull at all: the lag runbook covers both.
    const runbook = cover('lag')
    const trend = consumer.trend ? `, ${trendText(consumer.trend)}` : ''
    actions.push({
      status: consumer.status,
      area: 'consumers',
      text: `Consumer ${consumer.name} on ${consumer.stream} ${consumer.stalled ? 'is stalled' : `is ${formatSeconds(consumer.lagSeconds)} behind`} with ${consumer.pending} events pending${trend}`,
      ...(runbook ? {runbook: runbook.id} : {}),
      command: run(runbook, {CONSUMER: consumer.name, STREAM: consumer.stream, DOMAIN: consumer.name.split('-')[0]}) ?? `cimops consumer info ${consumer.stream} ${consumer.name}`,
    })
  }

  if (report.events.status !== 'OK') {
    const runbook = cover('stalled')
    actions.push({status: report.events.status, area: 'events', text: `Event flow: ${report.events.summary}`, ...(runbook ? {runbook: runbook.id} : {}), command: run(runbook) ?? 'cimops stream report'})
  }

  // Health checks not covered by another area (the alerts area has read Alertmanager when it is not UNKNOWN).
  for (const check of report.health.checks) {
    if (check.status === 'OK' || check.component === 'consumers' || check.component === 'gpu') continue
    if (check.component === 'alertmanager' && report.alerts.status !== 'UNKNOWN') continue
    const kind =
      check.component === 'nats' ? 'nats' : check.component === 'jetstream' ? 'jetstream' : check.component === 'prometheus' ? 'prometheus' : check.name === 'memory' ? 'memory' : check.name.startsWith('disk') ? 'disk' : undefined
    const runbook = kind ? cover(kind) : undefined
    actions.push({
      status: check.status,
      area: 'health',
      text: `${check.name}: ${check.summary}`,
      ...(runbook ? {runbook: runbook.id} : {}),
      command: run(runbook) ?? `cimops health-check --component ${check.component} --verbose`,
    })
  }
  if (report.health.status === 'UNKNOWN' && report.health.checks.length === 0) {
    actions.push({status: 'UNKNOWN', area: 'health', text: `The health check could not run: ${report.health.error ?? ''}`.trim(), command: 'cimops health-check --verbose'})
  }

  // A fleet that could not be read because NATS is away is the health check's finding, not a GPU one.
  const onlyFleetUnreadable = report.gpu.error !== undefined && report.gpu.nodes.length === 0 && (report.gpu.local?.status ?? 'OK') === 'OK'
  if (report.gpu.status !== 'OK' && !onlyFleetUnreadable) {
    const runbook = cover('gpu')
    const draining = report.gpu.nodes.filter((n) => n.state !== 'active')
    actions.push({
      status: report.gpu.status,
      area: 'gpu',
      text: `GPUs: ${report.gpu.summary}`,
      ...(runbook ? {runbook: runbook.id} : {}),
      command: draining.length > 0 ? 'cimops gpu nodes' : runbook ? `cimops runbook show ${runbook.id}` : 'cimops health-check --component gpu --verbose',
    })
  }

  if (report.backups.status !== 'OK') {
    const runbook = cover('backups')
    actions.push({
      status: report.backups.status,
      area: 'backups',
      text: report.backups.newest ? `Backups are ${humanSeconds(report.backups.newest.ageSeconds)} old: take one and check the schedule` : `No backup set in ${report.backups.dir}: take one`,
      ...(runbook ? {runbook: runbook.id} : {}),
      command: 'cimops backup create',
    })
  }
  if (report.drills.status !== 'OK') {
    const runbook = cover('drills')
    actions.push({
      status: report.drills.status,
      area: 'drills',
      text: report.drills.lastSuccessful ? `DR drill overdue: last successful one ${humanSeconds(report.drills.lastSuccessful.ageSeconds)} ago` : report.drills.last ? 'The last DR drill failed: find out why and drill again' : 'No DR drill on record: schedule the monthly drill',
      ...(runbook ? {runbook: runbook.id} : {}),
      command: run(runbook) ?? 'cimops drill --format md',
    })
  }

  return actions
    .map((action, order) => ({action, order}))
    .sort((a, b) => STATUS_ORDER[b.action.status] - STATUS_ORDER[a.action.status] || a.order - b.order)
    .slice(0, MAX_ACTIONS)
    .map(({action}) => action)
}

/** Shell-safe as typed: bare when plain, single-quoted otherwise. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}
