/** Text views of incidents for a terminal or a pipe; --json returns the typed results instead. */
import {actorName} from '../core/actor.js'
import {plural} from '../core/output/units.js'
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {formatAge} from './fold.js'
import {CHANNELS, type Severity} from './model.js'
import type {NotificationOutcome} from './notify.js'
import type {IncidentActionResult, IncidentSummary, IncidentView} from './service.js'

export interface RenderOptions {
  style: Style
  width?: number
}

/** RFC 3339 to `2026-11-22 10:00:05Z`. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

export function paintSeverity(style: Style, severity: Severity): string {
  return severity === 'critical' ? style.status('CRITICAL', severity) : severity === 'major' ? style.status('WARNING', severity) : severity
}

function paintStatus(style: Style, status: string): string {
  return status === 'open' ? style.status('CRITICAL', status) : style.status('OK', status)
}

export function renderList(incidents: IncidentSummary[], scope: 'open' | 'all', {style, width}: RenderOptions): string {
  if (incidents.length === 0) return scope === 'open' ? 'No open incidents. (`cimops incident list --all` shows resolved ones too.)' : 'No incidents recorded.'
  const table = renderTable(
    incidents,
    [
      {header: 'ID', get: (i) => i.id, key: true},
      {header: 'SEVERITY', get: (i) => i.severity, paint: (_text, i) => paintSeverity(style, i.severity)},
      {header: 'STATUS', get: (i) => i.status, paint: (_text, i) => paintStatus(style, i.status)},
      {header: 'DECLARED', get: (i) => shortTime(i.declaredAt), wrap: true, giveWay: 1},
      {header: 'DURATION', get: (i) => formatAge(i.durationSeconds), align: 'right'},
      {header: 'COMMANDER', get: (i) => i.commander ?? '-', wrap: true, giveWay: 1},
      {header: 'NOTIFY', get: (i) => notificationsBrief(i), wrap: true, giveWay: 1},
      // The title is what the reader came for: it gives way last.
      {header: 'TITLE', get: (i) => i.title, wrap: true, giveWay: 2},
    ],
    {width, paintHeader: style.dim},
  )
  const open = incidents.filter((i) => i.status === 'open').length
  return `${table}\n\n${plural(incidents.length, 'incident')}${scope === 'all' ? `, ${open} open` : ''}`
}

/** `am pd slack` with a `!` on the channels whose last notification failed. */
function notificationsBrief(incident: IncidentSummary): string {
  const short: Record<string, string> = {alertmanager: 'am', pagerduty: 'pd', slack: 'slack'}
  const parts = CHANNELS.filter((c) => incident.notifications[c]).map((c) => `${short[c]}${incident.notifications[c]!.outcome === 'failed' ? '!' : ''}`)
  return parts.join(' ') || '-'
}

export function renderOutcomes(outcomes: NotificationOutcome[]): string {
  return outcomes
    .map((o) => `${o.channel} ${o.action} ${o.outcome === 'sent' ? 'sent' : 'FAILED'}${o.attempts > 1 ? ` (${o.attempts} attempts)` : ''}`)
    .join(', ')
}

export function renderAction(verb: string, result: IncidentActionResult, {style}: RenderOptions): string {
  const i = result.incident
  const lines = [`${verb} ${style.bold(i.id)} (${paintSeverity(style, i.severity)}, ${paintStatus(style, i.status)}): ${i.title}`]
  const who = [`commander ${i.commander ?? 'unassigned'}`, `declared by ${actorName(i.declaredBy)} at ${shortTime(i.declaredAt)}`]
  if (i.resolvedAt) who.push(`resolved after ${formatAge(i.durationSeconds)}`)
  lines.push(`  ${who.join(' · ')}`)
  if (result.notifications.length > 0) lines.push(`  notified: ${renderOutcomes(result.notifications)}`)
  return lines.join('\n')
}

export function renderIncident(incident: IncidentView, {style, width}: RenderOptions): string {
  const i = incident
  const fields: Array<[string, string]> = [
    ['status', `${paintStatus(style, i.status)} (${i.status === 'open' ? 'for' : 'lasted'} ${formatAge(i.durationSeconds)})`],
    ['severity', paintSeverity(style, i.severity)],
    ['commander', i.commander ?? 'unassigned'],
    ['declared', `${shortTime(i.declaredAt)} by ${actorName(i.declaredBy)}`],
  ]
  if (i.summary) fields.push(['summary', i.summary])
  if (i.resolvedAt) fields.push(['resolved', `${shortTime(i.resolvedAt)} by ${actorName(i.resolvedBy!)}${i.resolution ? `: ${i.resolution}` : ''}`])
  const pad = Math.max(...fields.map(([k]) => k.length))
  const out = [`${style.bold(i.id)}  ${i.title}`, ...fields.map(([k, v]) => `${style.dim(k.padEnd(pad))}  ${v}`)]

  const channels = CHANNELS.filter((c) => i.notifications[c])
  if (channels.length > 0) {
    out.push('', style.bold('Notifications'))
    out.push(
      renderTable(
        channels.map((c) => ({channel: c, ...i.notifications[c]!})),
        [
          {header: 'CHANNEL', get: (n) => n.channel, key: true},
          {header: 'ACTION', get: (n) => n.action},
          {header: 'OUTCOME', get: (n) => n.outcome, paint: (text, n) => (n.outcome === 'sent' ? style.status('OK', text) : style.status('CRITICAL', text))},
          {header: 'ATTEMPTS', get: (n) => String(n.attempts), align: 'right'},
          {header: 'AT', get: (n) => shortTime(n.at)},
          {header: 'ERROR', get: (n) => n.error ?? '', wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }

  if (i.snapshot) {
    const s = i.snapshot
    out.push('', `${style.bold('Snapshot')} ${style.dim(`at ${shortTime(s.takenAt)}`)}`)
    if (s.health) {
      out.push(`  health ${paintHealth(style, s.health.status)} (score ${s.health.score}): ${s.health.summary}`)
    } else if (s.healthError) {
      out.push(`  health: not available: ${s.healthError}`)
    }
    if (s.firingAlerts) {
      const alerts = s.firingAlerts.map((a) => `${a.alertname}${a.severity ? ` (${a.severity})` : ''}`)
      out.push(`  firing alerts: ${alerts.length === 0 ? 'none' : `${alerts.length}: ${alerts.slice(0, 8).join(', ')}${alerts.length > 8 ? ', …' : ''}`}`)
    } else if (s.alertsError) {
      out.push(`  firing alerts: not available: ${s.alertsError}`)
    }
  }

  out.push('', style.bold('Timeline'))
  out.push(
    renderTable(
      i.timeline,
      [
        {header: 'TIME', get: (e) => shortTime(e.at), key: true},
        {header: 'BY', get: (e) => e.by, wrap: true, giveWay: 1},
        {header: 'EVENT', get: (e) => e.type.replace(/^Incident/, '')},
        {header: 'DETAIL', get: (e) => e.text, wrap: true, giveWay: 1},
      ],
      {width, paintHeader: style.dim},
    ),
  )
  return out.join('\n')
}

function paintHealth(style: Style, status: string): string {
  return status === 'OK' || status === 'WARNING' || status === 'CRITICAL' || status === 'UNKNOWN' ? style.status(status, status) : status
}
