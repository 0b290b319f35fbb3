/**
 * `cimops trends --format html`: one self-contained page (no script, no external file) for the weekly review; each
 * series an inline SVG line chart, `<svg class="trend-chart" id="chart-<section>-<row>">` with one `path.trend-line`.
 */
import {utc} from './format.js'
import type {TrendsReport} from './model.js'
import {sectionsOf} from './sections.js'

const CHART_WIDTH = 240
const CHART_HEIGHT = 36
const PAD = 2
const COLOR = {OK: '#1a7f37', WARNING: '#9a6700', CRITICAL: '#cf222e', UNKNOWN: '#8250df'} as const

export function renderTrendsHtml(report: TrendsReport): string {
  const body: string[] = [
    `<h1>CIM weekly trends <span class="status" style="color:${COLOR[report.status]}">${report.status}</span></h1>`,
    `<p class="meta">${esc(`${report.weeks} week(s) to ${utc(report.until)} · Prometheus ${report.prometheus}`)}</p>`,
    `<p class="summary"><strong>${esc(report.summary)}</strong></p>`,
  ]
  if (report.findings.length > 0) body.push(`<ul class="findings">${report.findings.map((f) => `<li><b style="color:${COLOR[f.status]}">${f.status}</b> ${esc(f.text)}</li>`).join('')}</ul>`)
  for (const section of sectionsOf(report)) {
    const charted = section.charts?.some((series) => series.length > 0)
    const head = [...section.headers, ...(charted ? [section.chartTitle ?? 'CHART'] : [])].map((h) => `<th>${esc(h)}</th>`).join('')
    const rows = section.rows.map((cells, row) => {
      const tds = cells.map((cell, i) => `<td${section.numeric[i] ? ' class="num"' : ''}>${esc(cell)}</td>`).join('')
      return `<tr>${tds}${charted ? `<td>${chart(`chart-${section.id}-${row}`, section.charts![row], `${section.title}: ${cells[0]}`)}</td>` : ''}</tr>`
    })
    body.push(`<section id="${section.id}"><h2>${esc(section.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>${section.note ? `<p class="note">${esc(section.note)}</p>` : ''}</section>`)
  }
  body.push(`<p class="note">${esc(`Events before Prometheus' history: ${report.streamFallback.detail}`)}</p>`, ...report.notes.map((note) => `<p class="note">${esc(`note: ${note}`)}</p>`))
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`CIM weekly trends to ${utc(report.until)}`)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}
table{border-collapse:collapse;margin:.5em 0}
th,td{padding:.2em .8em;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:middle}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.note,.meta{color:#59636e}
.trend-line{fill:none;stroke:#0969da;stroke-width:1.5}
</style></head>
<body>
${body.join('\n')}
</body></html>
`
}

/** A line through the known values, broken where one is missing; an empty series draws nothing. */
function chart(id: string, values: ReadonlyArray<number | null>, title: string): string {
  const known = values.filter((v): v is number => v !== null)
  if (known.length === 0) return ''
  const low = Math.min(...known)
  const span = Math.max(...known) - low || 1
  const x = (i: number) => (values.length === 1 ? CHART_WIDTH / 2 : PAD + (i * (CHART_WIDTH - 2 * PAD)) / (values.length - 1))
  const y = (v: number) => CHART_HEIGHT - PAD - ((v - low) / span) * (CHART_HEIGHT - 2 * PAD)
  let d = ''
  let pen = false
  values.forEach((v, i) => {
    if (v === null) {
      pen = false
      return
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`
    pen = true
  })
  // A single point is a dot, drawn as a zero-length line with round caps.
  if (known.length === 1) d += 'h0.1'
  return `<svg class="trend-chart" id="${id}" xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img"><title>${esc(title)}</title><path class="trend-line" stroke-linecap="round" d="${d}"/></svg>`
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]!)
}
