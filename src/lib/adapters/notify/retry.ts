/**
 * Bounded retries with exponential backoff for notifier calls: retried on 429, 5xx, timeouts and
 * unreachable endpoints; never on other 4xx (the request itself is wrong, sending it again cannot help).
 * A total deadline bounds all attempts and waits together: a hung endpoint costs the deadline, not
 * attempts × timeout.
 */
import {ApiError, TimeoutError, UnreachableError} from '../../core/errors.js'
import {untilAborted} from '../../core/sleep.js'

export interface RetryPolicy {
  /** Total attempts, first one included (>= 1). */
  attempts: number
  /** Delay before the second attempt; doubles each time. */
  baseDelayMs: number
  /** Cap of one delay, Retry-After included. */
  maxDelayMs: number
  /** Deadline for all attempts and delays together; each attempt may take only what is left. Unset: no deadline. */
  totalMs?: number
}

export const DEFAULT_RETRY: RetryPolicy = {attempts: 4, baseDelayMs: 250, maxDelayMs: 4000, totalMs: 10_000}

export type RetryOutcome<T> = {ok: true; value: T; attempts: number} | {ok: false; error: unknown; attempts: number}

/** An HTTP error answer of a notifier endpoint, with the server's Retry-After when it gave one. */
export class NotifierHttpError extends ApiError {
  readonly retryAfterMs?: number

  constructor(system: string, address: string, why: string, options: {status?: number; hint?: string; retryAfterMs?: number}) {
    super(system, address, why, options)
    this.retryAfterMs = options.retryAfterMs
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof UnreachableError || error instanceof TimeoutError) return true
  if (error instanceof ApiError) return error.status === 429 || (error.status !== undefined && error.status >= 500)
  return false
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): exponential, half-jittered, Retry-After honoured, capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfterMs?: number, random = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1)
  const jittered = exponential / 2 + (random() * exponential) / 2
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0)))
}

export interface RetryOptions {
  signal?: AbortSignal
  /** For tests: how to wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
  /** For tests: the clock of the deadline. */
  now?: () => number
}

/**
 * Runs `call` until it succeeds, fails with a non-retryable error, the attempts are used up, or the
 * deadline leaves no time for another attempt. `call` gets the milliseconds left (Infinity without a
 * deadline) and must not take longer. An abort is thrown, not returned, at once, even while a call hangs.
 */
export async function withRetry<T>(call: (attempt: number, budgetMs: number) => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<RetryOutcome<T>> {
  const sleep = options.sleep ?? abortableSleep
  const now = options.now ?? Date.now
  const attempts = Math.max(1, Math.floor(policy.attempts))
  const deadline = policy.totalMs === undefined ? Infinity : now() + policy.totalMs
  let lastError: unknown
  for (let attempt = 1; attempt <= attempts; attempt++) {
    options.signal?.throwIfAborted()
    try {
      return {ok: true, value: await untilAborted(call(attempt, deadline - now()), options.signal), attempts: attempt}
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason
      lastError = error
      if (!isRetryable(error) || attempt === attempts) return {ok: false, error, attempts: attempt}
      const retryAfter = error instanceof NotifierHttpError ? error.retryAfterMs : undefined
      const delay = backoffDelay(attempt, policy, retryAfter, options.random)
      // Too little left for the wait and a useful attempt: give up now rather than at the deadline.
      if (deadline - now() - delay < MIN_ATTEMPT_MS) return {ok: false, error, attempts: attempt}
      await sleep(delay, options.signal)
    }
  }
  return {ok: false, error: lastError, attempts}
}

/** An attempt given less than this could not succeed against a real endpoint. */
const MIN_ATTEMPT_MS = 200

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}
