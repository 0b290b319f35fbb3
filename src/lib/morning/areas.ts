/**
 * The judgement of each area of the morning check, from data already read: pure functions, so the
 * rules are tested without servers. Reading the data is sources.ts; putting it together is service.ts.
 */
import type {Episode} from '../alerts/model.js'
import {humanSeconds, severityRank, sortAlerts} from '../alerts/model.js'
import {type Status, worstStatus} from '../core/check/status.js'
import {formatRate, formatSeconds, plural} from '../core/output/units.js'
import type {CheckResult} from '../core/check/result.js'
import type {HealthReport} from '../health/service.js'
import type {
  ActiveAlert,
  AlertsArea,
  BackupSetInfo,
  BackupsArea,
  ConsumerLine,
  ConsumersArea,
  DomainRate,
  DrillInfo,
  DrillsArea,
  EventsArea,
  GpuArea,
  GpuNode,
  HealthArea,
} from './model.js'

/** An area that could not be read: UNKNOWN, with why. */
export function unknownArea(error: unknown): {status: Status; summary: string; error: string} {
  const message = error instanceof Error && 'line' in error ? String((error as {line: string}).line) : error instanceof Error ? error.message : String(error)
  return {status: 'UNKNOWN', summary: `could not be read: ${message}`, error: message}
}

// ---------------------------------------------------------------------------------------------
// Alerts

export interface AlertInput {
  alertname: string
  severity: string | null
  state: string
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
  fingerprint: string
  runbook: {source: 'annotation'; url: string} | {source: 'runbooks'; name: string} | null
}

/** Firing critical alerts make the morning CRITICAL, warnings WARNING; info and silenced ones are listed, not judged. */
export function judgeAlerts(alerts: readonly AlertInput[], overnight: Episode[] | {error: string}): AlertsArea {
  const active = sortAlerts(alerts.filter((a) => a.state === 'active'))
  const suppressed = alerts.length - active.length
  const status: Status = active.some((a) => severityRank(a.severity) === 0) ? 'CRITICAL' : active.some((a) => severityRank(a.severity) === 1) ? 'WARNING' : 'OK'
  const episodes = Array.isArray(overnight) ? overnight : []
  const resolved = episodes.filter((e) => !e.stillFiring)
  const bySeverity = new Map<string, number>()
  for (const alert of active) bySeverity.set(alert.severity ?? 'no severity', (bySeverity.get(alert.severity ?? 'no severity') ?? 0) + 1)
  const firing = active.length === 0 ? 'nothing firing' : `${active.length} firing (${[...bySeverity].map(([s, n]) => `${n} ${s}`).join(', ')})`
  const history = Array.isArray(overnight)
    ? `${plural(resolved.length, 'episode')} resolved in the window`
    : 'history unavailable'
  return {
    status,
    summary: `${firing}; ${history}${suppressed > 0 ? `; ${suppressed} silenced or inhibited` : ''}`,
    active: active.map(
      (a): ActiveAlert => ({
        alertname: a.alertname,
        severity: a.severity,
        labels: Object.fromEntries(Object.entries(a.labels).filter(([k]) => k !== 'alertname')),
        ...(a.annotations.summary ? {summary: a.annotations.summary} : a.annotations.description ? {summary: a.annotations.description} : {}),
        startsAt: a.startsAt,
        ...(a.runbook ? {runbook: a.runbook.source === 'annotation' ? a.runbook.url : a.runbook.name} : {}),
      }),
    ),
    suppressed,
    overnight: episodes,
    ...(Array.isArray(overnight) ? {} : {historyError: overnight.error}),
  }
}

// ---------------------------------------------------------------------------------------------
// Event rates

export function judgeEvents(input: {source: EventsArea['source']; stream?: string; domains: DomainRate[]; windowCount: number | null; ratePerSecond: number | null; windowSeconds: number}): EventsArea {
  const domains = [...input.domains].sort((a, b) => (b.windowCount ?? b.stored ?? 0) - (a.windowCount ?? a.stored ?? 0) || a.domain.localeCompare(b.domain))
  const window = humanSeconds(input.windowSeconds)
  let status: Status = 'OK'
  let summary: string
  if (input.source === 'none') {
    summary = 'no event stream and no monitor metrics'
    status = 'WARNING'
  } else if (input.windowCount === 0) {
    status = 'WARNING'
    summary = `no events in the last ${window}${input.stream ? ` on ${input.stream}` : ''}`
  } else {
    const rate = input.ratePerSecond === null ? '' : `, ${formatRate(input.ratePerSecond)} now`
    const count = input.windowCount === null ? '' : `${approx(input.source)}${input.windowCount.toLocaleString('en-US')} events in ${window}`
    summary = `${count}${rate}; ${plural(domains.length, 'domain')}`.replace(/^, /, '')
  }
  return {status, summary, source: input.source, ...(input.stream ? {stream: input.stream} : {}), domains, windowCount: input.windowCount, ratePerSecond: input.ratePerSecond}
}

