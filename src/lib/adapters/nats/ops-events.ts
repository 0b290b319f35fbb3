/**
 * Ops events on a JetStream stream: find the stream that stores `cim.ops.>` (CIM_OPS, or an events
 * stream on `cim.>`), publish with a msgID and optimistic-concurrency expectations, look up the last
 * message of a subject, and read every message of a subject filter that was stored when the read
 * started. The only place that knows these nats.js calls.
 */
import type {JetStreamClient, JetStreamManager, StreamConfig} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

import {ApiError, OperationError} from '../../core/errors.js'
import type {NatsSettings} from '../../core/context-types.js'
import {subjectIsSubset} from './subjects.js'
import {MSG_ID_HEADER} from './headers.js'
import {stripUserinfo} from '../redact.js'
import {withBackpressureRetry} from './backpressure.js'
import {toNatsError} from './connection.js'
import {isStreamNotFound, listStreams} from './jetstream.js'
import {domainOfApiPrefix} from './replication.js'

/** Every ops event is published under this subject. */
export const OPS_SUBJECTS = 'cim.ops.>'

/** JetStream API error code of a failed `Nats-Expected-Last-*-Sequence` check: "wrong last sequence". */
export const WRONG_LAST_SEQUENCE = 10071
const STREAM_NAME_IN_USE = 10058
const READ_BATCH = 256
/** nats.js refuses a pull that expires sooner. */
const MIN_FETCH_EXPIRES_MS = 1000

export interface StoredOpsMessage {
  subject: string
  seq: number
  /** RFC 3339, when the server stored it. */
  time: string
  /** The JSON body parsed, or undefined when it is not JSON. */
  data: unknown
}

export interface OpsPublishOptions {
  /** Nats-Msg-Id: a retry with the same id inside the duplicate window is stored once. */
  msgID?: string
  /** Publish only if the last message on this subject has this stream sequence (0: no message yet). */
  expectLastSubjectSequence?: number
}

export interface OpsPublishResult {
  seq: number
  /** The msgID had been stored already: `seq` is the original's. */
  duplicate: boolean
}

/**
 * Where a server stores ops events. JetStream refuses streams with overlapping subjects, so when
 * another stream captures `cim.ops.>` (an events stream on `cim.>`) the ops events live there, and
 * when streams capture only part of it, no stream can hold them all.
 */
export type OpsLogLocation =
  /**
   * This stream captures all of `cim.ops.>`; `created` when this call created it. `domain`: it is the ops log of
   * the linked site this one mirrors (a DR site), reached through that domain's API.
   */
  | {state: 'found'; stream: string; configured: boolean; created?: boolean; domain?: string}
  /** No stream captures any ops subject: the configured one can be created. */
  | {state: 'missing'; stream: string}
  /** Streams capture part of `cim.ops.>`: ops events cannot all be stored, and the ops log's stream cannot be created. */
  | {state: 'blocked'; stream: string; reason: string; hint: string}

/** Where the ops events are stored, from the streams whose subjects overlap `cim.ops.>`. */
export function locateOpsLog(overlapping: ReadonlyArray<{name: string; subjects: string[]}>, configured: string): OpsLogLocation {
  const capturing = overlapping.find((s) => s.subjects.some((subject) => subjectIsSubset(OPS_SUBJECTS, subject)))
  if (capturing) return {state: 'found', stream: capturing.name, configured: capturing.name === configured}
  if (overlapping.length === 0) return {state: 'missing', stream: configured}
  const parts = overlapping.map((s) => `${s.name} (${s.subjects.join(', ')})`).join(', ')
  return {
    state: 'blocked',
    stream: configured,
    reason: `no stream can hold the ops log: ${parts} capture${overlapping.length === 1 ? 's' : ''} part of ${OPS_SUBJECTS}, so ${configured} cannot be created beside ${overlapping.length === 1 ? 'it' : 'them'}`,
    hint: `add ${OPS_SUBJECTS} to the subjects of ${overlapping[0].name}, or remove the overlap so cimops can create ${configured}`,
  }
}

/** The ops log's stream as cimops creates it, in plain units; the wire's nanoseconds stay in this file. */
export interface OpsLogSpec {
  name: string
  replicas: number
  maxAgeSeconds: number
  maxBytes: number
  maxMessageBytes: number
  duplicateWindowSeconds: number
}

const NANOS_PER_SECOND = 1_000_000_000

