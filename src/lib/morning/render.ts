/** The morning report for the terminal (text) and for the team channel (Markdown). */
import {ago, humanSeconds} from '../alerts/model.js'
import type {Status} from '../core/check/status.js'
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {formatRate, formatSeconds} from '../core/output/units.js'
import {trendText} from './areas.js'
import type {Area, ConsumerLine, DomainRate, MorningReport} from './model.js'

const AREA_TITLE: Record<Area, string> = {
  alerts: 'Alerts',
  events: 'Event rates',
  consumers: 'Consumers',
  gpu: 'GPU fleet',
  backups: 'Backups',
  drills: 'DR drills',
  health: 'Health check',
  domains: 'Domains',
}

/** `Needs attention: Consumers (CRITICAL), Backups (WARNING)`, worst first; or that all is well. */
export function headline(report: MorningReport): string {
  const rank: Record<Status, number> = {CRITICAL: 0, UNKNOWN: 1, WARNING: 2, OK: 3}
  const bad = report.checks.filter((c) => c.status !== 'OK').sort((a, b) => rank[a.status] - rank[b.status])
  if (bad.length === 0) return `All ${report.checks.length} areas OK.`
  return `Needs attention: ${bad.map((c) => `${AREA_TITLE[c.name as Area] ?? c.name} (${c.status})`).join(', ')}.`
}

function when(report: MorningReport): string {
  return `${report.checkedAt.slice(0, 16).replace('T', ' ')} UTC`
}

function ageOf(iso: string | null | undefined, now: number): string {
  return iso ? ago((now - Date.parse(iso)) / 1000) : 'never'
}

function trendCell(line: ConsumerLine): string {
  if (!line.trend) return 'first check'
  const sign = line.trend.deltaPending > 0 ? '+' : ''
  return line.trend.direction === 'steady' ? 'steady' : `${line.trend.direction} ${sign}${line.trend.deltaPending}`
}

function rateCells(domain: DomainRate, now: number) {
  return {
    now: domain.ratePerSecond === null ? '-' : formatRate(domain.ratePerSecond),
    window: domain.windowCount === null ? '-' : domain.windowCount.toLocaleString('en-US'),
    stored: domain.stored === undefined ? '-' : domain.stored.toLocaleString('en-US'),
    last: domain.lastEventAt === undefined ? '-' : ageOf(domain.lastEventAt, now),
  }
}

// ---------------------------------------------------------------------------------------------
// Terminal

