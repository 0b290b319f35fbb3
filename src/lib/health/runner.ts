import type {ResolvedContext} from '../core/context-types.js'
import {DeadlineError, failedCheck, withDeadline} from '../core/check/deadline.js'
import {type CheckOutcome, type CheckReport, type CheckResult, summarize} from '../core/check/result.js'
import {InterruptedError} from '../core/errors.js'
import type {NatsSession} from '../adapters/nats/session.js'

export interface CheckContext {
  ctx: ResolvedContext
  signal: AbortSignal
  now: () => Date
  /** Shared NATS connection of this run. */
  nats: NatsSession
}

export interface HealthCheck {
  name: string
  component: string
  /** The system and address it talks to, named when it does not answer in time. */
  target?(ctx: ResolvedContext): {system: string; address: string}
  run(context: CheckContext): Promise<CheckOutcome | CheckOutcome[]>
}

/**
 * Runs checks concurrently, each under its own deadline of --timeout from the start of the run (the
 * adapters' own timers start later, after their imports), so one dead component can never hang the report.
 * A check that cannot reach its component is CRITICAL with the address; one that fails for another reason is UNKNOWN.
 */
export async function runChecks(checks: HealthCheck[], context: CheckContext, timeoutMs: number): Promise<CheckReport> {
  const started = performance.now()
  let onAbort: (() => void) | undefined
  const interrupted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new InterruptedError('health check interrupted'))
    if (context.signal.aborted) onAbort()
    context.signal.addEventListener('abort', onAbort, {once: true})
  })
  try {
    const results = await Promise.race([Promise.all(checks.map((check) => runOne(check, context, timeoutMs))), interrupted])
    return summarize(results.flat(), round((performance.now() - started) / 1000))
  } finally {
    // --watch runs this again and again on one signal: leave no listener behind.
    context.signal.removeEventListener('abort', onAbort!)
  }
}

async function runOne(check: HealthCheck, context: CheckContext, timeoutMs: number): Promise<CheckResult[]> {
  const started = performance.now()
  try {
    const outcome = await withDeadline(check.run(context), timeoutMs, () => new DeadlineError(timeoutMs))
    const seconds = round((performance.now() - started) / 1000)
    return (Array.isArray(outcome) ? outcome : [outcome]).map((o) => ({...o, durationSeconds: seconds}))
  } catch (error) {
    return [{...failedCheck(check, error, check.target?.(context.ctx)), durationSeconds: round((performance.now() - started) / 1000)}]
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000
}