/** File storage, limits retention, direct gets allowed. */
export function opsLogStreamConfig(spec: OpsLogSpec): Partial<StreamConfig> & {name: string} {
  return {
    name: spec.name,
    subjects: [OPS_SUBJECTS],
    storage: 'file' as StreamConfig['storage'],
    retention: 'limits' as StreamConfig['retention'],
    num_replicas: spec.replicas,
    max_age: spec.maxAgeSeconds * NANOS_PER_SECOND,
    max_bytes: spec.maxBytes,
    max_msg_size: spec.maxMessageBytes,
    duplicate_window: spec.duplicateWindowSeconds * NANOS_PER_SECOND,
    allow_direct: true,
  }
}

export interface OpenOpsLogOptions {
  /** Create this stream when no stream captures any ops subject (writers); readers see an empty log. */
  create?: OpsLogSpec
}

export interface OpsLog {
  /** The stream read and written: the one that captures `cim.ops.>`, else the configured name. */
  readonly stream: string
  readonly location: OpsLogLocation
  publish(subject: string, body: unknown, options?: OpsPublishOptions): Promise<OpsPublishResult>
  /** The last message stored on exactly this subject, or undefined. */
  lastOnSubject(subject: string): Promise<StoredOpsMessage | undefined>
  /** The message at this stream sequence, or undefined. */
  atSequence(seq: number): Promise<StoredOpsMessage | undefined>
  /**
   * Every message matching the filter that was stored when the read started, in stream order.
   * An ordered consumer is created; its initial num_pending is the count to read, so an empty
   * filter returns at once and messages published meanwhile are not waited for. A missing stream reads as empty.
   */
  read(filter: string): Promise<StoredOpsMessage[]>
}

/**
 * Publishes on core NATS, so every subscriber hears it whether or not a stream stores it; a stream
 * capturing the subject stores it too, and the Nats-Msg-Id lets a later JetStream publish of the
 * same event find that copy instead of storing a second one.
 */
export async function broadcastOpsEvent(nc: NatsConnection, subject: string, body: unknown, msgID: string, timeoutMs: number): Promise<void> {
  const {headers} = await import('@nats-io/transport-node')
  const h = headers()
  h.set(MSG_ID_HEADER, msgID)
  nc.publish(subject, JSON.stringify(body), {headers: h})
  try {
    // The server has it once it answers the flush's PING: published, not just buffered.
    await nc.flush()
  } catch (error) {
    throw toNatsError(error, stripUserinfo(nc.getServer()), timeoutMs)
  }
}

/** True for the JetStream error of an unmet publish expectation. */
export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof Error && ((error as {code?: unknown}).code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(error.message))
}


/** Where this server stores ops events: one STREAM.LIST of the streams overlapping `cim.ops.>`. */
export async function findOpsLog(jsm: JetStreamManager, configured: string, address: string, timeoutMs: number): Promise<OpsLogLocation> {
  return locateOpsLog(await listStreams(jsm, address, timeoutMs, {subject: OPS_SUBJECTS}), configured)
}

/** How long a writer waits for a linked site's answer before it creates its own ops log: a live link answers in ms. */
const LINKED_OPS_LOG_PROBE_MS = 1000

/**
 * The ops log of a site this one mirrors (the origin domains of its mirrors and sources), while that site answers.
 * A DR site linked to its primary must not create an ops log of its own: every ops event would then be stored at
 * both sites, a split brain of the ops log. With the primary out of reach it does, and carries on alone.
 */
async function linkedOpsLog(nc: NatsConnection, jsm: JetStreamManager, configured: string, address: string, timeoutMs: number): Promise<OpsLogLocation | undefined> {
  const {jetstreamManager} = await import('@nats-io/jetstream')
  const prefixes = new Set((await listStreams(jsm, address, timeoutMs)).flatMap((stream) => stream.sources.flatMap((source) => (source.apiPrefix ? [source.apiPrefix] : []))))
  const probeMs = Math.min(timeoutMs, LINKED_OPS_LOG_PROBE_MS)
  for (const prefix of prefixes) {
    const domain = domainOfApiPrefix(prefix)
    if (!domain) continue
    const remote = await jetstreamManager(nc, {domain, checkAPI: false, timeout: probeMs})
    const location = await findOpsLog(remote, configured, address, probeMs).catch(() => undefined)
    if (location?.state === 'found') return {...location, domain}
  }
  return undefined
}

/** Finds the stream holding the ops events, here or at a linked site, and with `create` creates the configured one when none does. */
async function resolveOpsLog(nc: NatsConnection, jsm: JetStreamManager, configured: string, address: string, timeoutMs: number, options: OpenOpsLogOptions): Promise<OpsLogLocation> {
  const locate = () => findOpsLog(jsm, configured, address, timeoutMs)
  const location = await locate()
  if (location.state !== 'missing') return location
  const linked = await linkedOpsLog(nc, jsm, configured, address, timeoutMs)
  if (linked || !options.create) return linked ?? location
  try {
    await jsm.streams.add(opsLogStreamConfig(options.create))
    return {state: 'found', stream: options.create.name, configured: true, created: true}
  } catch (error) {
    // Another cimops created it meanwhile, or a stream overlapping it appeared: look again.
    if (error instanceof Error && ((error as {code?: unknown}).code === STREAM_NAME_IN_USE || /overlap|already in use/i.test(error.message))) return locate()
    throw toNatsError(error, address, timeoutMs)
  }
}

