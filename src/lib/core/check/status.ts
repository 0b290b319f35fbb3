/** The four check statuses and their order, shared by every check command (DESIGN.md "Output"). */

export type Status = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN'

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
