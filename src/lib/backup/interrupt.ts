import {InterruptedError} from '../core/errors.js'

/**
 * Ctrl-C wins: once the signal fired, whatever failed next (a connection refused by the ephemeral server
 * being stopped, a request cut short) is reported as the interruption it is, exit 130.
 */
export async function interruptible<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (signal?.aborted && !(error instanceof InterruptedError)) throw signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError()
    throw error
  }
}
