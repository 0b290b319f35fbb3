/**
 * The judgement of one domain from figures already read: pure, so the rules are tested without servers.
 *
 * - projections: each as `consumer report` judges it (lag against lagWarn/lagCrit, stalled = work pending
 *   and no delivery for stallAfter: CRITICAL; paused on purpose, servers >= 2.11: WARNING; lag unreadable: UNKNOWN);
 * - silence: the usual gap between the domain's events is the mean over its stored events (oldest to newest,
 *   at least MIN_EVENTS_FOR_GAP of them); it is silent, WARNING, when its newest event is older than
 *   silenceFactor such gaps and at least silenceMinSeconds old. Fewer events: never judged silent;
 * - failed events: WARNING when their share of the last hour's events (Prometheus) reaches failedShareWarn;
 * - alerts labelled with the domain: a firing critical one is CRITICAL, a warning WARNING, others are listed;
 * - a source that could not be read for the domain (Alertmanager): UNKNOWN, naming it.
 * Worst wins (core/check/status.ts).
 */
import type {ConsumerRow} from '../streams/consumer-report.js'
import {humanSeconds, severityRank} from '../alerts/model.js'
import {type Status, STATUS_ORDER, worstStatus} from '../core/check/status.js'
import {formatRate, plural} from '../core/output/units.js'
import {type DomainHealth, type DomainThresholds, MIN_EVENTS_FOR_GAP, type ProjectionHealth, type ProjectionState, type Silence} from './model.js'

export function projectionState(row: Pick<ConsumerRow, 'paused' | 'stalled' | 'lagSeconds' | 'status'>): ProjectionState {
  if (row.paused) return 'paused'
  if (row.stalled) return 'stalled'
  if (row.lagSeconds === null) return 'unknown'
  return row.status === 'OK' ? 'ok' : 'behind'
}

export function toProjection(domain: string, row: ConsumerRow): ProjectionHealth {
  return {
    consumer: row.name,
    projection: row.name.startsWith(`${domain}-`) ? row.name.slice(domain.length + 1) : row.name,
    state: projectionState(row),
    status: row.status,
    lagSeconds: row.lagSeconds,
    pending: row.pending,
    reasons: row.reasons,
  }
}

export function judgeSilence(events: {stored: number | null; oldestAt: Date | undefined; newestAt: Date | undefined}, now: Date, thresholds: Pick<DomainThresholds, 'silenceFactor' | 'silenceMinSeconds'>): Silence {
  const {stored, oldestAt, newestAt} = events
  if (stored === null || stored < MIN_EVENTS_FOR_GAP || !oldestAt || !newestAt) return {silent: false, typicalGapSeconds: null, silentAfterSeconds: null}
  const typicalGapSeconds = (newestAt.getTime() - oldestAt.getTime()) / 1000 / (stored - 1)
  const silentAfterSeconds = Math.max(thresholds.silenceFactor * typicalGapSeconds, thresholds.silenceMinSeconds)
  const age = (now.getTime() - newestAt.getTime()) / 1000
  return {silent: age >= silentAfterSeconds, typicalGapSeconds, silentAfterSeconds}
}

/** failed / all of the last hour; null when either is unknown or there were no events. */
export function failedShare(failed: number | null, all: number | null): number | null {
  return failed === null || all === null || all === 0 ? null : failed / all
}

export type JudgeInput = Omit<DomainHealth, 'status' | 'summary' | 'reasons'> & {
  /** Why the domain's alerts could not be read (Alertmanager down). */
  alertsError?: string
}

export function judgeDomain(input: JudgeInput, thresholds: DomainThresholds): DomainHealth {
  const {alertsError, ...health} = input
  const findings: Array<{status: Status; reason: string}> = []
  for (const p of [...health.projections].sort((a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status])) {
    if (p.status !== 'OK') findings.push({status: p.status, reason: `${p.consumer} ${p.state}${p.reasons.length > 0 ? `: ${p.reasons.join(', ')}` : ''}`})
  }
  const {silence, events, failed} = health
  if (silence.silent && events.newestAgeSeconds !== null && silence.typicalGapSeconds !== null) {
    findings.push({status: 'WARNING', reason: `silent: newest event ${humanSeconds(events.newestAgeSeconds)} ago, usually one every ${gapText(silence.typicalGapSeconds)}`})
  }
  if (failed.shareLastHour !== null && failed.shareLastHour >= thresholds.failedShareWarn && failed.lastHour !== null && failed.lastHour > 0) {
    findings.push({status: 'WARNING', reason: `${plural(failed.lastHour, 'failed event')} in the last hour (${percent(failed.shareLastHour)} >= ${percent(thresholds.failedShareWarn)})`})
  }
  for (const alert of health.alerts) {
    const rank = severityRank(alert.severity)
    if (rank <= 1) findings.push({status: rank === 0 ? 'CRITICAL' : 'WARNING', reason: `alert ${alert.alertname} firing (${alert.severity})`})
  }
  if (alertsError) findings.push({status: 'UNKNOWN', reason: `alerts unknown: ${alertsError}`})
  const status = worstStatus(findings.map((f) => f.status))
  const reasons = findings.sort((a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status]).map((f) => f.reason)
  return {...health, status, summary: reasons.length > 0 ? reasons.join('; ') : healthySummary(health), reasons}
}

function healthySummary(health: Omit<DomainHealth, 'status' | 'summary' | 'reasons'>): string {
  const {events, projections} = health
  const rate = events.prometheus.ratePerSecond ?? events.lastFiveMinutes.ratePerSecond
  const parts = [
    ...(rate === null ? [] : [`${formatRate(rate)} now`]),
    events.newestAgeSeconds === null ? 'no events stored' : `newest event ${humanSeconds(events.newestAgeSeconds)} ago`,
    projections.length === 0 ? 'no projections' : `${plural(projections.length, 'projection')} ok`,
  ]
  return parts.join(', ')
}

/** 0.5s, 42s, 3m20s: a gap under a second keeps its tenths. */
function gapText(seconds: number): string {
  return seconds < 1 ? `${Math.max(0.1, Math.round(seconds * 10) / 10)}s` : humanSeconds(seconds)
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`
}

/** The report's one line: counts per status, then the worst domains' reasons. */
export function summarizeDomains(domains: readonly DomainHealth[], stream: string): string {
  if (domains.length === 0) return `no domains on ${stream}: no cim.<domain>.> events and no <domain>-<projection> consumers`
  const counts = (['CRITICAL', 'UNKNOWN', 'WARNING', 'OK'] as const)
    .map((status) => [status, domains.filter((d) => d.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
  const bad = [...domains]
    .filter((d) => d.status !== 'OK')
    .sort((a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status] || a.domain.localeCompare(b.domain))
  const worst = bad.slice(0, 3).map((d) => `${d.domain}: ${d.reasons[0]}`)
  return `${plural(domains.length, 'domain')} on ${stream}: ${counts.join(', ')}${worst.length > 0 ? ` — ${worst.join('; ')}${bad.length > 3 ? `; and ${bad.length - 3} more` : ''}` : ''}`
}