export function renderMorningText(report: MorningReport, style: Style, width?: number): string {
  const now = Date.parse(report.checkedAt)
  const out: string[] = []
  const window = humanSeconds(report.window.seconds)
  out.push(`${style.bold('CIM morning check')}${report.context ? ` · ${report.context}` : ''} · ${when(report)} · last ${window}`)
  out.push(`${style.status(report.status, style.bold(report.status))}  ${headline(report)}`, '')
  out.push(
    renderTable(
      report.checks,
      [
        {header: 'AREA', get: (c) => AREA_TITLE[c.name as Area] ?? c.name, key: true},
        {header: 'STATUS', get: (c) => c.status, paint: (t, c) => style.status(c.status, t)},
        {header: 'SUMMARY', get: (c) => c.summary, wrap: true, giveWay: 1},
      ],
      {width, paintHeader: style.dim},
    ),
  )

  const section = (title: string) => out.push('', style.bold(title))
  if (report.alerts.active.length > 0) {
    section('Firing now')
    out.push(
      renderTable(
        report.alerts.active,
        [
          {header: 'SEVERITY', get: (a) => a.severity ?? '-', paint: (t, a) => paintSeverity(style, a.severity, t)},
          {header: 'ALERT', get: (a) => a.alertname, key: true},
          {header: 'LABELS', get: (a) => labelText(a.labels) || '-', wrap: true, giveWay: 1},
          {header: 'SINCE', get: (a) => ageOf(a.startsAt, now)},
          {header: 'RUNBOOK', get: (a) => a.runbook ?? '-', wrap: true, giveWay: 2},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  const resolved = report.alerts.overnight.filter((e) => !e.stillFiring)
  if (resolved.length > 0) {
    section(`Fired and resolved in the last ${window}`)
    out.push(
      renderTable(
        resolved,
        [
          {header: 'ALERT', get: (e) => e.alertname, key: true},
          {header: 'LABELS', get: (e) => labelText(e.labels) || '-', wrap: true, giveWay: 1},
          {header: 'FROM', get: (e) => ageOf(e.from, now)},
          {header: 'LASTED', get: (e) => humanSeconds(e.durationSeconds)},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (report.events.domains.length > 0) {
    section(`Event rates ${style.dim(report.events.source === 'prometheus' ? '(Prometheus, cim_events_total)' : `(stream ${report.events.stream}: subject counts, newest event per domain${report.events.domains.some((d) => d.ratePerSecond !== null) ? '; rate now from Prometheus' : ''})`)}`)
    out.push(
      renderTable(
        report.events.domains,
        [
          {header: 'DOMAIN', get: (d) => d.domain, key: true},
          ...(report.events.source === 'prometheus'
            ? [
                {header: 'NOW', get: (d: DomainRate) => rateCells(d, now).now, align: 'right' as const},
                {header: `LAST ${window.toUpperCase()}`, get: (d: DomainRate) => rateCells(d, now).window, align: 'right' as const},
              ]
            : [
                ...(report.events.domains.some((d) => d.ratePerSecond !== null) ? [{header: 'NOW', get: (d: DomainRate) => rateCells(d, now).now, align: 'right' as const}] : []),
                {header: 'STORED', get: (d: DomainRate) => rateCells(d, now).stored, align: 'right' as const},
                {header: 'LAST EVENT', get: (d: DomainRate) => rateCells(d, now).last},
              ]),
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (report.consumers.consumers.length > 0) {
    section(`Consumers ${style.dim(report.consumers.previousCheckAt ? `(trend since the check ${ageOf(report.consumers.previousCheckAt, now)})` : '(no previous check: no trend yet)')}`)
    out.push(
      renderTable(
        report.consumers.consumers,
        [
          // A consumer is known by its stream and name; the stream is shown when there are several.
          ...(new Set(report.consumers.consumers.map((c) => c.stream)).size > 1 ? [{header: 'STREAM', get: (c: ConsumerLine) => c.stream, key: true}] : []),
          {header: 'CONSUMER', get: (c) => c.name, key: true},
          {header: 'STATUS', get: (c) => (c.stalled ? `${c.status} stalled` : c.status), paint: (t, c) => style.status(c.status, t)},
          {header: 'LAG', get: (c) => (c.pending === 0 ? '-' : formatSeconds(c.lagSeconds)), align: 'right'},
          {header: 'PENDING', get: (c) => String(c.pending), align: 'right'},
          {header: 'TREND', get: trendCell, wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (report.domains.domains.length > 0) {
    section(`Domains ${style.dim('(cimops domain health)')}`)
    out.push(
      renderTable(
        report.domains.domains,
        [
          {header: 'DOMAIN', get: (d) => d.domain, key: true},
          {header: 'STATUS', get: (d) => d.status, paint: (t, d) => style.status(d.status, t)},
          {header: 'SUMMARY', get: (d) => d.summary, wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (report.gpu.nodes.length > 0) {
    section('GPU nodes')
    out.push(
      renderTable(
        report.gpu.nodes,
        [
          {header: 'NODE', get: (n) => n.node, key: true},
          {header: 'STATE', get: (n) => n.state},
          {header: 'HEALTH', get: (n) => n.health ?? '-'},
          {header: 'SINCE', get: (n) => (n.since ? ageOf(n.since, now) : '-')},
          {header: 'REASON', get: (n) => n.reason ?? '-', wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  if (report.actions.length > 0) {
    section('Recommended actions')
    for (const [i, action] of report.actions.entries()) {
      out.push(`${i + 1}. ${style.status(action.status, `[${action.status}]`)} ${action.text}${action.runbook ? style.dim(` (runbook ${action.runbook})`) : ''}`)
      if (action.command) out.push(`   ${style.accent(`$ ${action.command}`)}`)
    }
  }
  out.push('', style.dim(`${report.checks.length} areas in ${report.durationSeconds.toFixed(2)}s`))
  return out.join('\n')
}

function paintSeverity(style: Style, severity: string | null, text: string): string {
  if (severity === 'critical') return style.status('CRITICAL', text)
  if (severity === 'warning') return style.status('WARNING', text)
  return text
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([k]) => k !== 'alertname' && k !== 'severity')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
}

// ---------------------------------------------------------------------------------------------
// Markdown, for the team channel

const ICON: Record<Status, string> = {OK: '🟢', WARNING: '🟡', CRITICAL: '🔴', UNKNOWN: '🟣'}

function md(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function mdTable(headers: string[], rows: string[][], align: Array<'l' | 'r'> = []): string {
  const sep = headers.map((_, i) => (align[i] === 'r' ? '---:' : '---'))
  return [`| ${headers.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((row) => `| ${row.map(md).join(' | ')} |`)].join('\n')
}

export function renderMorningMarkdown(report: MorningReport): string {
  const now = Date.parse(report.checkedAt)
  const window = humanSeconds(report.window.seconds)
  const out: string[] = []
  out.push(`### ${ICON[report.status]} CIM morning check — ${report.status}`)
  out.push(`_${when(report)}${report.context ? ` · context \`${report.context}\`` : ''} · last ${window} · ${report.durationSeconds.toFixed(1)}s_`, '')
  out.push(`**${md(headline(report))}**`, '')
  out.push(mdTable(['', 'Area', 'Status', 'Summary'], report.checks.map((c) => [ICON[c.status], AREA_TITLE[c.name as Area] ?? c.name, c.status, c.summary])))

  if (report.actions.length > 0) {
    out.push('', '#### Recommended actions', '')
    for (const [i, action] of report.actions.entries()) {
      out.push(`${i + 1}. ${ICON[action.status]} ${md(action.text)}${action.runbook ? ` — runbook \`${action.runbook}\`` : ''}${action.command ? `<br>\`${action.command}\`` : ''}`)
    }
  }
  if (report.alerts.active.length > 0 || report.alerts.overnight.length > 0) {
    out.push('', '#### Alerts', '')
    if (report.alerts.active.length > 0) {
      out.push(
        mdTable(
          ['Severity', 'Alert', 'Labels', 'Since', 'Runbook'],
          report.alerts.active.map((a) => [a.severity ?? '-', `**${a.alertname}**`, labelText(a.labels) || '-', ageOf(a.startsAt, now), a.runbook ? `\`${a.runbook}\`` : '-']),
        ),
      )
    }
    const resolved = report.alerts.overnight.filter((e) => !e.stillFiring)
    if (resolved.length > 0) {
      out.push('', `Fired and resolved in the last ${window}:`, '')
      for (const e of resolved) out.push(`- ${e.alertname}${labelText(e.labels) ? ` (${labelText(e.labels)})` : ''}: ${ageOf(e.from, now)}, lasted ${humanSeconds(e.durationSeconds)}`)
    }
  }
  if (report.events.domains.length > 0) {
    out.push('', `#### Event rates (${report.events.source === 'prometheus' ? 'Prometheus' : `stream ${report.events.stream}`})`, '', md(report.events.summary), '')
    out.push(
      report.events.source === 'prometheus'
        ? mdTable(['Domain', 'Now', `Last ${window}`], report.events.domains.map((d) => [d.domain, rateCells(d, now).now, rateCells(d, now).window]), ['l', 'r', 'r'])
        : mdTable(['Domain', 'Stored', 'Last event'], report.events.domains.map((d) => [d.domain, rateCells(d, now).stored, rateCells(d, now).last]), ['l', 'r', 'l']),
    )
  }
  if (report.consumers.consumers.length > 0) {
    const notOk = report.consumers.consumers.filter((c) => c.status !== 'OK' || c.pending > 0)
    out.push('', '#### Consumers', '', md(report.consumers.summary))
    if (notOk.length > 0) {
      out.push(
        '',
        mdTable(
          ['Consumer', 'Status', 'Lag', 'Pending', 'Trend'],
          notOk.map((c) => [c.name, `${ICON[c.status]} ${c.status}${c.stalled ? ' (stalled)' : ''}`, c.pending === 0 ? '-' : formatSeconds(c.lagSeconds), String(c.pending), c.trend ? trendText(c.trend) : 'first check']),
          ['l', 'l', 'r', 'r', 'l'],
        ),
      )
    }
  }
  if (report.domains.domains.length > 0 || report.domains.error) {
    out.push('', `#### Domains: ${ICON[report.domains.status]} ${report.domains.status}`, '', md(report.domains.summary))
    const notOk = report.domains.domains.filter((d) => d.status !== 'OK')
    if (notOk.length > 0) out.push('', mdTable(['Domain', 'Status', 'Why'], notOk.map((d) => [d.domain, `${ICON[d.status]} ${d.status}`, d.summary])))
  }
  out.push('', '#### GPU fleet, backups and drills', '')
  out.push(`- ${ICON[report.gpu.status]} GPUs: ${md(report.gpu.summary)}`)
  out.push(`- ${ICON[report.backups.status]} Backups: ${md(report.backups.summary)}`)
  out.push(`- ${ICON[report.drills.status]} DR drills: ${md(report.drills.summary)}`)
  const badHealth = report.health.checks.filter((c) => c.status !== 'OK')
  out.push('', `#### Health check: ${ICON[report.health.status]} ${report.health.status}${report.health.score === undefined ? '' : ` (score ${report.health.score}/100)`}`)
  if (badHealth.length > 0) {
    out.push('')
    for (const c of badHealth) out.push(`- ${ICON[c.status]} ${c.name}: ${md(c.summary)}`)
  } else if (report.health.error) {
    out.push('', md(report.health.summary))
  }
  return out.join('\n')
}
