import {InterruptedError} from './errors.js'

/** Waits `ms`, or less when the signal aborts (Ctrl-C during a --watch pause). Leaves no listener behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', wake)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    signal.addEventListener('abort', wake, {once: true})
  })
}

/**
 * The work's outcome, or the abort as soon as the signal fires (at once if it has): its reason when that is an
 * error, else an InterruptedError. The work is left to end on its own; its failure then goes unheard.
 */
export function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {})
      reject(signal.reason instanceof Error ? signal.reason : new InterruptedError())
    }
    if (signal.aborted) {
      onAbort()
      return
    }
    signal.addEventListener('abort', onAbort, {once: true})
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
