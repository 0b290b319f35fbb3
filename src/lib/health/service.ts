import type {ResolvedContext} from '../core/context-types.js'
import {type HealthSelector, selectsCheck} from './components.js'
import type {CheckReport} from '../core/check/result.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {type HealthCheck, runChecks} from './runner.js'
import {healthScore} from './score.js'

export interface HealthReport extends CheckReport {
  /** 0–100, weighted like the seed's composite; see score.ts. */
  score: number
  scoreGroups: Record<string, {score: number; weight: number}>
  /** RFC 3339 time the run started. */
  checkedAt: string
  context?: string
}

export interface HealthOptions {
  /** From `selectComponents`; every check when empty or absent. */
  components?: HealthSelector[]
  signal: AbortSignal
  now?: () => Date
  /** The command's session; without one the run opens its own and closes it (health-check --watch: every report connects afresh). */
  nats?: NatsSession
}

/** Runs the selected checks concurrently against the resolved context; never throws for a sick component. */
export async function runHealthCheck(ctx: ResolvedContext, options: HealthOptions): Promise<HealthReport> {
  const {ALL_CHECKS} = await import('./checks/index.js')
  const selectors = options.components ?? []
  const selected = selectors.length === 0 ? ALL_CHECKS : ALL_CHECKS.filter((c) => selectors.some((s) => s.component === c.component)).map((c) => narrowed(c, selectors))
  const now = options.now ?? (() => new Date())
  const checkedAt = now().toISOString()
  const {openNatsSession} = await import('../adapters/nats/session.js')
  const nats = options.nats ?? openNatsSession(ctx.nats, {timeoutMs: ctx.timeoutMs})
  try {
    const report = await runChecks(selected, {ctx, signal: options.signal, now, nats}, ctx.timeoutMs)
    const {score, groups} = healthScore(report.checks, ctx.scoreWeights)
    return {...report, score, scoreGroups: groups, checkedAt, context: ctx.name}
  } finally {
    if (nats !== options.nats) await nats.close()
  }
}

/** The check with only the results selected (`--component cpu` runs the system check and keeps its cpu result). */
function narrowed(check: HealthCheck, selectors: HealthSelector[]): HealthCheck {
  return {
    ...check,
    async run(context) {
      const outcome = await check.run(context)
      return (Array.isArray(outcome) ? outcome : [outcome]).filter((o) => selectsCheck(selectors, o.component, o.name))
    },
  }
}
