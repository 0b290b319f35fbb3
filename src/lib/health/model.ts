import type {Status} from '../core/output/style.js'

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

export interface CheckReport {
  status: Status
  summary: string
  checks: CheckResult[]
  durationSeconds: number
}

export const STATUS_ORDER: Record<Status, number> = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}

/** Nagios plugin exit codes. */
export const NAGIOS_CODE: Record<Status, number> = {OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3}

/** CRITICAL beats UNKNOWN beats WARNING beats OK: an unknown is worse than a known warning, better than a known outage. */
export function worstStatus(statuses: Status[]): Status {
  return statuses.reduce<Status>((worst, s) => (STATUS_ORDER[s] > STATUS_ORDER[worst] ? s : worst), 'OK')
}

/** Higher value is worse: OK below warn, WARNING from warn, CRITICAL from crit. */
export function statusAbove(value: number, warn?: number, crit?: number): Status {
  if (crit !== undefined && value >= crit) return 'CRITICAL'
  if (warn !== undefined && value >= warn) return 'WARNING'
  return 'OK'
}

/** Lower value is worse (e.g. free disk %). */
export function statusBelow(value: number, warn?: number, crit?: number): Status {
  if (crit !== undefined && value <= crit) return 'CRITICAL'
  if (warn !== undefined && value <= warn) return 'WARNING'
  return 'OK'
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
      ? `all ${checks.length} checks OK`
      : bad.map((c) => `${c.name}: ${c.summary}`).slice(0, 3).join('; ') + (bad.length > 3 ? `; and ${bad.length - 3} more` : '')
  return {status, summary, checks, durationSeconds}
}
