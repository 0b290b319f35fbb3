/**
 * The monitor's metrics (names from DESIGN.md "CIM conventions"), on a registry of its own.
 * prom-client is loaded only here, and this module only by the monitor's run path.
 *
 * The per-event counters are not incremented per message: the follower tallies events in an
 * EventTally (tally.ts) and the counters copy its totals when scraped, so counting costs a map
 * lookup per event and label sets are hashed once per scrape, not once per event.
 */
import type {Counter, Gauge, Registry} from 'prom-client'

import type {ConsumerDetails, StreamSummary} from '../adapters/nats/jetstream.js'
import {type DeliveryTally, type EventTally, MAX_ERRORS_PER_EVENT_TYPE, OTHER, worstQueues} from './tally.js'

export interface MonitorMetrics {
  registry: Registry
  processingLag: Gauge<'domain'>
  projectionLag: Gauge<'domain' | 'projection'>
  projectionPending: Gauge<'domain' | 'projection'>
  queueDepth: Gauge<'domain'>
  queueCapacity: Gauge<'domain'>
  activeStreams: Gauge
  natsConnections: Gauge<'state'>
  storageBytes: Gauge<'stream'>
  lastRefresh: Gauge
  /** Stream sequence: how far the events stream had got at the last refresh. */
  streamLastSequence: Gauge<'stream'>
}

/** What the scrape-time collectors read: the tallies and the follower's position. */
export interface MonitorCounts {
  stream: string
  events: EventTally
  deliveries: DeliveryTally
  /** The last stream sequence counted (0 before the first). */
  countedSeq(): number
}

export const CONNECTION_STATES = ['connected', 'reconnecting', 'disconnected', 'closed'] as const
export type ConnectionState = (typeof CONNECTION_STATES)[number]

const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** How a failure shows on the event stream; kept in one sentence for the help texts. */
export const FAILED_EVENT_CONVENTION =
  'an event whose type ends in "Failed" (cim.<domain>.<aggregateType>.<aggregateId>.<Something>Failed); its error label is the body\'s data.errorType, data.error_type or data.error (a string, or the type/code of an object), else "unknown"'

export async function createMetrics(counts: MonitorCounts): Promise<MonitorMetrics> {
  const prom = await import('prom-client')
  const registry = new prom.Registry()
  prom.collectDefaultMetrics({register: registry})
  // Gauges named *_total, which `promtool check metrics` rejects; the rest of the defaults stay.
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name)
  const registers = [registry]

  const eventsTotal: Counter<'domain' | 'event_type'> = new prom.Counter({
    name: 'cim_events_total',
    help: 'CIM domain events stored on the events stream, by domain and event type (failed ones included).',
    labelNames: ['domain', 'event_type'],
    registers,
    collect() {
      eventsTotal.reset()
      for (const kind of counts.events.kinds()) eventsTotal.inc({domain: kind.domain, event_type: kind.eventType}, kind.count)
    },
  })
  const eventsFailed: Counter<'domain' | 'event_type' | 'error'> = new prom.Counter({
    name: 'cim_events_failed_total',
    help: `Failed CIM events on the events stream. A failure is ${FAILED_EVENT_CONVENTION}; at most ${MAX_ERRORS_PER_EVENT_TYPE} error values per event type, the rest as "${OTHER}".`,
    labelNames: ['domain', 'event_type', 'error'],
    registers,
    collect() {
      eventsFailed.reset()
      for (const kind of counts.events.kinds()) {
        for (const [error, count] of kind.failed ?? []) eventsFailed.inc({domain: kind.domain, event_type: kind.eventType, error}, count)
      }
    },
  })
  const eventsInvalid: Counter<'stream'> = new prom.Counter({
    name: 'cim_events_invalid_subject_total',
    help: 'Messages on the events stream whose subject is not cim.<domain>.<aggregateType>.<aggregateId>.<eventType>.',
    labelNames: ['stream'],
    registers,
    collect() {
      eventsInvalid.reset()
      const invalid = counts.events.invalidCount()
      if (invalid > 0) eventsInvalid.inc({stream: counts.stream}, invalid)
    },
  })
  const sent: Counter<'subject'> = new prom.Counter({
    name: 'cim_nats_messages_sent_total',
    help: 'Messages published into the events stream (stored by JetStream, as the monitor reads them back), by subject prefix: cim.<domain>, the first two tokens otherwise.',
    labelNames: ['subject'],
    registers,
    collect() {
      sent.reset()
      for (const [subject, count] of counts.events.bySubjectPrefix()) sent.inc({subject}, count)
    },
  })
  const received: Counter<'subject'> = new prom.Counter({
    name: 'cim_nats_messages_received_total',
    help: "Messages JetStream delivered to the events stream's consumers (redeliveries included; the monitor's own excluded), by the consumer's filter prefix (cim.<domain>, > for the whole stream); read from consumer state at each refresh.",
    labelNames: ['subject'],
    registers,
    collect() {
      received.reset()
      for (const [subject, count] of counts.deliveries.bySubjectPrefix()) received.inc({subject}, count)
    },
  })

  new prom.Gauge({
    name: 'cim_monitor_counted_sequence',
    help: 'Stream sequence of the last event the monitor counted: its position on the events stream.',
    labelNames: ['stream'],
    registers,
    collect() {
      this.set({stream: counts.stream}, counts.countedSeq())
    },
  })

  return {
    registry,
    processingLag: new prom.Gauge({name: 'cim_event_processing_lag_seconds', help: 'Age of the oldest unacknowledged event of any projection of the domain (0 when all are caught up).', labelNames: ['domain'], registers}),
    projectionLag: new prom.Gauge({name: 'cim_projection_lag_seconds', help: 'Age of the oldest event the projection (durable consumer <domain>-<projection>) has not acknowledged.', labelNames: ['domain', 'projection'], registers}),
    projectionPending: new prom.Gauge({name: 'cim_projection_pending_events', help: 'Events the projection still has to process (undelivered + ack pending).', labelNames: ['domain', 'projection'], registers}),
    queueDepth: new prom.Gauge({
      name: 'cim_event_queue_depth',
      help: "Events delivered to the domain's most saturated projection and not yet acknowledged (num_ack_pending): its in-flight queue.",
      labelNames: ['domain'],
      registers,
    }),
    queueCapacity: new prom.Gauge({
      name: 'cim_event_queue_capacity',
      help: "max_ack_pending of that same projection: at this depth JetStream stops delivering to it (backpressure). +Inf when unlimited.",
      labelNames: ['domain'],
      registers,
    }),
    activeStreams: new prom.Gauge({name: 'cim_active_event_streams', help: 'JetStream streams carrying CIM domain events (subjects under cim., not cim.ops.).', registers}),
    natsConnections: new prom.Gauge({name: 'cim_nats_connections', help: "The monitor's NATS connection, 1 for its current state.", labelNames: ['state'], registers}),
    storageBytes: new prom.Gauge({name: 'cim_nats_jetstream_storage_bytes', help: 'Bytes stored by each JetStream stream.', labelNames: ['stream'], registers}),
    lastRefresh: new prom.Gauge({name: 'cim_monitor_last_refresh_timestamp_seconds', help: 'When consumer and stream state was last read successfully (Unix time).', registers}),
    streamLastSequence: new prom.Gauge({
      name: 'cim_monitor_stream_last_sequence',
      help: "The events stream's last sequence at the last refresh; minus cim_monitor_counted_sequence it is how far the monitor is behind.",
      labelNames: ['stream'],
      registers,
    }),
  }
}

