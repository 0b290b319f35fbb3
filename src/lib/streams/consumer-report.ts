/**
 * `consumer report` and `consumer info`: per consumer its backlog, ack state, replicas, lag in seconds
 * and a status from thresholds. Requests run concurrently with a bound; one consumer whose lag cannot
 * be read is UNKNOWN without sinking the report.
 */
import type {ClusterState, ConsumerDetails, StreamSummary, UnlistedEntry} from '../adapters/nats/jetstream.js'
import {type Status, NAGIOS_CODE, STATUS_ORDER, worstStatus} from '../core/check/status.js'
import {plural} from '../core/output/units.js'
import {mapLimit, REQUESTS_IN_FLIGHT} from './concurrency.js'
import {consumerNotFound, streamNotFound} from './errors.js'
import {type ConsumerThresholds, type ConsumerThresholdSources, measureConsumer} from './lag.js'
import type {JetStreamReader} from './reader.js'
import {type ConsumerThresholdSet, describeThresholds, judgeConsumer, type SourcedThreshold} from './thresholds.js'

export const CONSUMER_SORTS = ['lag', 'pending', 'name'] as const
export type ConsumerSort = (typeof CONSUMER_SORTS)[number]

/** Stream listings in flight at once when the report covers every stream. */
const STREAMS_IN_FLIGHT = 8

export interface ConsumerRow {
  stream: string
  name: string
  durable: boolean
  /** No durable name: made by a client for its own session (natscli, the event monitor), not a projection. */
  ephemeral: boolean
  description?: string
  mode: 'pull' | 'push'
  ackPolicy: string
  ackWaitSeconds: number
  deliverPolicy: string
  /** Empty: the whole stream. */
  filterSubjects: string[]
  /** Matching messages not yet delivered (num_pending, as the server reports it). */
  unprocessed: number
  /** unprocessed as a share of the stream's messages, floored, at most 100. */
  unprocessedPercent: number
  /** Delivered, not yet acknowledged. */
  ackPending: number
  /** Messages being redelivered now (not a running total). */
  redelivered: number
  /** Pull requests waiting (num_waiting). */
  waiting: number
  /** unprocessed + ackPending: the work still to do. */
  pending: number
  delivered: {streamSeq: number; consumerSeq: number}
  ackFloor: {streamSeq: number; consumerSeq: number}
  /** RFC 3339 of the last delivery; null when never. */
  lastDelivery: string | null
  lastDeliverySeconds: number | null
  /** RFC 3339 of the last move of the ack floor; null when never. */
  lastAck: string | null
  lastAckSeconds: number | null
  /** Storage time of the oldest unacknowledged message (RFC 3339); null when nothing is outstanding or unknown. */
  oldestUnacked: string | null
  /** Seconds; 0 when nothing is outstanding; null when it could not be read (status UNKNOWN). */
  lagSeconds: number | null
  /** The instant the ages (lag, last delivery, last ack) are measured at: the server's clock where it reports one (2.10+), else checkedAt. */
  measuredAt: string
  /** Work pending and no delivery for stallAfter seconds (never while paused). */
  stalled: boolean
  /** Paused on purpose (servers >= 2.11): until when (RFC 3339) and seconds left; null when delivering. */
  paused: {until: string | null; remainingSeconds: number | null} | null
  /** `priority_policy` (servers >= 2.11); null when none. */
  priorityPolicy: string | null
  /** Priority groups and the client pinned to each (`pinned_client` policy). */
  priorityGroups: Array<{group: string; pinnedClientId: string | null; pinnedSince: string | null}>
  status: Status
  /** Thresholds crossed (with their source), why the lag is unknown, metadata that cannot be read; empty when OK. */
  reasons: string[]
  /** The thresholds this consumer is judged by and where each came from (its natscli metadata may set some). */
  thresholds: Partial<Record<keyof ConsumerThresholds, SourcedThreshold>>
  maxAckPending: number | null
  maxWaiting: number | null
  maxDeliver: number | null
  /** Push consumers: a subscriber is bound to the deliver subject. */
  pushBound: boolean | null
  apiLevel: number
  created: string
  cluster: ClusterState | null
  /** --watch only: change of `pending` per second since the previous refresh (+ growing, - shrinking); null on the first. */
  pendingRate?: number | null
  /** --watch only: seconds to catch up at the current rate; 0 when caught up; null when not shrinking. */
  etaSeconds?: number | null
}

export interface ConsumerReport {
  status: Status
  summary: string
  serverVersion: string
  /** The streams covered, with what the percentages and lag are measured against. */
  streams: Array<{name: string; messages: number; lastSeq: number; consumers: number}>
  consumers: ConsumerRow[]
  /** Ephemeral consumers on the streams covered that were left out (without --all): not judged, not counted above. */
  ephemeralHidden: number
  /** Streams and consumers the server names but could not describe (offline with its reason, or missing): WARNING each. */
  unlisted: Array<UnlistedEntry & {kind: 'stream' | 'consumer'; stream: string}>
  /** The thresholds of the command (flags, context, defaults); a consumer's own metadata may override some, see its row. */
  thresholds: ConsumerThresholds
  thresholdSources: ConsumerThresholdSources
  sort: ConsumerSort
  /** The instant lag and "ago" values are measured at (the server's clock instead, when it sends one: >= 2.10). */
  checkedAt: string
  durationSeconds: number
}

