import type {ScoreWeights} from '../core/context-types.js'
import type {CheckResult} from '../core/check/result.js'
import type {Status} from '../core/check/status.js'

/**
 * Health score 0–100, a weighted composite like the seed's (its example: API errors 40%, federation
 * 30%, memory 15%, disk 15%). For CIM: event processing (streams, consumers) 40, messaging (NATS,
 * JetStream) 30, memory 15, disk 15, and monitoring 10, CPU 5, GPU 5 (weights are relative).
 * A group scores the mean of its checks (OK 100, WARNING 60, UNKNOWN 50, CRITICAL 0).
 * The score reads the same checks as the verdict: every group weighs something, and 100 means every check is OK,
 * so a CRITICAL report never scores 100.
 */

/** A group the weights do not name (a new check) still counts. */
const UNLISTED_WEIGHT = 5

const STATUS_SCORE: Record<Status, number> = {OK: 100, WARNING: 60, UNKNOWN: 50, CRITICAL: 0}

export function scoreGroup(check: Pick<CheckResult, 'component' | 'name'>): string {
  switch (check.component) {
    case 'streams':
    case 'consumers': {
      return 'events'
    }
    case 'nats':
    case 'jetstream': {
      return 'messaging'
    }
    case 'prometheus':
    case 'alertmanager': {
      return 'monitoring'
    }
    case 'system': {
      return check.name === 'memory' ? 'memory' : check.name === 'cpu' ? 'cpu' : 'disk'
    }
    default: {
      return check.component
    }
  }
}

export interface HealthScore {
  score: number
  groups: Record<string, {score: number; weight: number}>
}

export function healthScore(checks: Array<Pick<CheckResult, 'component' | 'name' | 'status'>>, weights: ScoreWeights): HealthScore {
  const byGroup = new Map<string, number[]>()
  for (const check of checks) {
    const group = scoreGroup(check)
    byGroup.set(group, [...(byGroup.get(group) ?? []), STATUS_SCORE[check.status]])
  }
  const groups: HealthScore['groups'] = {}
  for (const [group, scores] of byGroup) {
    groups[group] = {score: Math.round(scores.reduce((a, b) => a + b, 0) / scores.length), weight: weights[group] ?? UNLISTED_WEIGHT}
  }
  const total = Object.values(groups).reduce((sum, g) => sum + g.weight, 0)
  const score = total === 0 ? 100 : Math.round(Object.values(groups).reduce((sum, g) => sum + g.score * g.weight, 0) / total)
  // Rounding must not hide a check that is not OK.
  return {score: checks.every((c) => c.status === 'OK') ? score : Math.min(score, 99), groups}
}
