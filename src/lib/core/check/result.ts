import {type Status, STATUS_ORDER, worstStatus} from './status.js'

/** The check-result shape shared by every check command (DESIGN.md "Output"). */

export interface Metric {
  name: string
  value: number
  /** Nagios UOM: s, %, B, c, or none for a count. */
  unit?: 's' | '%' | 'B' | 'c'
  warn?: number
  crit?: number
  /** Low values are bad (free space): thresholds are lower bounds. */
  lowIsBad?: boolean
}

export interface CheckResult {
  name: string
  component: string
  status: Status
  summary: string
  metrics: Metric[]
  details?: Record<string, unknown>
  durationSeconds?: number
}

/** What a check itself returns; the runner adds how long it took. */
export type CheckOutcome = Omit<CheckResult, 'durationSeconds'>

export interface CheckReport {
  status: Status
  summary: string
  checks: CheckResult[]
  durationSeconds: number
}

/** Worst first, then by component and name, so the eye lands on what is broken. */
export function sortWorstFirst(checks: CheckResult[]): CheckResult[] {
  return [...checks].sort(
    (a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status] || a.component.localeCompare(b.component) || a.name.localeCompare(b.name),
  )
}

export function summarize(checks: CheckResult[], durationSeconds: number): CheckReport {
  const status = worstStatus(checks.map((c) => c.status))
  const bad = sortWorstFirst(checks).filter((c) => c.status !== 'OK')
  const summary =
    bad.length === 0
      ? checks.length === 1 ? '1 check OK' : `all ${checks.length} checks OK`
      : bad.map((c) => `${c.name}: ${c.summary}`).slice(0, 3).join('; ') + (bad.length > 3 ? `; and ${bad.length - 3} more` : '')
  return {status, summary, checks, durationSeconds}
}
