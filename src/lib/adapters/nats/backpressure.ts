/**
 * Publish backpressure (nats-server 2.11+): a stream whose inbound queue is full answers a publish with
 * `429 too many requests` (JSStreamTooManyRequests) and stores nothing, so sending it again is safe.
 * The ops log and the seeder publish through here; replay's pipelined publisher does the same per message.
 */
import {setTimeout as sleep} from 'node:timers/promises'

/** The status of a refused publish whose stream is backpressured. */
export const TOO_MANY_REQUESTS = 429
/** How long one publish keeps being sent again while the stream answers 429 [default]. */
const DEFAULT_BACKPRESSURE_BUDGET_MS = 10_000

/** A nats.js JetStreamApiError (or a raw PubAck error) with status 429. */
export function isBackpressure(error: unknown): boolean {
  return error instanceof Error && (error as {status?: unknown}).status === TOO_MANY_REQUESTS
}

/** Pause before attempt `attempt` (2, 3, ...): 200 ms doubling, at most 2 s. */
export function backoffMs(attempt: number): number {
  return Math.min(2000, 100 * 2 ** (attempt - 1))
}

/** Runs `publish`, sending again after a growing pause while the stream answers 429, for at most `budgetMs`; then the 429 is thrown. */
export async function withBackpressureRetry<T>(publish: () => Promise<T>, budgetMs = DEFAULT_BACKPRESSURE_BUDGET_MS): Promise<T> {
  const started = Date.now()
  for (let attempt = 1; ; attempt++) {
    try {
      return await publish()
    } catch (error) {
      if (!isBackpressure(error) || Date.now() - started + backoffMs(attempt + 1) > budgetMs) throw error
      await sleep(backoffMs(attempt + 1))
    }
  }
}
