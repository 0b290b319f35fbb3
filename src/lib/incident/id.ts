/**
 * Incident ids INC-YYYYMMDD-N, unique across concurrent declarers on any machine: N comes from a
 * per-day counter subject in the ops log, advanced with an optimistic-concurrency publish
 * (expecting the counter's last sequence on that subject). A declarer that loses the race gets "wrong last sequence"
 * (10071), reads the counter again and retries, a bounded number of times.
 */
import {OperationError, TimeoutError} from '../core/errors.js'
import {isWrongLastSequence, type OpsLog} from '../adapters/nats/ops-events.js'
import {formatIncidentId, INCIDENT_COUNTER_PREFIX, incidentDay} from './model.js'

export interface CounterMessage {
  n: number
  incident: string
  /** RFC 3339 */
  at: string
}

export interface AllocateOptions {
  now: Date
  /** The message id (deduplication) of this declaration's counter message: a publish retried after a timeout is stored once. */
  declarationId: string
  maxAttempts?: number
  signal?: AbortSignal
  sleep?: (ms: number) => Promise<void>
}

export interface Allocation {
  id: string
  n: number
  /** Publishes it took (1 without contention). */
  attempts: number
}

export const MAX_ALLOCATION_ATTEMPTS = 40

export function counterSubject(day: string): string {
  return `${INCIDENT_COUNTER_PREFIX}.${day}`
}

export async function allocateIncidentId(log: Pick<OpsLog, 'lastOnSubject' | 'atSequence' | 'publish'>, options: AllocateOptions): Promise<Allocation> {
  const day = incidentDay(options.now)
  const subject = counterSubject(day)
  const maxAttempts = options.maxAttempts ?? MAX_ALLOCATION_ATTEMPTS
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    options.signal?.throwIfAborted()
    const last = await log.lastOnSubject(subject)
    const n = counterValue(last?.data) + 1
    const id = formatIncidentId(day, n)
    const body: CounterMessage = {n, incident: id, at: options.now.toISOString()}
    try {
      const ack = await log.publish(subject, body, {msgID: options.declarationId, expectLastSubjectSequence: last?.seq ?? 0})
      if (!ack.duplicate) return {id, n, attempts: attempt}
      // An earlier attempt of this declaration was stored after all (its ack was lost): that one is ours.
      const stored = counterValue((await log.atSequence(ack.seq))?.data)
      if (stored > 0) return {id: formatIncidentId(day, stored), n: stored, attempts: attempt}
    } catch (error) {
      if (!isWrongLastSequence(error) && !(error instanceof TimeoutError)) throw error
    }
    // Someone else took n: spread the retries so a crowd of declarers does not collide in lockstep.
    await sleep(Math.round(Math.random() * Math.min(200, 10 * attempt)))
  }
  throw new OperationError('cannot allocate an incident id', `${maxAttempts} attempts lost the race for ${subject} to other declarers`, {
    hint: 'safe to retry',
  })
}

function counterValue(data: unknown): number {
  const n = (data as Partial<CounterMessage> | undefined)?.n
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0
}