export interface ConsumerReportOptions {
  /** Undefined: every stream. */
  stream?: string
  thresholds: ConsumerThresholdSet
  sort: ConsumerSort
  /** Also report ephemeral consumers (--all); by default only the durable ones, the projections. */
  ephemeral?: boolean
  concurrency?: number
  signal?: AbortSignal
  /** The local clock; a server's own `ts` (>= 2.10) wins when present. */
  now?: () => Date
}

export async function consumerReport(reader: JetStreamReader, options: ConsumerReportOptions): Promise<ConsumerReport> {
  const started = performance.now()
  const limit = options.concurrency ?? REQUESTS_IN_FLIGHT
  const streamListing = options.stream === undefined ? await reader.streams() : {items: [await requireStream(reader, options.stream)], unlisted: []}
  const streams = streamListing.items
  const perStream = await mapLimit(streams, STREAMS_IN_FLIGHT, (stream) => reader.consumers(stream.name), options.signal)
  const every = streams.flatMap((stream, i) => perStream[i].items.map((consumer) => ({stream, consumer})))
  const pairs = options.ephemeral ? every : every.filter(({consumer}) => consumer.durable)
  const {rows, at} = await measureAll(reader, pairs, options, limit)
  const sorted = sortConsumers(rows, options.sort)
  const unlisted = [
    ...streamListing.unlisted.map((u) => ({...u, kind: 'stream' as const, stream: u.name})),
    ...streams.flatMap((stream, i) => perStream[i].unlisted.map((u) => ({...u, kind: 'consumer' as const, stream: stream.name}))),
  ]
  const status = worstStatus([...sorted.map((row) => row.status), ...(unlisted.length > 0 ? (['WARNING'] as const) : [])])
  return {
    status,
    summary: [summarize(sorted, streams), ...unlisted.map(unlistedPhrase)].join('; '),
    serverVersion: reader.serverVersion,
    streams: streams.map((s, i) => ({name: s.name, messages: s.messages, lastSeq: s.lastSeq, consumers: perStream[i].items.length})),
    consumers: sorted,
    ephemeralHidden: every.length - pairs.length,
    unlisted,
    thresholds: options.thresholds.values,
    thresholdSources: options.thresholds.sources,
    sort: options.sort,
    checkedAt: at.toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
  }
}

/** One consumer, with the same row as the report; NotFoundError naming what exists. */
export async function consumerInfo(
  reader: JetStreamReader,
  streamName: string,
  name: string,
  options: Pick<ConsumerReportOptions, 'thresholds' | 'now'>,
): Promise<ConsumerRow> {
  const stream = await requireStream(reader, streamName)
  const consumer = await reader.consumer(stream.name, name)
  if (!consumer) throw consumerNotFound(stream.name, name, (await reader.consumers(stream.name)).items.map((c) => c.name))
  const {rows} = await measureAll(reader, [{stream, consumer}], options, 1)
  return rows[0]
}

/** Nagios exit code of a report: the worst consumer's status. */
export function reportExitCode(report: Pick<ConsumerReport, 'status'>): number {
  return NAGIOS_CODE[report.status]
}

async function requireStream(reader: JetStreamReader, name: string): Promise<StreamSummary> {
  const stream = await reader.stream(name)
  if (!stream) throw streamNotFound(name, await reader.streamNames())
  return stream
}

type Outcome = {oldest: Date | undefined} | {error: unknown}

async function measureAll(
  reader: JetStreamReader,
  pairs: Array<{stream: StreamSummary; consumer: ConsumerDetails}>,
  options: Pick<ConsumerReportOptions, 'thresholds' | 'now' | 'signal'>,
  limit: number,
): Promise<{rows: ConsumerRow[]; at: Date}> {
  const outcomes = await mapLimit(
    pairs,
    limit,
    ({stream, consumer}): Promise<Outcome> =>
      reader.oldestUnacked(consumer, stream).then(
        (oldest) => ({oldest}),
        (error: unknown) => ({error}),
      ),
    options.signal,
  )
  // Every read failed: the report would be all UNKNOWN, so say why instead.
  const failed = outcomes.filter((o): o is {error: unknown} => 'error' in o)
  if (failed.length > 0 && failed.length === outcomes.length) throw failed[0].error
  // One instant for every row, after the reads: it is the report's checkedAt.
  const at = options.now?.() ?? new Date()
  return {rows: pairs.map(({stream, consumer}, i) => toConsumerRow(consumer, stream, outcomes[i], consumer.serverTime ?? at, options.thresholds)), at}
}

