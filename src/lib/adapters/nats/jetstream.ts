/**
 * Typed JetStream state for checks and reports: streams, consumers, account usage, and the time of a
 * consumer's oldest unacknowledged message. Wire shapes of nats.js/the server stay here; callers get
 * plain data with seconds and Dates.
 */
import type {ClusterInfo, ConsumerInfo, JetStreamManager, PeerInfo, StreamConfig, StreamInfo, StreamSource, StreamSourceInfo} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'
import * as z from 'zod'

import {ApiError} from '../../core/errors.js'
import {stripUserinfo} from '../redact.js'
import {consumerLimitError, isConsumerLimit, toNatsError} from './connection.js'
import {MSG_ID_HEADER} from './headers.js'
import {type PromotedFrom, readPromotionMarker} from './promotion-marker.js'
import {type ConsumerMonitorThresholds, consumerMonitorMetadata, type MonitorMetadata, type StreamMonitorThresholds, streamMonitorMetadata} from './monitor-metadata.js'

/** JetStream durations are nanoseconds on the wire. */
export const NANOS_PER_MS = 1_000_000

export interface ReplicaState {
  name: string
  leader: boolean
  current: boolean
  offline: boolean
  /** Operations behind the leader. */
  lag: number
  /** Seconds since the leader last heard from it. */
  activeSeconds: number
}

export interface SourceState {
  name: string
  kind: 'mirror' | 'source'
  /** Messages behind the origin. */
  lag: number
  /** Seconds since last contact; undefined when never active. */
  activeSeconds?: number
  /** Subject filter of the source, when any. */
  filterSubject?: string
  /** JetStream API prefix of a source in another domain/account. */
  apiPrefix?: string
  error?: string
}

export interface ClusterState {
  name?: string
  /** Undefined while the group has no leader (an election, or quorum lost). */
  leader?: string
  /** The leader first (marked leader), then the other replicas as the leader sees them. */
  replicas: ReplicaState[]
}

export interface StreamSummary {
  name: string
  description?: string
  subjects: string[]
  storage: 'file' | 'memory'
  retention: 'limits' | 'interest' | 'workqueue'
  replicas: number
  /** `allow_direct`: any replica answers DIRECT.GET. */
  allowDirect: boolean
  created: Date
  messages: number
  bytes: number
  firstSeq: number
  lastSeq: number
  firstTime?: Date
  lastTime?: Date
  consumers: number
  deleted: number
  /** Distinct subjects holding messages (num_subjects). */
  subjectCount?: number
  /** Messages lost to storage damage (state.lost). */
  lost?: {messages: number; bytes: number}
  /** Required API level from metadata `_nats.req.level` (servers >= 2.10 have metadata); 0 when unset. */
  apiLevel: number
  /** natscli's health thresholds in its metadata (`io.nats.monitor.*`); undefined when it sets none. */
  monitor?: MonitorMetadata<StreamMonitorThresholds>
  cluster?: ClusterState
  sources: SourceState[]
  limits: StreamLimits
  /** The server's clock when it answered (`ts`, servers >= 2.10). */
  serverTime?: Date
  /** Set on a stream `cimops dr promote` made writable: the stream it was a copy of. */
  promotedFrom?: PromotedFrom
}

/** Retention limits; undefined = unlimited. */
export interface StreamLimits {
  maxMessages?: number
  maxBytes?: number
  maxAgeSeconds?: number
  maxMessageSize?: number
  maxMessagesPerSubject?: number
  duplicateWindowSeconds?: number
  discard: 'old' | 'new'
}

/** The part of a consumer's state the health check works from. */
export interface ConsumerSummary {
  stream: string
  name: string
  durable: boolean
  mode: 'pull' | 'push'
  ackPolicy: string
  /** The one filter subject, when the consumer has exactly one. */
  filterSubject?: string
  /** Matching messages not yet delivered (num_pending). */
  unprocessed: number
  /** Delivered, not yet acknowledged. */
  ackPending: number
  redelivered: number
  /** Pull requests waiting (num_waiting). */
  waiting: number
  delivered: {streamSeq: number; consumerSeq: number; lastActive?: Date}
  ackFloor: {streamSeq: number; consumerSeq: number; lastActive?: Date}
  created: Date
  /** Paused (servers >= 2.11): until when, and seconds left as the server counts them. Undefined when delivering. */
  paused?: {until?: Date; remainingSeconds?: number}
  /** natscli's health thresholds in its metadata (`io.nats.monitor.*`); undefined when it sets none. */
  monitor?: MonitorMetadata<ConsumerMonitorThresholds>
}

