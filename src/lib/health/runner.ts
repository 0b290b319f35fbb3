import type {ResolvedContext} from '../core/context-types.js'
import {CimopsError, formatMs, InterruptedError} from '../core/errors.js'
import type {Status} from '../core/output/style.js'
import {redactString} from '../core/redact.js'
import {type CheckReport, type CheckResult, summarize} from './model.js'
import type {NatsSession} from './nats-session.js'

export interface CheckContext {
  ctx: ResolvedContext
  signal: AbortSignal
  now: () => Date
  /** Shared NATS connection of this run. */
  nats: NatsSession
}

export type CheckOutcome = Omit<CheckResult, 'durationSeconds'>

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
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(timeoutMs)), timeoutMs)
  })
  try {
    const outcome = await Promise.race([check.run(context), deadline])
    const seconds = round((performance.now() - started) / 1000)
    return (Array.isArray(outcome) ? outcome : [outcome]).map((o) => ({...o, durationSeconds: seconds}))
  } catch (error) {
    return [{...failedCheck(check, error, check.target?.(context.ctx)), durationSeconds: round((performance.now() - started) / 1000)}]
  } finally {
    clearTimeout(timer)
  }
}

class DeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatMs(timeoutMs)}`)
  }
}

/** Maps a thrown error to a check result: unreachable or timed out is CRITICAL, anything else UNKNOWN. */
export function failedCheck(check: Pick<HealthCheck, 'name' | 'component'>, error: unknown, target?: {system: string; address: string}): CheckOutcome {
  let status: Status = 'UNKNOWN'
  let summary: string
  if (error instanceof DeadlineError) {
    status = 'CRITICAL'
    summary = target ? `${target.system} at ${target.address} did not answer: ${error.message}` : `check did not finish: ${error.message}`
  } else if (error instanceof CimopsError) {
    status = error.code === 'UNREACHABLE' || error.code === 'TIMEOUT' || error.code === 'API' ? 'CRITICAL' : 'UNKNOWN'
    summary = error.hint && status === 'UNKNOWN' ? `${error.line}` : error.message
  } else {
    summary = `could not evaluate: ${error instanceof Error ? error.message : String(error)}`
  }
  const details =
    error instanceof CimopsError
      ? {system: error.system, address: error.address, code: error.code}
      : error instanceof DeadlineError
        ? {...target, code: 'TIMEOUT'}
        : undefined
  return {name: check.name, component: check.component, status, summary: redactString(summary), metrics: [], ...(details ? {details} : {})}
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000
}
