import {joinAddresses} from '../../adapters/redact.js'
import type {ConsumerSummary, StreamSummary} from '../../adapters/nats/jetstream.js'
import type {CheckOutcome} from '../../core/check/result.js'
import type {CheckContext, HealthCheck} from '../runner.js'
import {formatSeconds, round} from '../../core/output/units.js'
import {mapLimit, REQUESTS_IN_FLIGHT} from '../../streams/concurrency.js'
import {measureConsumer, noDeliveryPhrase} from '../../streams/lag.js'
import {type ConsumerThresholdSet, consumerThresholds, describeThresholds, judgeConsumer, thresholdsPhrase} from '../../streams/thresholds.js'

/**
 * Each durable consumer (projection) on the events stream: unprocessed, ack pending, redeliveries, and
 * processing lag = now minus the storage time of its oldest unacknowledged message, read by sequence.
 * Work pending with no delivery for `stallAfter` seconds is a stalled stream: CRITICAL.
 * A consumer's natscli metadata (`io.nats.monitor.*`) sets its own thresholds over the context's.
 */
export const consumersCheck: HealthCheck = {
  name: 'consumers',
  component: 'consumers',
  target: (ctx) => ({system: 'nats', address: joinAddresses(ctx.nats.servers)}),
  async run({ctx, nats, now}: CheckContext): Promise<CheckOutcome[]> {
    const jsm = await nats.jsm()
    const {nc} = await nats.connection()
    const {findStream, listConsumersReporting, oldestUnackedTime, jsApiPrefix} = await import('../../adapters/nats/jetstream.js')
    const stream = await findStream(jsm, ctx.streams.events, nats.address, ctx.timeoutMs)
    if (!stream) {
      return [{name: 'consumers', component: 'consumers', status: 'CRITICAL', summary: `stream ${ctx.streams.events} does not exist, so no projection can consume`, metrics: []}]
    }
    const options = {jsApiPrefix: jsApiPrefix(ctx.nats.jsDomain), timeoutMs: ctx.timeoutMs}
    const listing = await listConsumersReporting(nc, stream.name, options)
    const consumers = listing.items.filter((c) => c.durable)
    // The server names them but could not describe them (offline, missing): a finding, never silently absent.
    const unlisted = listing.unlisted.map((u): CheckOutcome => ({name: `consumer:${u.name}`, component: 'consumers', status: 'WARNING', summary: `${u.state}: ${u.reason}`, metrics: [], details: {stream: stream.name}}))
    if (consumers.length === 0 && unlisted.length === 0) {
      return [{name: 'consumers', component: 'consumers', status: 'OK', summary: `no durable consumers on ${stream.name}`, metrics: [{name: 'count', value: 0}]}]
    }
    const oldest = await mapLimit(consumers, REQUESTS_IN_FLIGHT, (c) => oldestUnackedTime(nc, c, stream, options))
    const at = now()
    const thresholds = consumerThresholds(ctx, {})
    return [...consumers.map((consumer, i) => consumerOutcome(consumer, stream, oldest[i], at, thresholds)), ...unlisted]
  },
}

export function consumerOutcome(consumer: ConsumerSummary, stream: Pick<StreamSummary, 'messages'>, oldestUnacked: Date | undefined, now: Date, base: ConsumerThresholdSet): CheckOutcome {
  const measures = measureConsumer(consumer, stream, oldestUnacked, now)
  const {lagSeconds, pending: outstanding, unprocessedPercent: pct, idleSeconds} = measures
  const {verdict, thresholds} = judgeConsumer(consumer, measures, base)
  const {status, stalled} = verdict
  const {values} = thresholds
  const parts = [
    outstanding === 0 ? 'caught up' : `lag ${formatSeconds(lagSeconds)}`,
    `${consumer.unprocessed} unprocessed${consumer.unprocessed > 0 ? ` (${pct}%)` : ''}`,
    `${consumer.ackPending} ack pending`,
    ...(consumer.redelivered > 0 ? [`${consumer.redelivered} redelivered`] : []),
    stalled ? (measures.lastDeliverySeconds === undefined ? noDeliveryPhrase(measures) : `STALLED: ${noDeliveryPhrase(measures)}`) : `last delivery ${consumer.delivered.lastActive ? `${formatSeconds(idleSeconds)} ago` : 'never'}`,
  ]
  if (consumer.paused) parts.unshift(pausedPhrase(consumer.paused))
  // Why it is not OK, each threshold with its source; and the consumer's own thresholds, which an operator may not expect.
  const fromMetadata = thresholdsPhrase(describeThresholds(thresholds), ['metadata'])
  const notes = [...(status === 'OK' ? [] : verdict.reasons), ...(fromMetadata ? [`own thresholds: ${fromMetadata}`] : [])]
  return {
    name: `consumer:${consumer.name}`,
    component: 'consumers',
    status,
    summary: [parts.join(', '), ...notes].join('; '),
    metrics: [
      {name: 'lag', value: round(lagSeconds, 3), unit: 's', warn: values.lagWarn, crit: values.lagCrit},
      {name: 'unprocessed', value: consumer.unprocessed},
      {name: 'ack_pending', value: consumer.ackPending},
      {name: 'redelivered', value: consumer.redelivered},
      {name: 'idle', value: round(idleSeconds, 3), unit: 's', crit: values.stallAfter},
    ],
    details: {
      stream: consumer.stream,
      filterSubject: consumer.filterSubject,
      oldestUnackedAt: oldestUnacked?.toISOString(),
      stalled,
      thresholds: describeThresholds(thresholds),
      ...(consumer.paused ? {pausedUntil: consumer.paused.until?.toISOString()} : {}),
    },
  }
}

/** A pause is deliberate (an emergency stop, an operator): said first, with how long it lasts. */
function pausedPhrase(paused: NonNullable<ConsumerSummary['paused']>): string {
  return `PAUSED${paused.remainingSeconds === undefined ? '' : ` for ${formatSeconds(paused.remainingSeconds)} more`}`
}