/** A priority group of a pull consumer (servers >= 2.11) and the client pinned to it, if any. */
export interface PriorityGroupState {
  group: string
  pinnedClientId?: string
  pinnedSince?: Date
}

/** Everything the reports show of a consumer: what listConsumers and findConsumer return. */
export interface ConsumerDetails extends ConsumerSummary {
  description?: string
  /** Seconds the server waits for an ack before redelivering. */
  ackWaitSeconds: number
  deliverPolicy: string
  /** Every filter: `filter_subject`, or `filter_subjects` (servers >= 2.10); empty = the whole stream. */
  filterSubjects: string[]
  maxAckPending?: number
  maxWaiting?: number
  maxDeliver?: number
  /** Push consumer with an active subscriber on its deliver subject. */
  pushBound?: boolean
  /** Required API level from metadata `_nats.req.level` (servers >= 2.10); 0 when unset. */
  apiLevel: number
  /** `priority_policy` (servers >= 2.11: `overflow`, `pinned_client`, ...); undefined when none. */
  priorityPolicy?: string
  /** Its groups, with the pinned client of each (`pinned_client` policy). */
  priorityGroups: PriorityGroupState[]
  cluster?: ClusterState
  /** The server's clock when it answered (`ts`, servers >= 2.10). */
  serverTime?: Date
}

/** Stored message as read from a stream: bodies stay bytes; headers as sent (multi-valued). */
export interface StreamMessage {
  seq: number
  time: Date
  subject: string
  headers: Record<string, string[]>
  data: Uint8Array
}

export interface AccountUsage {
  memory: number
  storage: number
  streams: number
  consumers: number
  /** Undefined when the account has no limit (-1 or 0). */
  maxMemory?: number
  maxStorage?: number
}

const NANOS_PER_SECOND = 1e9

/** Every stream, by name; with `subject`, only those whose subjects overlap it (server-side filter). */
export async function listStreams(jsm: JetStreamManager, address: string, timeoutMs: number, options: {subject?: string} = {}): Promise<StreamSummary[]> {
  try {
    const streams: StreamSummary[] = []
    for await (const info of jsm.streams.list(options.subject)) streams.push(toStreamSummary(info))
    return streams.sort((a, b) => a.name.localeCompare(b.name))
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
}

/**
 * A stream or consumer a LIST reply names but cannot describe: `offline` (2.11.9 / 2.12+: its assets
 * could not be loaded, with the server's reason) or `missing` (its group did not answer in time).
 */
export interface UnlistedEntry {
  name: string
  state: 'offline' | 'missing'
  reason: string
}

/** Everything a LIST API call returned over all its pages: what it could describe, and what it could not. */
export interface Listing<T> {
  items: T[]
  unlisted: UnlistedEntry[]
}

/** Pages read at most (the server sends 256 entries a page): a bound, never reached by a real account. */
const LIST_PAGES_MAX = 1000

const ListPage = z.object({
  total: z.number().optional(),
  offset: z.number().optional(),
  limit: z.number().optional(),
  streams: z.array(z.record(z.string(), z.unknown())).nullish(),
  consumers: z.array(z.record(z.string(), z.unknown())).nullish(),
  missing: z.array(z.string()).nullish(),
  offline: z.record(z.string(), z.string()).nullish(),
  error: z.object({code: z.number(), err_code: z.number().optional(), description: z.string()}).optional(),
})

export interface ParsedListPage {
  total: number
  items: Array<Record<string, unknown>>
  unlisted: UnlistedEntry[]
}

/**
 * One raw STREAM.LIST / CONSUMER.LIST reply. nats.js's typed lister drops `missing` and `offline`, so the
 * reply is read here as the server sent it. An error reply throws its description.
 */
export function parseListPage(json: unknown, key: 'streams' | 'consumers'): ParsedListPage {
  const page = ListPage.parse(json)
  if (page.error) throw Object.assign(new Error(page.error.description), {name: 'JetStreamApiError', code: page.error.code, errCode: page.error.err_code})
  const items = page[key] ?? []
  return {
    total: page.total ?? items.length,
    items,
    unlisted: [
      ...Object.entries(page.offline ?? {}).map(([name, reason]): UnlistedEntry => ({name, state: 'offline', reason})),
      ...(page.missing ?? []).map((name): UnlistedEntry => ({name, state: 'missing', reason: 'did not answer the listing in time'})),
    ],
  }
}

/** Pages through a LIST API subject (256 per page) until the server's total is reached or a page comes back empty. */
async function listAll(nc: NatsConnection, subject: string, key: 'streams' | 'consumers', body: object, timeoutMs: number): Promise<Listing<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = []
  const unlisted: UnlistedEntry[] = []
  // The offset counts every entry the server covered, described or not.
  let offset = 0
  for (let pages = 0; pages < LIST_PAGES_MAX; pages++) {
    const reply = await nc.request(subject, JSON.stringify({...body, offset}), {timeout: timeoutMs})
    const page = parseListPage(reply.json(), key)
    items.push(...page.items)
    unlisted.push(...page.unlisted)
    offset += page.items.length + page.unlisted.length
    if (page.items.length + page.unlisted.length === 0 || offset >= page.total) break
  }
  return {items, unlisted: unlisted.sort((a, b) => a.name.localeCompare(b.name))}
}