export function toConsumerRow(consumer: ConsumerDetails, stream: Pick<StreamSummary, 'messages'>, outcome: Outcome, now: Date, base: ConsumerThresholdSet): ConsumerRow {
  const oldest = 'oldest' in outcome ? outcome.oldest : undefined
  const measures = measureConsumer(consumer, stream, oldest, now)
  const lagSeconds = 'error' in outcome ? undefined : measures.lagSeconds
  const {verdict, thresholds} = judgeConsumer(consumer, {...measures, lagSeconds}, base)
  const reasons = 'error' in outcome ? verdict.reasons.map((r) => (r === 'lag unknown' ? `lag unknown: ${errorText(outcome.error)}` : r)) : verdict.reasons
  return {
    stream: consumer.stream,
    name: consumer.name,
    durable: consumer.durable,
    ephemeral: !consumer.durable,
    ...(consumer.description ? {description: consumer.description} : {}),
    mode: consumer.mode,
    ackPolicy: consumer.ackPolicy,
    ackWaitSeconds: consumer.ackWaitSeconds,
    deliverPolicy: consumer.deliverPolicy,
    filterSubjects: consumer.filterSubjects,
    unprocessed: consumer.unprocessed,
    unprocessedPercent: measures.unprocessedPercent,
    ackPending: consumer.ackPending,
    redelivered: consumer.redelivered,
    waiting: consumer.waiting,
    pending: measures.pending,
    delivered: {streamSeq: consumer.delivered.streamSeq, consumerSeq: consumer.delivered.consumerSeq},
    ackFloor: {streamSeq: consumer.ackFloor.streamSeq, consumerSeq: consumer.ackFloor.consumerSeq},
    lastDelivery: consumer.delivered.lastActive?.toISOString() ?? null,
    lastDeliverySeconds: measures.lastDeliverySeconds ?? null,
    lastAck: consumer.ackFloor.lastActive?.toISOString() ?? null,
    lastAckSeconds: measures.lastAckSeconds ?? null,
    oldestUnacked: oldest?.toISOString() ?? null,
    lagSeconds: lagSeconds ?? null,
    measuredAt: now.toISOString(),
    stalled: verdict.stalled,
    paused: consumer.paused ? {until: consumer.paused.until?.toISOString() ?? null, remainingSeconds: consumer.paused.remainingSeconds ?? null} : null,
    priorityPolicy: consumer.priorityPolicy ?? null,
    priorityGroups: consumer.priorityGroups.map((g) => ({group: g.group, pinnedClientId: g.pinnedClientId ?? null, pinnedSince: g.pinnedSince?.toISOString() ?? null})),
    status: verdict.status,
    reasons,
    thresholds: describeThresholds(thresholds),
    maxAckPending: consumer.maxAckPending ?? null,
    maxWaiting: consumer.maxWaiting ?? null,
    maxDeliver: consumer.maxDeliver ?? null,
    pushBound: consumer.pushBound ?? null,
    apiLevel: consumer.apiLevel,
    created: consumer.created.toISOString(),
    cluster: consumer.cluster ?? null,
  }
}

/**
 * lag: oldest work first (unknown lag counts as the worst), then most pending; pending: most first,
 * then by lag; name: stream then consumer, A-Z. Ties always fall back to stream and name.
 */
export function sortConsumers(rows: ConsumerRow[], sort: ConsumerSort): ConsumerRow[] {
  const byName = (a: ConsumerRow, b: ConsumerRow) => a.stream.localeCompare(b.stream) || a.name.localeCompare(b.name)
  const lag = (row: ConsumerRow) => row.lagSeconds ?? Number.POSITIVE_INFINITY
  const desc = (x: number, y: number) => (x === y ? 0 : x > y ? -1 : 1)
  const compare: Record<ConsumerSort, (a: ConsumerRow, b: ConsumerRow) => number> = {
    lag: (a, b) => desc(lag(a), lag(b)) || desc(a.pending, b.pending) || byName(a, b),
    pending: (a, b) => desc(a.pending, b.pending) || desc(lag(a), lag(b)) || byName(a, b),
    name: byName,
  }
  return [...rows].sort(compare[sort])
}

function summarize(rows: ConsumerRow[], streams: StreamSummary[]): string {
  const where = streams.length === 1 ? `on ${streams[0].name}` : `on ${plural(streams.length, 'stream')}`
  if (rows.length === 0) return `no consumers ${where}`
  const counts = (['CRITICAL', 'UNKNOWN', 'WARNING', 'OK'] as const)
    .map((status) => [status, rows.filter((row) => row.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
  const bad = rows
    .filter((row) => row.status !== 'OK')
    .sort((a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status])
    .slice(0, 3)
    .map((row) => `${row.name}: ${row.reasons.join(', ')}`)
  return `${plural(rows.length, 'consumer')} ${where}: ${counts.join(', ')}${bad.length > 0 ? ` — ${bad.join('; ')}` : ''}`
}

/** `stream EVENTS is offline: <the server's reason>`, `consumer EVENTS > x is missing: ...`. */
export function unlistedPhrase(entry: UnlistedEntry & {kind: 'stream' | 'consumer'; stream: string}): string {
  return `${entry.kind} ${entry.kind === 'stream' ? entry.name : `${entry.stream} > ${entry.name}`} is ${entry.state}: ${entry.reason}`
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