function approx(source: EventsArea['source']): string {
  return source === 'jetstream' ? '≈' : ''
}

// ---------------------------------------------------------------------------------------------
// Consumers

export interface PendingSnapshot {
  at: string
  /** `<stream>/<consumer>` -> pending. */
  pending: Record<string, number>
}

/** The consumer checks of the health report, with the backlog trend since the previous morning check. */
export function judgeConsumers(checks: readonly CheckResult[], previous: PendingSnapshot | undefined): ConsumersArea {
  const metric = (check: CheckResult, name: string) => check.metrics.find((m) => m.name === name)?.value ?? 0
  const consumerChecks = checks.filter((c) => c.component === 'consumers')
  const lines: ConsumerLine[] = consumerChecks
    .filter((c) => c.name.startsWith('consumer:'))
    .map((check) => {
      const stream = typeof check.details?.stream === 'string' ? check.details.stream : ''
      const name = check.name.slice('consumer:'.length)
      const unprocessed = metric(check, 'unprocessed')
      const ackPending = metric(check, 'ack_pending')
      const pending = unprocessed + ackPending
      const before = previous?.pending[`${stream}/${name}`]
      return {
        stream,
        name,
        status: check.status,
        lagSeconds: metric(check, 'lag'),
        pending,
        unprocessed,
        ackPending,
        stalled: check.details?.stalled === true,
        summary: check.summary,
        ...(before === undefined || !previous
          ? {}
          : {trend: {previousPending: before, previousAt: previous.at, deltaPending: pending - before, direction: pending > before ? 'growing' : pending < before ? 'shrinking' : 'steady'} as const}),
      }
    })
    .sort((a, b) => statusRank(b.status) - statusRank(a.status) || b.lagSeconds - a.lagSeconds || a.name.localeCompare(b.name))
  // "stream does not exist" and similar come as one check named `consumers`.
  const whole = consumerChecks.find((c) => c.name === 'consumers')
  const status = worstStatus(consumerChecks.map((c) => c.status))
  const behind = lines.filter((l) => l.status !== 'OK')
  let summary: string
  if (lines.length === 0) summary = whole?.summary ?? 'no consumers'
  else if (behind.length === 0) summary = `all ${plural(lines.length, 'consumer')} within thresholds${pendingNote(lines)}`
  else {
    const worst = behind[0]
    const trend = worst.trend ? `, ${trendText(worst.trend)}` : ''
    summary = `${behind.length} of ${plural(lines.length, 'consumer')} behind: ${worst.name} ${worst.stalled ? 'STALLED, ' : ''}lag ${formatSeconds(worst.lagSeconds)}, ${worst.pending} pending${trend}${behind.length > 1 ? `; and ${behind.length - 1} more` : ''}`
  }
  return {status, summary, consumers: lines, ...(previous ? {previousCheckAt: previous.at} : {})}
}

function pendingNote(lines: ConsumerLine[]): string {
  const pending = lines.reduce((sum, l) => sum + l.pending, 0)
  return pending > 0 ? ` (${pending} pending)` : ''
}

export function trendText(trend: {deltaPending: number; direction: string; previousAt: string}): string {
  if (trend.direction === 'steady') return 'backlog unchanged since the last check'
  return `backlog ${trend.direction} (${trend.deltaPending > 0 ? '+' : ''}${trend.deltaPending} since the last check)`
}

export function snapshotOf(area: ConsumersArea, at: string): PendingSnapshot {
  return {at, pending: Object.fromEntries(area.consumers.map((c) => [`${c.stream}/${c.name}`, c.pending]))}
}

function statusRank(status: Status): number {
  return {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}[status]
}

// ---------------------------------------------------------------------------------------------
// GPU fleet

