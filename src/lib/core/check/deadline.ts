import {CimopsError, formatMs} from '../errors.js'
import {redactString} from '../redact.js'
import type {CheckOutcome} from './result.js'
import type {Status} from './status.js'

/** Resolves with the work, or rejects with `late()` once `ms` have passed; the work itself is left to its own timeouts. */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms)
  })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}

/** A check that ran past its own deadline. */
export class DeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatMs(timeoutMs)}`)
  }
}

/** Maps a thrown error to a check result: unreachable or timed out is CRITICAL, anything else UNKNOWN. */
export function failedCheck(check: {name: string; component: string}, error: unknown, target?: {system: string; address: string}): CheckOutcome {
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