/** Every stream (by name; with `subject`, those overlapping it), plus those the server lists as offline or missing. */
export async function listStreamsReporting(
  nc: NatsConnection,
  options: {jsApiPrefix?: string; timeoutMs: number; subject?: string},
): Promise<Listing<StreamSummary>> {
  const address = stripUserinfo(nc.getServer())
  try {
    const {items, unlisted} = await listAll(nc, `${options.jsApiPrefix ?? jsApiPrefix()}.STREAM.LIST`, 'streams', options.subject ? {subject: options.subject} : {}, options.timeoutMs)
    return {items: items.map((info) => toStreamSummary(info as unknown as StreamInfo)).sort((a, b) => a.name.localeCompare(b.name)), unlisted}
  } catch (error) {
    throw toJetStreamError(error, address, options.timeoutMs)
  }
}

/** Every consumer of the stream, plus those the server lists as offline or missing. */
export async function listConsumersReporting(nc: NatsConnection, stream: string, options: {jsApiPrefix?: string; timeoutMs: number}): Promise<Listing<ConsumerDetails>> {
  const address = stripUserinfo(nc.getServer())
  try {
    const {items, unlisted} = await listAll(nc, `${options.jsApiPrefix ?? jsApiPrefix()}.CONSUMER.LIST.${stream}`, 'consumers', {}, options.timeoutMs)
    return {items: items.map((info) => toConsumerSummary(info as unknown as ConsumerInfo)).sort((a, b) => a.name.localeCompare(b.name)), unlisted}
  } catch (error) {
    throw toJetStreamError(error, address, options.timeoutMs)
  }
}

/** The stream, or undefined when it does not exist. */
export async function findStream(jsm: JetStreamManager, name: string, address: string, timeoutMs: number): Promise<StreamSummary | undefined> {
  try {
    return toStreamSummary(await jsm.streams.info(name))
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toJetStreamError(error, address, timeoutMs)
  }
}

