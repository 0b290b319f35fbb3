/** Text rendering shared by the alerts commands: alert tables, severity colours, times for people. */
import type {Style} from '../core/output/style.js'
import {renderTable, type Column} from '../core/output/table.js'
import {formatMatcher} from './matchers.js'
import {plural} from '../core/output/units.js'
import {ago, humanSeconds, keyLabels, type AlertView, type SilenceView} from './model.js'

export function paintSeverity(style: Style, severity: string | null, text: string): string {
  switch ((severity ?? '').toLowerCase()) {
    case 'critical':
      return style.status('CRITICAL', text)
    case 'warning':
      return style.status('WARNING', text)
    case 'info':
      return style.accent(text)
    default:
      return text
  }
}

export interface AlertTableOptions {
  style: Style
  width?: number
  now: number
  /** Labels already shown elsewhere (the --group-by header). */
  omitLabels?: string[]
  /** Leave out the runbook column (silence previews). */
  runbook?: boolean
  /** The sites an alert fires in, for a CONTEXTS column (alerts list on several contexts). */
  contextsOf?: (alert: AlertView) => string[]
}

export function runbookText(alert: AlertView): string {
  if (!alert.runbook) return '-'
  return alert.runbook.source === 'annotation' ? alert.runbook.url : alert.runbook.name
}

/**
 * What holds the alert back, when something does: `silenced by <silence IDs>`, `inhibited by <alertname, or
 * the fingerprint of an inhibiting alert not among those listed>`, `muted by <time intervals>`, joined by `; `.
 */
export function stateText(alert: AlertView, alertnames: ReadonlyMap<string, string> = new Map()): string {
  const reasons = [
    alert.silencedBy.length > 0 ? `silenced by ${alert.silencedBy.join(', ')}` : '',
    alert.inhibitedBy.length > 0 ? `inhibited by ${alert.inhibitedBy.map((fingerprint) => alertnames.get(fingerprint) || fingerprint).join(', ')}` : '',
    alert.mutedBy.length > 0 ? `muted by ${alert.mutedBy.join(', ')}` : '',
  ].filter(Boolean)
  return reasons.length > 0 ? reasons.join('; ') : alert.state
}

export function renderAlertTable(alerts: readonly AlertView[], {style, width, now, omitLabels = [], runbook = true, contextsOf}: AlertTableOptions): string {
  const alertnames = new Map(alerts.map((alert) => [alert.fingerprint, alert.alertname]))
  const columns: Array<Column<AlertView>> = [
    {header: 'SEVERITY', get: (a) => a.severity ?? '-', paint: (text, a) => paintSeverity(style, a.severity, text)},
    {header: 'ALERTNAME', get: (a) => a.alertname || '-', paint: (text) => style.bold(text), key: true},
    ...(contextsOf ? [{header: 'CONTEXTS', get: (a: AlertView) => contextsOf(a).join(', '), wrap: true, giveWay: 4}] : []),
    // The labels tell two alerts of one name apart: they wrap, never lose their end.
    {header: 'LABELS', get: (a) => keyLabels(a.labels, omitLabels) || '-', wrap: true, maxWidth: 40, giveWay: 2},
    {header: 'STARTED', get: (a) => ago((now - Date.parse(a.startsAt)) / 1000)},
    {header: 'SUMMARY', get: (a) => a.annotations.summary ?? a.annotations.description ?? '-', wrap: true, maxWidth: 50, giveWay: 1},
    {header: 'STATE', get: (a) => stateText(a, alertnames), paint: (text, a) => (a.state === 'active' && a.mutedBy.length === 0 ? text : style.dim(text)), wrap: true, giveWay: 3},
  ]
  // The runbook is the first to give way: to a line of its own under the alert, where it stays whole.
  if (runbook) columns.push({header: 'RUNBOOK', get: runbookText, wrap: true, giveWay: 0})
  return renderTable([...alerts], columns, {width, paintHeader: style.dim})
}

/**
 * What `alerts list` shows of one site's alerts: the table, then a dim line counting them by severity, followed by
 * `matching` (the filters in words, or '').
 */
export function renderAlertList(alerts: readonly AlertView[], options: AlertTableOptions & {matching: string}): string {
  return `${renderAlertTable(alerts, options)}\n\n${options.style.dim(`${countAlerts(alerts)}${options.matching}`)}`
}

/** `5 alerts: 1 critical, 3 warning, 1 info` */
export function countAlerts(alerts: readonly AlertView[]): string {
  const counts = new Map<string, number>()
  for (const alert of alerts) counts.set(alert.severity ?? 'no severity', (counts.get(alert.severity ?? 'no severity') ?? 0) + 1)
  return `${plural(alerts.length, 'alert')}: ${[...counts.entries()].map(([severity, count]) => `${count} ${severity}`).join(', ')}`
}

export interface SilenceTableOptions {
  style: Style
  width?: number
  now: number
}

/** The silences table of `silence list`: the ID is the key (expire takes it); matchers and comment wrap. */
export function renderSilenceTable(silences: readonly SilenceView[], {style, width, now}: SilenceTableOptions): string {
  const timeLeft = (s: SilenceView) => {
    if (s.state === 'expired') return `expired ${ago((now - Date.parse(s.endsAt)) / 1000)}`
    if (s.state === 'pending') return `starts in ${humanSeconds((Date.parse(s.startsAt) - now) / 1000)}`
    return `${humanSeconds(s.remainingSeconds)} left`
  }
  const onlyExpired = silences.every((s) => s.state === 'expired')
  const columns: Array<Column<SilenceView>> = [
    {header: 'ID', get: (s) => s.id, key: true},
    {header: 'MATCHERS', get: (s) => s.matchers.map(formatMatcher).join(' '), wrap: true, maxWidth: 50, giveWay: 2},
    {header: onlyExpired ? 'ENDED' : 'ENDS', get: timeLeft, paint: (text, s) => (s.state === 'active' ? text : style.dim(text))},
    {header: 'MATCHING', get: (s) => String(s.matchingAlerts), align: 'right'},
    {header: 'CREATED BY', get: (s) => s.createdBy, giveWay: 0},
    {header: 'COMMENT', get: (s) => s.comment, wrap: true, maxWidth: 50, giveWay: 1},
  ]
  if (silences.some((s) => Object.keys(s.annotations).length > 0)) {
    // Only where a silence has some: servers before 0.32 never do, and their table stays as it was.
    columns.push({header: 'ANNOTATIONS', get: (s) => annotationsText(s.annotations) || '-', wrap: true, maxWidth: 40, giveWay: 1})
  }
  return renderTable([...silences], columns, {width, paintHeader: style.dim})
}

/** `ticket=INC-42 url=https://…`, by name. */
function annotationsText(annotations: Record<string, string>): string {
  return Object.entries(annotations)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')
}

/** `14:03:07` today, `2026-11-21 23:41` on another day; local time. */
export function localTime(iso: string, now: number): string {
  const date = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
  const today = new Date(now)
  const sameDay = date.getFullYear() === today.getFullYear() && date.getMonth() === today.getMonth() && date.getDate() === today.getDate()
  return sameDay ? `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` : `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}`
}
