/**
 * Streams as data: `stream list`, `stream info` and `stream report` share one row type. Sizes in
 * bytes, durations in seconds, times as RFC 3339 strings.
 */
import type {ClusterState, SourceState, StreamLimits, StreamSummary, UnlistedEntry} from '../adapters/nats/jetstream.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {streamNotFound} from './errors.js'
import type {JetStreamReader} from './reader.js'

export const STREAM_SORTS = ['name', 'messages', 'bytes', 'consumers'] as const
export type StreamSort = (typeof STREAM_SORTS)[number]

export interface StreamRow {
  name: string
  description?: string
  subjects: string[]
  storage: 'file' | 'memory'
  retention: 'limits' | 'interest' | 'workqueue'
  /** Configured replica count. */
  replicas: number
  messages: number
  bytes: number
  firstSeq: number
  lastSeq: number
  /** RFC 3339; null when the stream is empty. */
  firstTime: string | null
  lastTime: string | null
  consumers: number
  deleted: number
  /** Distinct subjects holding messages. */
  subjectCount: number | null
  lost: {messages: number; bytes: number} | null
  apiLevel: number
  allowDirect: boolean
  created: string
  limits: StreamLimits
  /** Leader and replicas as the leader sees them; null on a server without clustering info. */
  cluster: ClusterState | null
  /** Mirror and sources with their lag (messages behind) and last contact. */
  sources: SourceState[]
}

export interface StreamReport {
  serverVersion: string
  /** The --subject filter, when given. */
  subject: string | null
  sort: StreamSort
  streams: StreamRow[]
  /** Streams the server names but could not describe (offline with its reason, or missing): a WARNING each. */
  unlisted: UnlistedEntry[]
  /** Totals over the streams listed. */
  totals: {streams: number; messages: number; bytes: number; consumers: number}
  checkedAt: string
}

export async function streamReport(reader: JetStreamReader, options: {subject?: string; sort: StreamSort; now?: Date}): Promise<StreamReport> {
  const listing = await reader.streams({subject: options.subject})
  const rows = sortStreams(listing.items.map(toStreamRow), options.sort)
  return {
    serverVersion: reader.serverVersion,
    subject: options.subject ?? null,
    sort: options.sort,
    streams: rows,
    unlisted: listing.unlisted,
    totals: {
      streams: rows.length,
      messages: sum(rows, (row) => row.messages),
      bytes: sum(rows, (row) => row.bytes),
      consumers: sum(rows, (row) => row.consumers),
    },
    checkedAt: (options.now ?? new Date()).toISOString(),
  }
}

/** One stream; NotFoundError naming the streams that exist. */
export async function streamInfo(reader: JetStreamReader, name: string): Promise<StreamRow> {
  const stream = await reader.stream(name)
  if (!stream) throw streamNotFound(name, await reader.streamNames())
  return toStreamRow(stream)
}

export function toStreamRow(stream: StreamSummary): StreamRow {
  return {
    name: stream.name,
    ...(stream.description ? {description: stream.description} : {}),
    subjects: stream.subjects,
    storage: stream.storage,
    retention: stream.retention,
    replicas: stream.replicas,
    messages: stream.messages,
    bytes: stream.bytes,
    firstSeq: stream.firstSeq,
    lastSeq: stream.lastSeq,
    firstTime: stream.firstTime?.toISOString() ?? null,
    lastTime: stream.lastTime?.toISOString() ?? null,
    consumers: stream.consumers,
    deleted: stream.deleted,
    subjectCount: stream.subjectCount ?? null,
    lost: stream.lost && stream.lost.messages > 0 ? stream.lost : null,
    apiLevel: stream.apiLevel,
    allowDirect: stream.allowDirect,
    created: stream.created.toISOString(),
    limits: stream.limits,
    cluster: stream.cluster ?? null,
    sources: stream.sources,
  }
}

/** By name A-Z; by messages, bytes or consumers biggest first (then by name). */
export function sortStreams(rows: StreamRow[], sort: StreamSort): StreamRow[] {
  const byName = (a: StreamRow, b: StreamRow) => a.name.localeCompare(b.name)
  if (sort === 'name') return [...rows].sort(byName)
  return [...rows].sort((a, b) => b[sort] - a[sort] || byName(a, b))
}

function sum<T>(items: T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0)
}

/** Every stream, read on the command's session. */
export async function fetchStreamReport(nats: NatsSession, options: {subject?: string; sort: StreamSort}): Promise<StreamReport> {
  const {sessionReader} = await import('./reader.js')
  return streamReport(await sessionReader(await nats.jetstream()), options)
}

/** One stream, read on the command's session. */
export async function fetchStreamInfo(nats: NatsSession, name: string): Promise<StreamRow> {
  const {sessionReader} = await import('./reader.js')
  return streamInfo(await sessionReader(await nats.jetstream()), name)
}
