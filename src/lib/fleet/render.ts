import {STATUS_ORDER} from '../core/check/status.js'
import {formatPrometheusLabelled} from '../core/output/check-formats.js'
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import type {FleetReport, SiteVerdict} from './sites.js'
import type {HealthSite} from './health.js'

/** The fleet table, worst site first, and a one-line verdict for the fleet. */
export function renderFleetTable(fleet: FleetReport<SiteVerdict>, style: Style, {width}: {width?: number} = {}): string {
  const sites = [...fleet.contexts].sort((a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status] || a.context.localeCompare(b.context))
  const scored = sites.some((site) => site.score !== undefined)
  const table = renderTable(
    sites,
    [
      {header: 'CONTEXT', get: (s) => s.context, key: true},
      {header: 'STATUS', get: (s) => s.status, paint: (t, s) => style.status(s.status, t)},
      ...(scored ? [{header: 'SCORE', get: (s: SiteVerdict) => (s.score === undefined ? '-' : String(s.score)), align: 'right' as const}] : []),
      {header: 'WORST FINDING', get: (s) => s.worstFinding, wrap: true, giveWay: 1},
    ],
    {width, paintHeader: style.dim},
  )
  const verdict = `${style.status(fleet.status, style.bold(fleet.status))}  ${fleet.summary}  ${style.dim(`(${fleet.contexts.length} sites in ${fleet.durationSeconds.toFixed(2)}s)`)}`
  return `${table}\n\n${verdict}`
}

/** `STATUS summary | 'ctx_score'=92;;;0;100 ...`: one Nagios line for the fleet, a score per site. */
export function formatFleetNagios(fleet: FleetReport<HealthSite>): string {
  const perfdata = fleet.contexts.map((site) => `'${`${site.context}_score`.replaceAll("'", "''")}'=${site.score};;;0;100`)
  return `${fleet.status} ${fleet.summary.replaceAll('|', '/').replaceAll('\n', ' ')} | ${perfdata.join(' ')}`
}

/** The Prometheus exposition of every site, each sample labelled with its context. */
export function formatFleetPrometheus(fleet: FleetReport<HealthSite>): string {
  return formatPrometheusLabelled(fleet.contexts.map((site) => ({report: site, labels: {context: site.context}})))
}
