/** `cimops trends --format md`: the weekly review's page, sparklines inline in the tables. */
import {sparkline} from '../core/output/sparkline.js'
import {utc} from './format.js'
import type {TrendsReport} from './model.js'
import {sectionsOf} from './sections.js'

const ICON = {OK: '🟢', WARNING: '🟡', CRITICAL: '🔴', UNKNOWN: '⚪'} as const
const MAX_CHART_WIDTH = 42

export function renderTrendsMarkdown(report: TrendsReport): string {
  const out = [`### ${ICON[report.status]} CIM weekly trends — ${report.status}`, `_${report.weeks} week(s) to ${utc(report.until)} · Prometheus ${report.prometheus}_`, '', `**${md(report.summary)}**`]
  if (report.findings.length > 0) out.push('', ...report.findings.map((f) => `- ${ICON[f.status]} ${f.status}: ${md(f.text)}`))
  for (const section of sectionsOf(report)) {
    const charted = section.charts?.some((series) => series.length > 0)
    const headers = [...section.headers, ...(charted ? [section.chartTitle ?? 'Chart'] : [])]
    const align = [...section.numeric.map((n) => (n ? '---:' : '---')), ...(charted ? ['---'] : [])]
    const rows = section.rows.map((cells, row) => [...cells, ...(charted ? [`\`${sparkline(section.charts![row], MAX_CHART_WIDTH) || ' '}\``] : [])])
    out.push('', `#### ${md(section.title)}`, '', `| ${headers.map(md).join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((cells) => `| ${cells.map((c, i) => (charted && i === cells.length - 1 ? c : md(c))).join(' | ')} |`))
    if (section.note) out.push('', `_${md(section.note)}_`)
  }
  out.push('', `_Events before Prometheus' history: ${md(report.streamFallback.detail)}_`, ...report.notes.map((note) => `_note: ${md(note)}_`))
  return out.join('\n')
}

/** Markdown's table and emphasis characters, escaped. */
function md(text: string): string {
  return text.replace(/([|*_`\\])/g, '\\$1')
}
