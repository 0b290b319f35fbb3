/** `domain health` for the terminal: a row per domain, then the reasons of those not OK, then what could not be read. */
import {ago} from '../alerts/model.js'
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {formatBytes, formatRate, formatSeconds} from '../core/output/units.js'
import type {DomainHealth, DomainHealthReport, StreamWindow} from './model.js'

export function renderDomainHealth(report: DomainHealthReport, options: {style: Style; width?: number}): string {
  const {style, width} = options
  const out = [`${style.status(report.status, style.bold(report.status))} ${report.summary}`]
  if (report.domains.length === 0) return out.join('\n')
  const prometheus = report.domains.some((d) => d.events.prometheus.ratePerSecond !== null || d.events.prometheus.lastHour !== null)
  out.push(
    '',
    renderTable(
      report.domains,
      [
        {header: 'DOMAIN', get: (d) => d.domain, key: true},
        {header: 'STATUS', get: (d) => d.status, paint: (t, d) => style.status(d.status, t)},
        {header: 'NOW', get: (d) => windowRate(d.events.lastFiveMinutes), align: 'right'},
        {header: 'LAST 1H', get: (d) => windowCount(d.events.lastHour), align: 'right'},
        ...(prometheus
          ? [
              {header: 'PROM NOW', get: (d: DomainHealth) => (d.events.prometheus.ratePerSecond === null ? '-' : formatRate(d.events.prometheus.ratePerSecond)), align: 'right' as const},
              {header: 'PROM 1H', get: (d: DomainHealth) => (d.events.prometheus.lastHour === null ? '-' : d.events.prometheus.lastHour.toLocaleString('en-US')), align: 'right' as const},
            ]
          : []),
        {header: 'NEWEST', get: (d) => (d.events.newestAgeSeconds === null ? 'never' : `${ago(d.events.newestAgeSeconds)}${d.silence.silent ? ' (silent)' : ''}`)},
        {header: 'FAILED', get: failedCell, align: 'right'},
        {header: 'PROJECTIONS', get: projectionsCell, wrap: true, giveWay: 1},
        {header: 'STORAGE ≈', get: (d) => (d.storage.bytes === null ? '-' : formatBytes(d.storage.bytes)), align: 'right'},
        {header: 'ALERTS', get: (d) => (d.alerts.length === 0 ? '-' : d.alerts.map((a) => a.alertname).join(', ')), wrap: true, giveWay: 2},
      ],
      {width, paintHeader: style.dim},
    ),
  )
  const bad = report.domains.filter((d) => d.status !== 'OK')
  for (const domain of bad) {
    out.push('', `${style.status(domain.status, domain.status)} ${style.bold(domain.domain)}`, ...domain.reasons.map((r) => `  - ${r}`))
  }
  out.push(
    '',
    style.dim(
      `NOW and LAST 1H: counted in ${report.stream} (exact; "> N" past the count limit); PROM: the monitor's cim_events_total. STORAGE ≈ is an estimate: the stream's bytes × the domain's share of its messages. FAILED: stored *Failed events${prometheus ? ' (last hour, Prometheus)' : ''}.`,
    ),
  )
  for (const note of report.notes) out.push(style.dim(`note: ${note}`))
  return out.join('\n')
}

function windowCount(window: StreamWindow): string {
  return window.count === null ? (window.overLimit ? `> ${window.limit.toLocaleString('en-US')}` : '-') : window.count.toLocaleString('en-US')
}

function windowRate(window: StreamWindow): string {
  if (window.ratePerSecond !== null) return formatRate(window.ratePerSecond)
  return window.overLimit ? `> ${formatRate(window.limit / window.seconds)}` : '-'
}

function failedCell(domain: DomainHealth): string {
  const stored = domain.failed.stored === null ? '-' : String(domain.failed.stored)
  return domain.failed.lastHour === null ? stored : `${stored} (${domain.failed.lastHour})`
}

function projectionsCell(domain: DomainHealth): string {
  if (domain.projections.length === 0) return '-'
  return domain.projections
    .map((p) => `${p.projection} ${p.state}${p.state === 'ok' || p.lagSeconds === null || p.lagSeconds === 0 ? '' : ` ${formatSeconds(p.lagSeconds)}`}`)
    .join(', ')
}

