import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {plural} from '../core/output/units.js'
import {type CheckReport, sortWorstFirst} from '../core/check/result.js'

type Scored = CheckReport & {score?: number}

/** The on-call view: worst first, a one-line verdict, metrics only with --verbose. */
export function renderReport(report: Scored, style: Style, {verbose = false, width}: {verbose?: boolean; width?: number} = {}): string {
  const checks = sortWorstFirst(report.checks)
  const table = renderTable(
    checks,
    [
      {header: 'STATUS', get: (c) => c.status, paint: (t, c) => style.status(c.status, t)},
      {header: 'COMPONENT', get: (c) => c.component, giveWay: 3},
      {header: 'CHECK', get: (c) => c.name, key: true},
      {header: 'SUMMARY', get: (c) => c.summary, wrap: true, giveWay: 2},
      ...(verbose
        ? [{header: 'METRICS', get: (c: (typeof checks)[number]) => c.metrics.map((m) => `${m.name}=${m.value}${m.unit ?? ''}`).join(' '), wrap: true, giveWay: 1}]
        : []),
    ],
    {width, paintHeader: style.dim},
  )
  const score = report.score === undefined ? '' : `  score ${report.score}/100`
  const verdict = `${style.status(report.status, style.bold(report.status))}${score}  ${report.summary}  ${style.dim(`(${plural(report.checks.length, 'check')} in ${report.durationSeconds.toFixed(2)}s)`)}`
  return `${table}\n\n${verdict}`
}
