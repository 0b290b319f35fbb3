/** `cimops trends` on a terminal: each section as a table, its series as a Unicode sparkline. */
import type {Style} from '../core/output/style.js'
import {sparkline} from '../core/output/sparkline.js'
import {renderTable} from '../core/output/table.js'
import {utc} from './format.js'
import type {TrendsReport} from './model.js'
import {sectionsOf} from './sections.js'

/** A day per bar, up to this many. */
const MAX_CHART_WIDTH = 42

export function headline(report: TrendsReport): string {
  return `CIM trends · ${report.weeks} week(s) to ${utc(report.until)} · ${report.prometheus}`
}

export function renderTrendsText(report: TrendsReport, style: Style, width?: number): string {
  const blocks = [`${style.bold(headline(report))}\n${style.status(report.status, report.status)}  ${report.summary}`]
  for (const section of sectionsOf(report)) {
    const charted = section.charts?.some((series) => series.length > 0)
    const table = renderTable(
      section.rows.map((cells, row) => ({cells, row})),
      [
        ...section.headers.map((header, i) => ({header, get: (r: {cells: string[]}) => r.cells[i], align: section.numeric[i] ? ('right' as const) : ('left' as const), key: i === 0})),
        ...(charted ? [{header: section.chartTitle ?? 'CHART', get: (r: {row: number}) => sparkline(section.charts![r.row], MAX_CHART_WIDTH), hide: 1}] : []),
      ],
      {width, paintHeader: style.dim},
    )
    blocks.push([style.bold(section.title), table, ...(section.note ? [style.dim(section.note)] : [])].join('\n'))
  }
  const lines = [
    ...report.findings.map((f) => `${style.status(f.status, f.status)}  ${f.text}`),
    style.dim(`Events before Prometheus' history: ${report.streamFallback.detail}`),
    ...report.notes.map((note) => style.dim(`note: ${note}`)),
  ]
  blocks.push(lines.join('\n'))
  return blocks.join('\n\n')
}