/** This host's GPUs (health check) and the fleet's nodes (KV): a node not active, or reporting bad health, is a warning or worse. */
export function judgeGpu(local: {status: Status; summary: string} | undefined, nodes: GpuNode[], fleetError?: string): GpuArea {
  const nodeStatus = (node: GpuNode): Status => {
    const health = (node.health ?? '').toUpperCase()
    if (health === 'CRITICAL') return 'CRITICAL'
    if (health === 'WARNING' || node.state !== 'active') return 'WARNING'
    return 'OK'
  }
  const statuses = [...(local ? [local.status] : []), ...nodes.map(nodeStatus), ...(fleetError ? (['UNKNOWN'] as const) : [])]
  const notActive = nodes.filter((n) => n.state !== 'active')
  const unhealthy = nodes.filter((n) => nodeStatus(n) !== 'OK' && n.state === 'active')
  const fleet = fleetError
    ? `fleet could not be read: ${fleetError}`
    : nodes.length === 0
      ? 'no fleet registered'
      : `${plural(nodes.length, 'node')}${notActive.length > 0 ? `, ${notActive.map((n) => `${n.node} ${n.state}`).join(', ')}` : ', all active'}${unhealthy.length > 0 ? `, unhealthy: ${unhealthy.map((n) => n.node).join(', ')}` : ''}`
  return {
    status: worstStatus(statuses),
    summary: `${local ? `${local.summary}; ` : ''}${fleet}`,
    ...(local ? {local} : {}),
    nodes,
    ...(fleetError ? {error: fleetError} : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// Backups and drills

/**
 * Backups judged per stream that matters (the context's events and ops streams): each by the newest set
 * that holds it, so a recent set of a test stream does not make the events stream look backed up.
 */
export function judgeBackups(dir: string, sets: BackupSetInfo[], streams: readonly string[], thresholds: {warnSeconds: number; critSeconds: number}): BackupsArea {
  const byAge = [...sets].sort((a, b) => a.ageSeconds - b.ageSeconds)
  const newest = byAge[0]
  const base = {dir, sets: sets.length, warnSeconds: thresholds.warnSeconds, critSeconds: thresholds.critSeconds}
  if (!newest) return {...base, status: 'WARNING', summary: `no backup set in ${dir}: never backed up here`, streams: streams.map((stream) => ({stream, status: 'WARNING' as const}))}
  const judged = streams.map((stream): BackupsArea['streams'][number] => {
    const set = byAge.find((candidate) => candidate.streams.includes(stream))
    if (!set) return {stream, status: 'WARNING'}
    const status: Status = set.ageSeconds >= thresholds.critSeconds ? 'CRITICAL' : set.ageSeconds >= thresholds.warnSeconds ? 'WARNING' : 'OK'
    return {stream, status, set: set.name, ageSeconds: set.ageSeconds}
  })
  const status = worstStatus(judged.map((s) => s.status))
  const limit = (s: Status) => (s === 'CRITICAL' ? ` (critical from ${humanSeconds(thresholds.critSeconds)})` : s === 'WARNING' ? ` (warning from ${humanSeconds(thresholds.warnSeconds)})` : '')
  const allInNewest = judged.every((s) => s.set === newest.name)
  const summary = allInNewest
    ? `newest set ${newest.name} is ${humanSeconds(newest.ageSeconds)} old${limit(status)}`
    : judged.map((s) => (s.set === undefined ? `${s.stream} never backed up here` : `${s.stream} last in ${s.set}, ${humanSeconds(s.ageSeconds!)} old${limit(s.status)}`)).join('; ')
  return {...base, status, summary: `${summary}; ${plural(sets.length, 'set')}`, newest, streams: judged}
}

export function judgeDrills(drills: DrillInfo[], warnSeconds: number): DrillsArea {
  const sorted = [...drills].sort((a, b) => a.ageSeconds - b.ageSeconds)
  const last = sorted[0]
  const lastSuccessful = sorted.find((d) => d.passed)
  const base = {warnSeconds, ...(last ? {last} : {}), ...(lastSuccessful ? {lastSuccessful} : {})}
  if (!last) return {...base, status: 'WARNING', summary: 'never drilled: no drill in the ops log'}
  if (!lastSuccessful) return {...base, status: 'WARNING', summary: `no successful drill; the last one failed ${humanSeconds(last.ageSeconds)} ago`}
  const failedSince = !last.passed ? `; the last one failed ${humanSeconds(last.ageSeconds)} ago` : ''
  const status: Status = lastSuccessful.ageSeconds >= warnSeconds || !last.passed ? 'WARNING' : 'OK'
  return {...base, status, summary: `last successful drill ${humanSeconds(lastSuccessful.ageSeconds)} ago${lastSuccessful.ageSeconds >= warnSeconds ? ` (due every ${humanSeconds(warnSeconds)})` : ''}${failedSince}`}
}

// ---------------------------------------------------------------------------------------------
// Health

export function judgeHealth(report: HealthReport): HealthArea {
  const bad = report.checks.filter((c) => c.status !== 'OK').sort((a, b) => statusRank(b.status) - statusRank(a.status) || a.name.localeCompare(b.name))
  const names = bad.slice(0, 3).map((c) => `${c.name} ${c.status}`).join(', ') + (bad.length > 3 ? `, and ${bad.length - 3} more` : '')
  return {
    status: report.status,
    summary: `score ${report.score}/100; ${bad.length === 0 ? `all ${report.checks.length} checks OK` : `${bad.length} of ${report.checks.length} checks not OK: ${names}`}`,
    score: report.score,
    checks: report.checks.map((c) => ({name: c.name, component: c.component, status: c.status, summary: c.summary})),
  }
}

export function describeAge(iso: string, now: Date): string {
  return `${humanSeconds((now.getTime() - Date.parse(iso)) / 1000)} ago`
}