export function setConnectionState(metrics: MonitorMetrics, state: ConnectionState): void {
  for (const s of CONNECTION_STATES) metrics.natsConnections.set({state: s}, s === state ? 1 : 0)
}

/** The streams as a refresh listed them: storage of each, how many carry CIM events, how far the events stream got. */
export function setStreamState(metrics: MonitorMetrics, streams: StreamSummary[], events: StreamSummary | undefined): void {
  metrics.storageBytes.reset()
  for (const s of streams) metrics.storageBytes.set({stream: s.name}, s.bytes)
  metrics.activeStreams.set(streams.filter((s) => s.subjects.some((subject) => subject.startsWith('cim.') && !subject.startsWith('cim.ops.'))).length)
  metrics.streamLastSequence.reset()
  if (events) metrics.streamLastSequence.set({stream: events.name}, events.lastSeq)
}

/** A projection (durable consumer <domain>-<projection>) as a refresh measured it. */
export interface ProjectionState {
  consumer: ConsumerDetails
  domain: string
  projection: string
  lag: number
  pending: number
}

/** Lag, pending events and queues of the projections, swapped in one go (no await), so a scrape never sees half a refresh. */
export function setProjectionState(metrics: MonitorMetrics, projections: ProjectionState[]): void {
  metrics.projectionLag.reset()
  metrics.projectionPending.reset()
  metrics.processingLag.reset()
  const byDomain = new Map<string, number>()
  for (const {domain, projection, lag: seconds, pending} of projections) {
    metrics.projectionLag.set({domain, projection}, seconds)
    metrics.projectionPending.set({domain, projection}, pending)
    byDomain.set(domain, Math.max(byDomain.get(domain) ?? 0, seconds))
  }
  for (const [domain, seconds] of byDomain) metrics.processingLag.set({domain}, seconds)
  metrics.queueDepth.reset()
  metrics.queueCapacity.reset()
  const queues = worstQueues(projections.map(({domain, consumer}) => ({domain, ackPending: consumer.ackPending, maxAckPending: consumer.maxAckPending})))
  for (const [domain, {depth, capacity}] of queues) {
    metrics.queueDepth.set({domain}, depth)
    metrics.queueCapacity.set({domain}, capacity)
  }
}
