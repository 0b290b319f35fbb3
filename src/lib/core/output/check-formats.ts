import type {CheckReport, Metric} from '../check/result.js'
import {NAGIOS_CODE} from '../check/status.js'

/**
 * Machine formats of a check report: Nagios plugin output and Prometheus exposition text
 * (reference/prometheus-alertmanager.md §4).
 */

/** `STATUS summary | 'label'=value[UOM];warn;crit ...` on one line. */
export function formatNagios(report: CheckReport): string {
  const label = (check: string, metric: string) => (metric.startsWith(check) ? metric : `${check}_${metric}`)
  const perfdata = report.checks.flatMap((check) => check.metrics.map((metric) => perfItem(label(check.name, metric.name), metric)))
  const summary = report.summary.replaceAll('|', '/').replaceAll('\n', ' ')
  return `${report.status} ${summary}${perfdata.length > 0 ? ` | ${perfdata.join(' ')}` : ''}`
}

function perfItem(label: string, metric: Metric): string {
  const quoted = /[\s='"]/.test(label) ? `'${label.replaceAll("'", "''")}'` : label
  // Nagios ranges alert outside start..end: `20` means above 20, `20:` means below 20.
  const thresholds = [metric.warn, metric.crit].map((t) => (t === undefined ? '' : `${plainNumber(t)}${metric.lowIsBad ? ':' : ''}`))
  return `${quoted}=${plainNumber(metric.value)}${metric.unit ?? ''};${thresholds.join(';')}`.replace(/;+$/, '')
}

/** Nagios forbids scientific notation. */
function plainNumber(value: number): string {
  if (!Number.isFinite(value)) return 'U'
  if (Number.isInteger(value)) return String(value)
  return value.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')
}

const UNIT_SUFFIX: Record<string, string> = {s: '_seconds', B: '_bytes', '%': '_percent', c: '_total'}

/**
 * Exposition format: `cimops_check_status{check,component}` carries the Nagios code, each metric becomes a gauge
 * named after its component and unit, plus the overall status and run duration. Metric families stay contiguous.
 */
export function formatPrometheus(report: CheckReport, namespace = 'cimops'): string {
  return formatPrometheusLabelled([{report, labels: {}}], namespace)
}

/** Several reports in one exposition, each sample carrying its report's labels (a fleet: `context`). */
export function formatPrometheusLabelled(reports: Array<{report: CheckReport; labels: Record<string, string>}>, namespace = 'cimops'): string {
  const families = new Map<string, {help: string; samples: string[]}>()
  const add = (name: string, help: string, labels: Record<string, string>, value: number) => {
    const family = families.get(name) ?? {help, samples: []}
    family.samples.push(`${name}${formatLabels(labels)} ${promNumber(value)}`)
    families.set(name, family)
  }
  for (const {report, labels} of reports) {
    add(`${namespace}_health_status`, 'Overall status of the last run (0=OK, 1=WARNING, 2=CRITICAL, 3=UNKNOWN).', labels, NAGIOS_CODE[report.status])
    add(`${namespace}_health_duration_seconds`, 'Wall time of the last run.', labels, report.durationSeconds)
  }
  for (const {report, labels} of reports) {
    for (const check of report.checks) {
      add(`${namespace}_check_status`, 'Status of one check (0=OK, 1=WARNING, 2=CRITICAL, 3=UNKNOWN).', {...labels, check: check.name, component: check.component}, NAGIOS_CODE[check.status])
    }
  }
  for (const {report, labels} of reports) {
    for (const check of report.checks) {
      for (const metric of check.metrics) {
        const unit = metric.unit === 'c' ? '' : UNIT_SUFFIX[metric.unit ?? ''] ?? ''
        const base = sanitize(`${namespace}_${check.component}_${metric.name}`)
        const name = unit && !base.endsWith(unit) ? `${base}${unit}` : base
        add(name, `cimops ${check.component} check metric ${metric.name}.`, {...labels, check: check.name}, metric.value)
      }
    }
  }
  const lines: string[] = []
  for (const [name, family] of families) {
    lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} gauge`, ...family.samples)
  }
  return `${lines.join('\n')}\n`
}

function sanitize(name: string): string {
  return name.replaceAll(/[^a-zA-Z0-9_:]/g, '_').replaceAll(/_+/g, '_')
}

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels)
  if (entries.length === 0) return ''
  return `{${entries.map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`).join(',')}}`
}

function promNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}
