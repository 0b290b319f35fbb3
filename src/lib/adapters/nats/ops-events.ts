/**
 * Ops events on a JetStream stream (CIM_OPS): publish with a msgID and optimistic-concurrency
 * expectations, look up the last message of a subject, and read every message of a subject filter
 * that was stored when the read started. The only place that knows these nats.js calls.
 */
import type {JetStreamClient, JetStreamManager} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

import {ApiError} from '../../core/errors.js'
import type {NatsSettings} from '../../core/context-types.js'
import {stripUserinfo} from '../redact.js'
import {toNatsError} from './connection.js'

/** JetStream API error code of a failed `Nats-Expected-Last-*-Sequence` check: "wrong last sequence". */
export const WRONG_LAST_SEQUENCE = 10071
const STREAM_NOT_FOUND = 10059
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

export interface OpsLog {
  readonly stream: string
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

/** True for the JetStream error of an unmet publish expectation. */
export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof Error && ((error as {code?: unknown}).code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(error.message))
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof Error && (error.name === 'StreamNotFoundError' || (error as {code?: unknown}).code === STREAM_NOT_FOUND)
}

export async function openOpsLog(nc: NatsConnection, jsm: JetStreamManager, settings: NatsSettings, stream: string, timeoutMs: number): Promise<OpsLog> {
  const {jetstream, DeliverPolicy} = await import('@nats-io/jetstream')
  const js: JetStreamClient = jetstream(nc, {domain: settings.jsDomain, timeout: timeoutMs})
  const address = stripUserinfo(nc.getServer())
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
    async publish(subject, body, options = {}) {
      try {
        const ack = await js.publish(subject, JSON.stringify(body), {
          msgID: options.msgID,
          expect: {streamName: stream, ...(options.expectLastSubjectSequence === undefined ? {} : {lastSubjectSequence: options.expectLastSubjectSequence})},
          timeout: timeoutMs,
        })
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