export async function openOpsLog(nc: NatsConnection, localJsm: JetStreamManager, settings: NatsSettings, configured: string, timeoutMs: number, options: OpenOpsLogOptions = {}): Promise<OpsLog> {
  const {jetstream, jetstreamManager, DeliverPolicy} = await import('@nats-io/jetstream')
  const address = stripUserinfo(nc.getServer())
  const location = await resolveOpsLog(nc, localJsm, configured, address, timeoutMs, options)
  const linkedDomain = location.state === 'found' ? location.domain : undefined
  const domain = linkedDomain ?? settings.jsDomain
  const js: JetStreamClient = jetstream(nc, {domain, timeout: timeoutMs})
  const jsm = linkedDomain ? await jetstreamManager(nc, {domain: linkedDomain, checkAPI: false, timeout: timeoutMs}) : localJsm
  const {stream} = location
  const decoder = new TextDecoder()
  const fail = (error: unknown, what: string): never => {
    if (isWrongLastSequence(error)) throw error
    const typed = toNatsError(error, address, timeoutMs)
    if (typed instanceof Error && typed !== error) throw typed
    throw new ApiError('nats', address, `${what} on stream ${stream}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const parse = (bytes: Uint8Array): unknown => {
    try {
      return JSON.parse(decoder.decode(bytes))
    } catch {
      return undefined
    }
  }
  const fromStored = (m: {subject: string; seq: number; time: Date; data: Uint8Array}): StoredOpsMessage => ({
    subject: m.subject,
    seq: m.seq,
    time: m.time.toISOString(),
    data: parse(m.data),
  })

  async function getMessage(query: {seq: number} | {last_by_subj: string}): Promise<StoredOpsMessage | undefined> {
    try {
      const m = await jsm.streams.getMessage(stream, query)
      return m ? fromStored(m) : undefined
    } catch (error) {
      if (isStreamNotFound(error)) return undefined
      return fail(error, 'cannot get a message')
    }
  }

  return {
    stream,
    location,
    async publish(subject, body, options = {}) {
      if (location.state === 'blocked') throw new OperationError(`cannot store ${subject}`, location.reason, {hint: location.hint})
      try {
        // A 429 (backpressure, 2.11+) stored nothing: sent again after a pause, within a few timeouts.
        const ack = await withBackpressureRetry(
          () =>
            js.publish(subject, JSON.stringify(body), {
              msgID: options.msgID,
              expect: {streamName: stream, ...(options.expectLastSubjectSequence === undefined ? {} : {lastSubjectSequence: options.expectLastSubjectSequence})},
              timeout: timeoutMs,
            }),
          Math.max(2000, timeoutMs * 2),
        )
        return {seq: ack.seq, duplicate: ack.duplicate}
      } catch (error) {
        return fail(error, `cannot publish ${subject}`)
      }
    },
    lastOnSubject: (subject) => getMessage({last_by_subj: subject}),
    atSequence: (seq) => getMessage({seq}),
    async read(filter) {
      let consumer
      try {
        consumer = await js.consumers.get(stream, {filter_subjects: filter, deliver_policy: DeliverPolicy.All, inactive_threshold: Math.max(30_000, timeoutMs * 4)})
      } catch (error) {
        if (isStreamNotFound(error)) return []
        return fail(error, `cannot read ${filter}`)
      }
      const out: StoredOpsMessage[] = []
      try {
        let remaining = (await consumer.info(true)).num_pending
        while (remaining > 0) {
          const batch = await consumer.fetch({max_messages: Math.min(remaining, READ_BATCH), expires: Math.max(MIN_FETCH_EXPIRES_MS, timeoutMs)})
          let got = 0
          let caughtUp = false
          for await (const m of batch) {
            out.push({subject: m.subject, seq: m.seq, time: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString(), data: parse(m.data)})
            got++
            remaining--
            if (m.info.pending === 0) caughtUp = true
            if (remaining === 0) break
          }
          // Nothing came within the fetch's expiry (messages removed since the count), or all that exist now were seen: done.
          if (got === 0 || caughtUp) break
        }
      } catch (error) {
        return fail(error, `cannot read ${filter}`)
      } finally {
        await consumer.delete().catch(() => {})
      }
      return out
    },
  }
}