/** Names of every stream, sorted: cheap, for "the streams that do exist" in errors. */
export async function listStreamNames(jsm: JetStreamManager, address: string, timeoutMs: number): Promise<string[]> {
  try {
    const names: string[] = []
    for await (const name of jsm.streams.names()) names.push(name)
    return names.sort((a, b) => a.localeCompare(b))
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
}

/** The consumer, or undefined when it (or its stream) does not exist. */
export async function findConsumer(jsm: JetStreamManager, stream: string, name: string, address: string, timeoutMs: number): Promise<ConsumerDetails | undefined> {
  try {
    return toConsumerSummary(await jsm.consumers.info(stream, name))
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toJetStreamError(error, address, timeoutMs)
  }
}

/**
 * Subjects holding messages and how many each, for subjects matching `filter` (STREAM.INFO with
 * subjects_filter; nats.js merges the server's pages). Undefined when the stream does not exist.
 */
export async function streamSubjects(
  jsm: JetStreamManager,
  stream: string,
  filter: string,
  address: string,
  timeoutMs: number,
): Promise<{stream: StreamSummary; subjects: Record<string, number>} | undefined> {
  try {
    const info = await jsm.streams.info(stream, {subjects_filter: filter})
    return {stream: toStreamSummary(info), subjects: info.state.subjects ?? {}}
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toJetStreamError(error, address, timeoutMs)
  }
}

export async function listConsumers(jsm: JetStreamManager, stream: string, address: string, timeoutMs: number): Promise<ConsumerDetails[]> {
  try {
    const consumers: ConsumerDetails[] = []
    for await (const info of jsm.consumers.list(stream)) consumers.push(toConsumerSummary(info))
    return consumers.sort((a, b) => a.name.localeCompare(b.name))
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
}

export async function accountUsage(jsm: JetStreamManager, address: string, timeoutMs: number): Promise<AccountUsage> {
  try {
    const info = await jsm.getAccountInfo()
    const limit = (value: number | undefined) => (value !== undefined && value > 0 ? value : undefined)
    return {
      memory: info.memory,
      storage: info.storage,
      streams: info.streams,
      consumers: info.consumers,
      maxMemory: limit(info.limits?.max_memory),
      maxStorage: limit(info.limits?.max_storage),
    }
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
}

const MsgGetResponse = z.object({
  message: z.object({seq: z.number(), subject: z.string(), time: z.string()}).optional(),
  error: z.object({code: z.number(), err_code: z.number().optional(), description: z.string()}).optional(),
})

/**
 * Storage time of the consumer's oldest message not yet acknowledged: the first message after the ack
 * floor that matches the consumer's filter. Undefined when nothing is outstanding.
 * Uses STREAM.MSG.GET with next_by_subj (server 2.9+), which skips deleted and non-matching messages
 * without requiring allow_direct on the stream. A consumer with several filters (servers >= 2.10)
 * costs one request per filter; the earliest match wins.
 * With explicit acks the floor only moves over a contiguous acked run, so a message acked out of
 * order just after the floor can make this a little older than the true oldest unacked one:
 * never younger, so the lag is never understated.
 */
export async function oldestUnackedTime(
  nc: NatsConnection,
  consumer: Pick<ConsumerSummary, 'stream' | 'unprocessed' | 'ackPending' | 'ackFloor' | 'filterSubject'> & {filterSubjects?: string[]},
  stream: Pick<StreamSummary, 'lastSeq'>,
  options: {jsApiPrefix?: string; timeoutMs: number},
): Promise<Date | undefined> {
  if (consumer.unprocessed === 0 && consumer.ackPending === 0) return undefined
  const seq = consumer.ackFloor.streamSeq + 1
  if (seq > stream.lastSeq) return undefined
  const filters = consumer.filterSubjects?.length ? consumer.filterSubjects : [consumer.filterSubject ?? '>']
  const found = await Promise.all(filters.map((filter) => nextMessageMeta(nc, consumer.stream, seq, filter, options)))
  const earliest = found.filter((m) => m !== undefined).sort((a, b) => a.seq - b.seq)[0]
  return earliest?.time
}

export interface MessageMeta {
  seq: number
  subject: string
  time: Date
}

/** Sequence, subject and time of the first message at or after `seq` matching `filter`; undefined when none. */
export function nextMessageMeta(
  nc: NatsConnection,
  stream: string,
  seq: number,
  filter: string,
  options: {jsApiPrefix?: string; timeoutMs: number},
): Promise<MessageMeta | undefined> {
  return messageMeta(nc, stream, {seq, next_by_subj: filter}, options)
}

/** The last message matching `filter` (wildcards work on 2.9); undefined when none. */
export function lastMessageMeta(nc: NatsConnection, stream: string, filter: string, options: {jsApiPrefix?: string; timeoutMs: number}): Promise<MessageMeta | undefined> {
  return messageMeta(nc, stream, {last_by_subj: filter}, options)
}

/** STREAM.MSG.GET (served by the stream leader; needs no allow_direct): only the metadata is kept. */
async function messageMeta(
  nc: NatsConnection,
  stream: string,
  request: {seq: number; next_by_subj: string} | {last_by_subj: string},
  options: {jsApiPrefix?: string; timeoutMs: number},
): Promise<MessageMeta | undefined> {
  const prefix = options.jsApiPrefix ?? jsApiPrefix()
  const address = stripUserinfo(nc.getServer())
  try {
    const reply = await nc.request(`${prefix}.STREAM.MSG.GET.${stream}`, JSON.stringify(request), {timeout: options.timeoutMs})
    const parsed = MsgGetResponse.parse(reply.json())
    if (parsed.error?.code === 404) return undefined
    const what = 'seq' in request ? `message ${request.seq}` : `the last message on ${request.last_by_subj}`
    if (parsed.error) throw new ApiError('nats', address, `reading ${stream} ${what}: ${parsed.error.description}`)
    return parsed.message ? {seq: parsed.message.seq, subject: parsed.message.subject, time: new Date(parsed.message.time)} : undefined
  } catch (error) {
    throw toJetStreamError(error, address, options.timeoutMs)
  }
}

/** `$JS.API` or the domain's prefix, as nats.js builds it. */
export function jsApiPrefix(domain?: string): string {
  return domain ? `$JS.${domain}.API` : '$JS.API'
}

/** A STREAM.INFO reply (nats.js's or a raw one) as the summary every report reads. */
export function toStreamSummary(info: StreamInfo): StreamSummary {
  const {config, state} = info
  const sources: SourceState[] = [
    ...(info.mirror ? [toSource(info.mirror, 'mirror', config.mirror)] : []),
    ...(info.sources ?? []).map((s) => toSource(s, 'source', config.sources?.find((c) => c.name === s.name))),
  ]
  return {
    name: config.name,
    description: config.description || undefined,
    subjects: config.subjects ?? [],
    storage: config.storage === 'memory' ? 'memory' : 'file',
    retention: config.retention === 'interest' || config.retention === 'workqueue' ? config.retention : 'limits',
    replicas: config.num_replicas ?? 1,
    allowDirect: config.allow_direct === true,
    created: new Date(info.created),
    messages: state.messages,
    bytes: state.bytes,
    firstSeq: state.first_seq,
    lastSeq: state.last_seq,
    firstTime: state.messages > 0 ? new Date(state.first_ts) : undefined,
    lastTime: state.messages > 0 ? new Date(state.last_ts) : undefined,
    consumers: state.consumer_count,
    deleted: state.num_deleted ?? 0,
    subjectCount: state.num_subjects,
    lost: state.lost ? {messages: state.lost.msgs?.length ?? 0, bytes: state.lost.bytes ?? 0} : undefined,
    apiLevel: apiLevel(config.metadata),
    ...withMonitor(streamMonitorMetadata(config.metadata)),
    cluster: toCluster(info.cluster),
    sources,
    limits: {
      maxMessages: positive(config.max_msgs),
      maxBytes: positive(config.max_bytes),
      maxAgeSeconds: config.max_age > 0 ? config.max_age / NANOS_PER_SECOND : undefined,
      maxMessageSize: positive(config.max_msg_size),
      maxMessagesPerSubject: positive(config.max_msgs_per_subject),
      duplicateWindowSeconds: config.duplicate_window > 0 ? config.duplicate_window / NANOS_PER_SECOND : undefined,
      discard: config.discard === 'new' ? 'new' : 'old',
    },
    serverTime: serverTime(info),
    ...withPromotedFrom(readPromotionMarker(config.metadata, config.description)),
  }
}

function withPromotedFrom(promotedFrom: PromotedFrom | undefined): {promotedFrom?: PromotedFrom} {
  return promotedFrom ? {promotedFrom} : {}
}

function toCluster(cluster: ClusterInfo | undefined): ClusterState | undefined {
  if (!cluster) return undefined
  return {
    name: cluster.name,
    leader: cluster.leader,
    replicas: [
      ...(cluster.leader ? [{name: cluster.leader, leader: true, current: true, offline: false, lag: 0, activeSeconds: 0}] : []),
      ...(cluster.replicas ?? []).map(toReplica),
    ],
  }
}

/** `_nats.req.level` of the metadata (servers >= 2.10), as natscli's "API Level"; 0 when unset. */
function apiLevel(metadata: Record<string, string> | undefined): number {
  const level = Number(metadata?.['_nats.req.level'])
  return Number.isInteger(level) && level > 0 ? level : 0
}

function withMonitor<T>(monitor: MonitorMetadata<T> | undefined): {monitor?: MonitorMetadata<T>} {
  return monitor ? {monitor} : {}
}

/** `ts` of the info response: servers >= 2.10 send it, 2.9 does not. */
function serverTime(info: object): Date | undefined {
  const ts = (info as {ts?: unknown}).ts
  return typeof ts === 'string' && ts ? new Date(ts) : undefined
}

function toReplica(peer: PeerInfo): ReplicaState {
  return {name: peer.name, leader: false, current: peer.current === true, offline: peer.offline === true, lag: peer.lag ?? 0, activeSeconds: peer.active / NANOS_PER_SECOND}
}

/** Live state from the info's mirror/sources, filter and API prefix from the stream's config. */
function toSource(source: StreamSourceInfo, kind: SourceState['kind'], config: StreamSource | undefined): SourceState {
  return {
    name: source.name,
    kind,
    lag: source.lag,
    activeSeconds: source.active >= 0 ? source.active / NANOS_PER_SECOND : undefined,
    filterSubject: config?.filter_subject || undefined,
    apiPrefix: config?.external?.api || undefined,
    error: source.error?.description,
  }
}

function toConsumerSummary(info: ConsumerInfo): ConsumerDetails {
  const {config} = info
  // The server sends RFC 3339 strings here, although nats.js types last_active as a number.
  const date = (value?: string | number) => (typeof value === 'string' && value ? new Date(value) : undefined)
  const filterSubjects = config.filter_subjects?.length ? config.filter_subjects : config.filter_subject ? [config.filter_subject] : []
  return {
    stream: info.stream_name,
    name: info.name,
    durable: Boolean(config.durable_name),
    description: config.description || undefined,
    mode: config.deliver_subject ? 'push' : 'pull',
    ackPolicy: config.ack_policy,
    ackWaitSeconds: (config.ack_wait ?? 0) / NANOS_PER_SECOND,
    deliverPolicy: config.deliver_policy,
    filterSubject: filterSubjects.length === 1 ? filterSubjects[0] : undefined,
    filterSubjects,
    maxAckPending: positive(config.max_ack_pending),
    maxWaiting: positive(config.max_waiting),
    maxDeliver: positive(config.max_deliver),
    pushBound: config.deliver_subject ? info.push_bound === true : undefined,
    unprocessed: info.num_pending,
    ackPending: info.num_ack_pending,
    redelivered: info.num_redelivered,
    waiting: info.num_waiting,
    delivered: {streamSeq: info.delivered.stream_seq, consumerSeq: info.delivered.consumer_seq, lastActive: date(info.delivered.last_active)},
    ackFloor: {streamSeq: info.ack_floor.stream_seq, consumerSeq: info.ack_floor.consumer_seq, lastActive: date(info.ack_floor.last_active)},
    created: new Date(info.created),
    ...(info.paused === true ? {paused: pauseState(config.pause_until, info.pause_remaining)} : {}),
    apiLevel: apiLevel(config.metadata),
    ...withMonitor(consumerMonitorMetadata(config.metadata)),
    ...(config.priority_policy && config.priority_policy !== 'none' ? {priorityPolicy: config.priority_policy} : {}),
    priorityGroups: priorityGroups(config.priority_groups, info),
    cluster: toCluster(info.cluster),
    serverTime: serverTime(info),
  }
}

function pauseState(until: string | undefined, remainingNanos: number | undefined): NonNullable<ConsumerSummary['paused']> {
  return {
    ...(until ? {until: new Date(until)} : {}),
    ...(typeof remainingNanos === 'number' ? {remainingSeconds: remainingNanos / NANOS_PER_SECOND} : {}),
  }
}

/** The configured groups, with the pin state the server reports in the info (`priority_groups`, untyped in nats.js 3.4). */
function priorityGroups(configured: string[] | undefined, info: object): PriorityGroupState[] {
  const states = (info as {priority_groups?: Array<{group?: string; pinned_client_id?: string; pinned_ts?: string}>}).priority_groups ?? []
  return (configured ?? []).map((group) => {
    const state = states.find((s) => s.group === group)
    return {
      group,
      ...(state?.pinned_client_id ? {pinnedClientId: state.pinned_client_id} : {}),
      ...(state?.pinned_ts ? {pinnedSince: new Date(state.pinned_ts)} : {}),
    }
  })
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined
}

/**
 * A file stream with one replica on these subjects, dropping a message id seen within the duplicate window;
 * with `allow_batched` when asked (only servers with fast batch publishing know it). Returns whether the
 * server's echo has `allow_batched`: 2.9 drops fields it does not know without an error.
 */
export async function createTargetStream(jsm: JetStreamManager, target: {name: string; subjects: string[]; duplicateWindowMs: number; allowBatched: boolean}): Promise<{allowBatched: boolean}> {
  const config: Partial<StreamConfig> & {name: string} = {
    name: target.name,
    subjects: target.subjects,
    storage: 'file' as StreamConfig['storage'],
    num_replicas: 1,
    duplicate_window: target.duplicateWindowMs * NANOS_PER_MS,
    ...(target.allowBatched ? {allow_batched: true} : {}),
  }
  const created = await jsm.streams.add(config)
  return {allowBatched: created.config.allow_batched === true}
}

/** The stream's last message on a subject filter: its sequence and message id ('' when it has none); undefined when there is none. */
export async function lastMessageOnSubject(jsm: JetStreamManager, stream: string, subject: string): Promise<{seq: number; msgId: string} | undefined> {
  const message = await jsm.streams.getMessage(stream, {last_by_subj: subject})
  return message ? {seq: message.seq, msgId: message.header?.get(MSG_ID_HEADER) ?? ''} : undefined
}

/** JetStream API error codes (err_code) that mean "not found". */
const NOT_FOUND = {stream: {name: 'StreamNotFoundError', code: 10059}, consumer: {name: 'ConsumerNotFoundError', code: 10014}} as const
/** "no suitable peers for placement": a replicated stream the cluster cannot place (yet). */
const NO_PEERS_FOR_PLACEMENT = {name: 'JSClusterNoPeersError', code: 10005} as const

/** The stream does not exist: nats.js's typed error, or err_code 10059 on a raw API reply (backup-streams' JsApiError). */
export function isStreamNotFound(error: unknown): boolean {
  return isApiFailure(error, NOT_FOUND.stream)
}

export function isConsumerNotFound(error: unknown): boolean {
  return isApiFailure(error, NOT_FOUND.consumer)
}

export function isNoPeersForPlacement(error: unknown): boolean {
  return isApiFailure(error, NO_PEERS_FOR_PLACEMENT)
}

/** A request that got no answer in time (nats.js's TimeoutError). */
export function isRequestTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError'
}

/**
 * Nobody answered on this node: a pull (status 503), or a publish nats.js reports as "JetStream not enabled"
 * caused by no responders. Right after a stream or consumer is created in a cluster, its leader's interest
 * may not have reached this node yet.
 */
export function isNoResponders(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'JetStreamStatusError' && (error as {code?: unknown}).code === 503) return true
  const cause = error.cause as {isNoResponders?: () => boolean} | undefined
  return typeof cause?.isNoResponders === 'function' && cause.isNoResponders()
}

function isApiFailure(error: unknown, failure: {name: string; code: number}): boolean {
  if (!(error instanceof Error)) return false
  const {code, errCode} = error as {code?: unknown; errCode?: unknown}
  return error.name === failure.name || code === failure.code || errCode === failure.code
}

function isNotFound(error: unknown): boolean {
  return isStreamNotFound(error) || isConsumerNotFound(error)
}

export function toJetStreamError(error: unknown, address: string, timeoutMs: number): unknown {
  if (error instanceof Error && isConsumerLimit(error)) return consumerLimitError(address)
  if (error instanceof Error && /^(JetStreamApiError|StreamNotFoundError|ConsumerNotFoundError)$/.test(error.name)) {
    return new ApiError('nats', address, `JetStream API: ${error.message}`)
  }
  return toNatsError(error, address, timeoutMs)
}
