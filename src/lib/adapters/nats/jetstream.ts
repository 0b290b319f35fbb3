/**
 * Typed JetStream state for checks and reports: streams, consumers, account usage, and the time of a
 * consumer's oldest unacknowledged message. Wire shapes of nats.js/the server stay here; callers get
 * plain data with seconds and Dates.
 */
import type {ConsumerInfo, JetStreamManager, PeerInfo, StreamInfo, StreamSourceInfo} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'
import {z} from 'zod'

import {ApiError} from '../../core/errors.js'
import {stripUserinfo} from '../redact.js'
import {toNatsError} from './connection.js'

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
  error?: string
}

export interface StreamSummary {
  name: string
  subjects: string[]
  storage: 'file' | 'memory'
  replicas: number
  messages: number
  bytes: number
  firstSeq: number
  lastSeq: number
  firstTime?: Date
  lastTime?: Date
  consumers: number
  deleted: number
  cluster?: {name?: string; leader?: string; replicas: ReplicaState[]}
  sources: SourceState[]
}

export interface ConsumerSummary {
  stream: string
  name: string
  durable: boolean
  mode: 'pull' | 'push'
  ackPolicy: string
  filterSubject?: string
  /** Matching messages not yet delivered (num_pending). */
  unprocessed: number
  /** Delivered, not yet acknowledged. */
  ackPending: number
  redelivered: number
  waiting: number
  delivered: {streamSeq: number; consumerSeq: number; lastActive?: Date}
  ackFloor: {streamSeq: number; consumerSeq: number; lastActive?: Date}
  created: Date
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

export async function listStreams(jsm: JetStreamManager, address: string, timeoutMs: number): Promise<StreamSummary[]> {
  try {
    const streams: StreamSummary[] = []
    for await (const info of jsm.streams.list()) streams.push(toStreamSummary(info))
    return streams.sort((a, b) => a.name.localeCompare(b.name))
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
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

export async function listConsumers(jsm: JetStreamManager, stream: string, address: string, timeoutMs: number): Promise<ConsumerSummary[]> {
  try {
    const consumers: ConsumerSummary[] = []
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
 * without requiring allow_direct on the stream.
 */
export async function oldestUnackedTime(
  nc: NatsConnection,
  consumer: ConsumerSummary,
  stream: Pick<StreamSummary, 'lastSeq'>,
  options: {jsApiPrefix?: string; timeoutMs: number},
): Promise<Date | undefined> {
  if (consumer.unprocessed === 0 && consumer.ackPending === 0) return undefined
  const seq = consumer.ackFloor.streamSeq + 1
  if (seq > stream.lastSeq) return undefined
  const prefix = options.jsApiPrefix ?? '$JS.API'
  const address = stripUserinfo(nc.getServer())
  try {
    const reply = await nc.request(`${prefix}.STREAM.MSG.GET.${consumer.stream}`, JSON.stringify({seq, next_by_subj: consumer.filterSubject ?? '>'}), {
      timeout: options.timeoutMs,
    })
    const parsed = MsgGetResponse.parse(reply.json())
    if (parsed.error?.code === 404) return undefined
    if (parsed.error) throw new ApiError('nats', address, `reading ${consumer.stream} message ${seq}: ${parsed.error.description}`)
    return parsed.message ? new Date(parsed.message.time) : undefined
  } catch (error) {
    throw toJetStreamError(error, address, options.timeoutMs)
  }
}

/** `$JS.API` or the domain's prefix, as nats.js builds it. */
export function jsApiPrefix(domain?: string): string {
  return domain ? `$JS.${domain}.API` : '$JS.API'
}

function toStreamSummary(info: StreamInfo): StreamSummary {
  const {config, state} = info
  const sources: SourceState[] = [
    ...(info.mirror ? [toSource(info.mirror, 'mirror')] : []),
    ...(info.sources ?? []).map((s) => toSource(s, 'source')),
  ]
  return {
    name: config.name,
    subjects: config.subjects ?? [],
    storage: config.storage === 'memory' ? 'memory' : 'file',
    replicas: config.num_replicas ?? 1,
    messages: state.messages,
    bytes: state.bytes,
    firstSeq: state.first_seq,
    lastSeq: state.last_seq,
    firstTime: state.messages > 0 ? new Date(state.first_ts) : undefined,
    lastTime: state.messages > 0 ? new Date(state.last_ts) : undefined,
    consumers: state.consumer_count,
    deleted: state.num_deleted ?? 0,
    cluster: info.cluster
      ? {
          name: info.cluster.name,
          leader: info.cluster.leader,
          replicas: [
            ...(info.cluster.leader ? [{name: info.cluster.leader, leader: true, current: true, offline: false, lag: 0, activeSeconds: 0}] : []),
            ...(info.cluster.replicas ?? []).map(toReplica),
          ],
        }
      : undefined,
    sources,
  }
}

function toReplica(peer: PeerInfo): ReplicaState {
  return {name: peer.name, leader: false, current: peer.current, offline: peer.offline === true, lag: peer.lag ?? 0, activeSeconds: peer.active / NANOS_PER_SECOND}
}

function toSource(source: StreamSourceInfo, kind: SourceState['kind']): SourceState {
  return {
    name: source.name,
    kind,
    lag: source.lag,
    activeSeconds: source.active >= 0 ? source.active / NANOS_PER_SECOND : undefined,
    error: source.error?.description,
  }
}

function toConsumerSummary(info: ConsumerInfo): ConsumerSummary {
  const {config} = info
  // The server sends RFC 3339 strings here, although nats.js types last_active as a number.
  const date = (value?: string | number) => (typeof value === 'string' && value ? new Date(value) : undefined)
  return {
    stream: info.stream_name,
    name: info.name,
    durable: Boolean(config.durable_name),
    mode: config.deliver_subject ? 'push' : 'pull',
    ackPolicy: config.ack_policy,
    filterSubject: config.filter_subject || undefined,
    unprocessed: info.num_pending,
    ackPending: info.num_ack_pending,
    redelivered: info.num_redelivered,
    waiting: info.num_waiting,
    delivered: {streamSeq: info.delivered.stream_seq, consumerSeq: info.delivered.consumer_seq, lastActive: date(info.delivered.last_active)},
    ackFloor: {streamSeq: info.ack_floor.stream_seq, consumerSeq: info.ack_floor.consumer_seq, lastActive: date(info.ack_floor.last_active)},
    created: new Date(info.created),
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error.name === 'StreamNotFoundError' || (error as {code?: number}).code === 10059)
}

function toJetStreamError(error: unknown, address: string, timeoutMs: number): unknown {
  if (error instanceof Error && error.name === 'JetStreamApiError') {
    return new ApiError('nats', address, `JetStream API: ${error.message}`)
  }
  return toNatsError(error, address, timeoutMs)
}
