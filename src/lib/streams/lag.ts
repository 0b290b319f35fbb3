/**
 * How far behind a consumer is, and what that means against thresholds. Shared by `consumer report`
 * and the health check's consumers check, so both say the same thing about the same consumer.
 *
 * - pending = unprocessed (num_pending: matching, not yet delivered) + ack pending (delivered, not
 *   acknowledged): the work the consumer still has to do.
 * - lag = now minus the storage time of the oldest message not yet acknowledged (the first message
 *   after the ack floor that matches the filter, read by sequence): how old the work is.
 * - stalled = work pending and no delivery for `stallAfter` seconds.
 * - paused (servers >= 2.11): delivery was stopped on purpose, so it is never stalled and its backlog is
 *   expected: WARNING while the pause lasts, whatever the lag, so that a forgotten pause stays visible.
 */
import type {ConsumerSummary, StreamSummary} from '../adapters/nats/jetstream.js'
import {type Status, statusAbove, worstStatus} from '../core/check/status.js'
import {formatSeconds} from '../core/output/units.js'

export interface ConsumerMeasures {
  /** Seconds; 0 when nothing is outstanding. */
  lagSeconds: number
  pending: number
  /** num_pending as a share of the stream's messages, floored, at most 100 (natscli's "Unprocessed" %). */
  unprocessedPercent: number
  /** Seconds since the last delivery, or since creation when nothing was ever delivered. */
  idleSeconds: number
  /** Seconds since the last delivery; undefined when never. */
  lastDeliverySeconds?: number
  /** Seconds since the ack floor last moved; undefined when never. */
  lastAckSeconds?: number
  /** Paused on purpose (servers >= 2.11): seconds until it resumes by itself, when the server says. */
  paused?: {remainingSeconds?: number}
}

export interface ConsumerThresholds {
  /** Seconds. */
  lagWarn: number
  lagCrit: number
  /** Pending events; undefined = not checked. */
  pendingWarn?: number
  pendingCrit?: number
  /** Seconds without delivery while work is pending. */
  stallAfter: number
}

/** Where a threshold came from: a flag of this command, the object's natscli metadata, the context, or cimops's default. */
export type ThresholdSource = 'flag' | 'metadata' | 'context' | 'default'

export type ConsumerThresholdSources = Partial<Record<keyof ConsumerThresholds, ThresholdSource>>

export interface ConsumerVerdict {
  status: Status
  stalled: boolean
  /** Why the status is not OK, one phrase per threshold crossed; empty when OK. */
  reasons: string[]
}

export function measureConsumer(consumer: ConsumerSummary, stream: Pick<StreamSummary, 'messages'>, oldestUnacked: Date | undefined, now: Date): ConsumerMeasures {
  const since = (date: Date) => Math.max(0, (now.getTime() - date.getTime()) / 1000)
  const lastActivity = latest(consumer.delivered.lastActive, consumer.created)
  return {
    lagSeconds: oldestUnacked ? since(oldestUnacked) : 0,
    pending: consumer.unprocessed + consumer.ackPending,
    unprocessedPercent: unprocessedPercent(consumer.unprocessed, stream.messages),
    idleSeconds: since(lastActivity),
    lastDeliverySeconds: consumer.delivered.lastActive ? since(consumer.delivered.lastActive) : undefined,
    lastAckSeconds: consumer.ackFloor.lastActive ? since(consumer.ackFloor.lastActive) : undefined,
    ...(consumer.paused ? {paused: consumer.paused.remainingSeconds === undefined ? {} : {remainingSeconds: consumer.paused.remainingSeconds}} : {}),
  }
}

export function unprocessedPercent(unprocessed: number, streamMessages: number): number {
  return streamMessages > 0 ? Math.min(100, Math.floor((unprocessed / streamMessages) * 100)) : 0
}

/**
 * OK below every warning; the worst threshold crossed otherwise. `lagSeconds` undefined = could not be read: UNKNOWN.
 * Each reason names the threshold crossed and, when `sources` says, where it came from: `pending 12 >= 5 (metadata)`.
 */
export function consumerVerdict(
  measures: Omit<ConsumerMeasures, 'lagSeconds'> & {lagSeconds?: number},
  thresholds: ConsumerThresholds,
  sources: ConsumerThresholdSources = {},
): ConsumerVerdict {
  const from = (key: keyof ConsumerThresholds) => (sources[key] ? ` (${sources[key]})` : '')
  const reasons: string[] = []
  const statuses: Status[] = []
  const {lagSeconds, pending, idleSeconds, paused} = measures
  if (paused) {
    const left = paused.remainingSeconds === undefined ? '' : ` (${formatSeconds(paused.remainingSeconds)} left)`
    return {status: 'WARNING', stalled: false, reasons: [`paused${left}${pending > 0 ? `, ${pending} pending` : ''}`]}
  }
  if (lagSeconds === undefined) {
    statuses.push('UNKNOWN')
    reasons.push('lag unknown')
  } else {
    const lag = statusAbove(lagSeconds, thresholds.lagWarn, thresholds.lagCrit)
    statuses.push(lag)
    const crossed = lag === 'CRITICAL' ? 'lagCrit' : 'lagWarn'
    if (lag !== 'OK') reasons.push(`lag ${formatSeconds(lagSeconds)} >= ${formatSeconds(thresholds[crossed])}${from(crossed)}`)
  }
  const backlog = statusAbove(pending, thresholds.pendingWarn, thresholds.pendingCrit)
  statuses.push(backlog)
  const crossedBacklog = backlog === 'CRITICAL' ? 'pendingCrit' : 'pendingWarn'
  if (backlog !== 'OK') reasons.push(`pending ${pending} >= ${thresholds[crossedBacklog]}${from(crossedBacklog)}`)
  const stalled = pending > 0 && idleSeconds >= thresholds.stallAfter
  if (stalled) {
    statuses.push('CRITICAL')
    const limit = sources.stallAfter ? ` >= ${formatSeconds(thresholds.stallAfter)}${from('stallAfter')}` : ''
    reasons.push(measures.lastDeliverySeconds === undefined ? `${neverDelivered(measures)}, created ${formatSeconds(idleSeconds)} ago${limit}` : `stalled: ${noDeliveryPhrase(measures)}${limit}`)
  }
  return {status: worstStatus(statuses), stalled, reasons}
}

/**
 * Why a consumer with pending work is not delivering: the time since its last delivery, or — one that never
 * delivered (a new or restored consumer) — that, with how old its pending work is, not a time since creation.
 */
export function noDeliveryPhrase(measures: Pick<ConsumerMeasures, 'idleSeconds' | 'lastDeliverySeconds' | 'pending'> & {lagSeconds?: number}): string {
  return measures.lastDeliverySeconds === undefined ? neverDelivered(measures) : `no delivery for ${formatSeconds(measures.idleSeconds)}`
}

function neverDelivered({pending, lagSeconds}: {pending: number; lagSeconds?: number}): string {
  return `never delivered; ${pending} pending${lagSeconds ? ` for ${formatSeconds(lagSeconds)}` : ''}`
}

function latest(a: Date | undefined, b: Date): Date {
  return a && a.getTime() > b.getTime() ? a : b
}
