/** Typed results of the alerts services and the pure rules they share: severity order, sorting, grouping, states. */
import type {Matcher} from './matchers.js'

/** What an alert looks like to cimops; the Alertmanager fields are kept as the API gives them. */
export interface AlertView {
  fingerprint: string
  alertname: string
  /** The `severity` label, or null when the alert has none. */
  severity: string | null
  /**
   * silenced wins over inhibited when both apply; silencedBy/inhibitedBy tell the whole story. An alert
   * muted by a time interval stays active, as Alertmanager's state filters have it: it fires, and its
   * notifications wait for the interval to end (mutedBy).
   */
  state: AlertState
  labels: Record<string, string>
  annotations: Record<string, string>
  /** RFC 3339. */
  startsAt: string
  endsAt: string
  updatedAt: string
  generatorURL?: string
  receivers: string[]
  silencedBy: string[]
  inhibitedBy: string[]
  /** Names of the time intervals muting it (Alertmanager 0.28+); [] on older servers, which do not say. */
  mutedBy: string[]
  runbook: RunbookRef | null
}

export type AlertState = 'active' | 'silenced' | 'inhibited' | 'unprocessed'

export type RunbookRef = {source: 'annotation'; url: string} | {source: 'runbooks'; name: string; path: string}

/** The Alertmanager API v2 alert fields these helpers read. */
export interface ApiAlertLike {
  fingerprint: string
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
  endsAt: string
  updatedAt: string
  generatorURL?: string
  receivers: Array<{name: string}>
  status: {state: 'unprocessed' | 'active' | 'suppressed'; silencedBy: string[]; inhibitedBy: string[]; mutedBy?: string[]}
}

export function alertState(alert: ApiAlertLike): AlertState {
  if (alert.status.silencedBy.length > 0) return 'silenced'
  if (alert.status.inhibitedBy.length > 0) return 'inhibited'
  return alert.status.state === 'unprocessed' ? 'unprocessed' : 'active'
}

export function toAlertView(alert: ApiAlertLike, runbook: RunbookRef | null = null): AlertView {
  return {
    fingerprint: alert.fingerprint,
    alertname: alert.labels.alertname ?? '',
    severity: alert.labels.severity ?? null,
    state: alertState(alert),
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt,
    updatedAt: alert.updatedAt,
    ...(alert.generatorURL ? {generatorURL: alert.generatorURL} : {}),
    receivers: alert.receivers.map((receiver) => receiver.name),
    silencedBy: alert.status.silencedBy,
    inhibitedBy: alert.status.inhibitedBy,
    mutedBy: alert.status.mutedBy ?? [],
    runbook,
  }
}

export const SEVERITY_ORDER = ['critical', 'warning', 'info'] as const

/** critical 0, warning 1, info 2, anything else (or none) 3; case-insensitive. */
export function severityRank(severity: string | null | undefined): number {
  const rank = SEVERITY_ORDER.indexOf((severity ?? '').toLowerCase() as (typeof SEVERITY_ORDER)[number])
  return rank === -1 ? SEVERITY_ORDER.length : rank
}

/** Most severe first, then oldest first; alertname and fingerprint make the order total. */
export function compareAlerts(a: Pick<AlertView, 'severity' | 'startsAt' | 'alertname' | 'fingerprint'>, b: typeof a): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    Date.parse(a.startsAt) - Date.parse(b.startsAt) ||
    a.alertname.localeCompare(b.alertname) ||
    a.fingerprint.localeCompare(b.fingerprint)
  )
}

export function sortAlerts<T extends Pick<AlertView, 'severity' | 'startsAt' | 'alertname' | 'fingerprint'>>(alerts: readonly T[]): T[] {
  return [...alerts].sort(compareAlerts)
}

export interface AlertGroup<T> {
  /** The label's value; null when the alerts do not have the label. */
  value: string | null
  alerts: T[]
}

/**
 * Groups already sorted alerts by one label. A group comes where its first alert comes, so grouping
 * by severity lists critical first and grouping by domain puts the domain with the worst alert first.
 */
export function groupAlerts<T extends {labels: Record<string, string>}>(sorted: readonly T[], label: string): Array<AlertGroup<T>> {
  const groups = new Map<string | null, T[]>()
  for (const alert of sorted) {
    const value = alert.labels[label] ?? null
    groups.set(value, [...(groups.get(value) ?? []), alert])
  }
  return [...groups.entries()].map(([value, alerts]) => ({value, alerts}))
}

/** Labels worth showing next to the alertname: all but alertname, severity and the ones already shown elsewhere. */
export function keyLabels(labels: Record<string, string>, omit: readonly string[] = []): string {
  return Object.entries(labels)
    .filter(([name]) => name !== 'alertname' && name !== 'severity' && !omit.includes(name))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')
}

/** 42s, 3m20s, 2h5m, 3d4h: whole seconds, two adjacent units at most. */
export function humanSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) => (small > 0 ? `${big}${bigUnit}${small}${smallUnit}` : `${big}${bigUnit}`)
  if (s < 60) return `${s}s`
  if (s < 3600) return two(Math.floor(s / 60), 'm', s % 60, 's')
  if (s < 86_400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'm')
  return two(Math.floor(s / 86_400), 'd', Math.floor((s % 86_400) / 3600), 'h')
}

/** A relative time in the past, coarse enough to read at a glance: 42s ago, 40m ago, 2h5m ago, 3d4h ago. */
export function ago(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  return `${s >= 60 && s < 3600 ? `${Math.floor(s / 60)}m` : humanSeconds(s)} ago`
}

export type MatcherView = Pick<Matcher, 'name' | 'op' | 'value'>

// ---------------------------------------------------------------------------------------------
// Results of the services (the --json output of the commands)

export interface AlertListResult {
  /** Sorted: severity (critical, warning, info, other), then oldest first. */
  alerts: AlertView[]
  /** With --group-by: the label and the groups, in the order of their first alert. */
  groupBy?: string
  groups?: Array<{value: string | null; count: number; fingerprints: string[]}>
  /** Problems that did not stop the listing, such as a runbook with bad front matter. */
  warnings: string[]
  /** When nothing matched: the likely typo, e.g. a label no alert has (with the labels that exist). */
  hints: string[]
}

export interface Episode {
  alertname: string
  /** The alert's labels without alertname and alertstate. */
  labels: Record<string, string>
  /** RFC 3339: the first step at which the alert was seen firing. */
  from: string
  /** RFC 3339: the last step at which it was seen firing; null while still firing. */
  to: string | null
  stillFiring: boolean
  durationSeconds: number
}

export interface AlertHistoryResult {
  /** RFC 3339 window. */
  from: string
  to: string
  stepSeconds: number
  /** The PromQL that was run. */
  query: string
  /** Sorted by start, then alertname. */
  episodes: Episode[]
  /** What Prometheus said beside the answers: warnings (the answer may be incomplete), infos (2.54+, hints). */
  warnings: string[]
  infos: string[]
}

export interface SilenceView {
  id: string
  state: 'active' | 'pending' | 'expired'
  matchers: MatcherView[]
  startsAt: string
  endsAt: string
  updatedAt: string
  createdBy: string
  comment: string
  /** Alertmanager 0.32+; {} where none, and on older servers. */
  annotations: Record<string, string>
  /** Until endsAt; 0 once expired. */
  remainingSeconds: number
  /** Current alerts (any state) its matchers match. */
  matchingAlerts: number
}

export interface SilenceListResult {
  silences: SilenceView[]
  /** Current alerts the counts were taken against. */
  alerts: number
}
