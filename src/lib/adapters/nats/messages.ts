/**
 * Reading messages out of a stream: a bounded range with an ordered consumer, and following new
 * messages. Wire shapes stay here; callers get StreamMessage values (bytes, headers, sequence, time).
 *
 * When to stop never rests on num_pending: nats-server 2.9.10 gives a filtered consumer that starts
 * part-way into the stream a num_pending that is off by a few and changes from one call to the next,
 * so "pending 0" is only a hint, confirmed by STREAM.MSG.GET next_by_subj (exact) before stopping.
 */
import type {ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, OrderedConsumerOptions} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

import type {NatsSettings} from '../../core/context-types.js'
import {TimeoutError, UnreachableError} from '../../core/errors.js'
import {toNatsError} from './connection.js'
import {lastMessageMeta, type MessageMeta, NANOS_PER_MS, nextMessageMeta, type StreamMessage, toJetStreamError} from './jetstream.js'

/** Helper consumers vanish on their own this long after their last use, should a delete be lost. */
export const HELPER_INACTIVE_MS = 30_000
/** Messages per pull while reading a range. */
const READ_BATCH = 256
/** How long a follower's stop waits for its consumer to be deleted. */
const DELETE_WAIT_MS = 1000
/** No message for this long while reading a range: ask the stream whether more is coming. */
export const IDLE_CHECK_MS = 150

export interface MessageFilter {
  stream: string
  /** Empty: every subject of the stream. More than one needs server >= 2.10: callers gate that by version. */
  filterSubjects: string[]
}

interface Api {
  nc: NatsConnection
  jsApiPrefix: string
  timeoutMs: number
  address: string
}

/** A JetStream client honouring the JetStream domain. */
export async function jetstreamClientFor(nc: NatsConnection, settings: NatsSettings, timeoutMs: number): Promise<JetStreamClient> {
  const {jetstream} = await import('@nats-io/jetstream')
  return jetstream(nc, {domain: settings.jsDomain, timeout: timeoutMs})
}

/**
 * The first stream sequence stored at or after `time` (lastSeq + 1 when none): the start of a fresh
 * unfiltered consumer with deliver_policy by_start_time, which is deleted at once.
 */
export async function seqForTime(jsm: JetStreamManager, stream: string, time: Date, address: string, timeoutMs: number): Promise<number> {
  try {
    const info = await jsm.consumers.add(stream, {
      ack_policy: 'none',
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: HELPER_INACTIVE_MS * NANOS_PER_MS,
      deliver_policy: 'by_start_time',
      opt_start_time: time.toISOString(),
    })
    void jsm.consumers.delete(stream, info.name).catch(() => undefined)
    return info.delivered.stream_seq + 1
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
}

/** The first message at or after `seq` matching any of the filters (one exact STREAM.MSG.GET per filter). */
export async function nextMatching(api: Api, filter: MessageFilter, seq: number): Promise<MessageMeta | undefined> {
  const filters = filter.filterSubjects.length > 0 ? filter.filterSubjects : ['>']
  const found = await Promise.all(filters.map((f) => nextMessageMeta(api.nc, filter.stream, seq, f, api)))
  return earliest(found)
}

export interface ReadRange {
  startSeq: number
  /** Inclusive: reading stops at this sequence even if more arrive meanwhile. */
  endSeq: number
  /** At most this many messages (with keepLast: the last this many of the range). */
  limit: number
  /** Read the whole range and keep only its last `limit` messages. */
  keepLast?: boolean
  /** Only count them: the consumer delivers headers only and no message is kept (`seen` is the answer). */
  countOnly?: boolean
  signal?: AbortSignal
}

export interface ReadResult {
  messages: StreamMessage[]
  /** Matching messages seen in the range (more than `messages` with keepLast). */
  seen: number
  /** The next matching message after the ones returned, when the limit cut the range short. */
  next?: MessageMeta
}

/**
 * Reads the matching messages of `[startSeq, endSeq]` with an ordered consumer (ephemeral, memory,
 * R1, no acks; nats.js recreates it from the last sequence on a gap). Never waits for messages that
 * do not exist: it stops at the limit, at endSeq, or once STREAM.MSG.GET says nothing more matches
 * up to endSeq — asked when the server hints at the end (pending 0, or the last matching sequence
 * seen at the start) or when nothing has arrived for a moment.
 */
export async function readMessages(js: JetStreamClient, api: Api, filter: MessageFilter, range: ReadRange): Promise<ReadResult> {
  const {address, timeoutMs} = api
  try {
    const first = await nextMatching(api, filter, range.startSeq)
    if (!first || first.seq > range.endSeq || range.limit <= 0) return {messages: [], seen: 0}
    const lastHint = await lastMatching(api, filter)
    const isEnd = async (afterSeq: number) => {
      if (afterSeq >= range.endSeq) return true
      const next = await nextMatching(api, filter, afterSeq + 1)
      return !next || next.seq > range.endSeq
    }

    const consumer = await js.consumers.get(filter.stream, {
      ...orderedFilter(filter.filterSubjects),
      deliver_policy: 'by_start_sequence',
      opt_start_seq: first.seq,
      inactive_threshold: HELPER_INACTIVE_MS,
      ...(range.countOnly ? {headers_only: true} : {}),
    })
    const messages = await consumer.consume({max_messages: Math.min(range.keepLast ? READ_BATCH : range.limit, READ_BATCH)})
    const out: StreamMessage[] = []
    let seen = 0
    let lastSeq = first.seq - 1
    let next: MessageMeta | undefined
    await iterate(messages, range.signal, timeoutMs, address, async (message) => {
      if (message === 'idle') return !(await isEnd(lastSeq))
      if (message.seq > range.endSeq) return false
      lastSeq = message.seq
      seen++
      if (!range.countOnly) out.push(toStreamMessage(message))
      if (range.keepLast && out.length > range.limit) out.shift()
      if (!range.keepLast && seen >= range.limit) {
        next = message.seq < range.endSeq ? await nextMatching(api, filter, message.seq + 1) : undefined
        if (next && next.seq > range.endSeq) next = undefined
        return false
      }
      const hintedEnd = message.info.pending === 0 || (lastHint !== undefined && message.seq >= lastHint.seq)
      return !(message.seq >= range.endSeq || (hintedEnd && (await isEnd(message.seq))))
    })
    await consumer.delete().catch(() => undefined)
    return {messages: out, seen, next}
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
}

/**
 * Delivers messages that arrive from now on (or from `startSeq`) to `onMessage` until the signal
 * aborts. Resolves when it has stopped.
 */
export async function followMessages(
  js: JetStreamClient,
  filter: MessageFilter,
  options: {signal: AbortSignal; startSeq?: number; onMessage: (message: StreamMessage) => void},
  address: string,
  timeoutMs: number,
): Promise<void> {
  if (options.signal.aborted) return
  try {
    const consumer = await js.consumers.get(filter.stream, {
      ...orderedFilter(filter.filterSubjects),
      ...(options.startSeq === undefined ? {deliver_policy: 'new' as const} : {deliver_policy: 'by_start_sequence' as const, opt_start_seq: options.startSeq}),
    })
    const messages = await consumer.consume({max_messages: READ_BATCH})
    await iterate(messages, options.signal, undefined, address, async (message) => {
      if (message !== 'idle') options.onMessage(toStreamMessage(message))
      return true
    })
    // The iteration ends by itself only when nats.js gives up (the connection closed for good).
    if (!options.signal.aborted) throw new UnreachableError('nats', address, 'the connection was lost while following the stream')
    await consumer.delete().catch(() => undefined)
  } catch (error) {
    if (options.signal.aborted) return
    throw toNatsError(toJetStreamError(error, address, timeoutMs), address, timeoutMs)
  }
}

/** A stored message as the fast follower hands it over: nats.js's own message, read lazily, no copies. */
export interface FollowedMessage {
  /** Stream sequence. */
  readonly seq: number
  readonly subject: string
  readonly data: Uint8Array
}

export interface Follower {
  /**
   * Settles when the consumer has stopped: after stop(), or when nats.js gave up on it (the
   * connection closed for good, the server refused the pull). The reason, if any, is the value.
   */
  readonly stopped: Promise<unknown>
  stop(): Promise<void>
}

/**
 * Follows a stream from `startSeq` for a long-running process (the event monitor): nats.js's ordered
 * consumer (ephemeral, memory, R1, no acks) in callback mode, so a message costs one call and no
 * promise, and pulls of `batch` messages refilled at three quarters. The ordered consumer recreates
 * itself from the sequence after the last one it delivered on a gap, missed heartbeats, or after a
 * reconnect; a caller that needs more certainty restarts it from its own position. `onMessage` must
 * not throw: nats.js would stop the consumer.
 */
export async function startFollowing(
  js: JetStreamClient,
  filter: MessageFilter,
  options: {startSeq: number; batch?: number; namePrefix?: string; onMessage: (message: FollowedMessage) => void},
  address: string,
  timeoutMs: number,
): Promise<Follower> {
  try {
    const consumer = await js.consumers.get(filter.stream, {
      ...orderedFilter(filter.filterSubjects),
      deliver_policy: 'by_start_sequence',
      opt_start_seq: Math.max(1, options.startSeq),
      ...(options.namePrefix ? {name_prefix: options.namePrefix} : {}),
    })
    const messages = await consumer.consume({max_messages: options.batch ?? READ_BATCH, callback: (message) => options.onMessage(message)})
    const stopped = messages.closed().then(
      (reason) => reason,
      (error: unknown) => error,
    )
    return {
      stopped,
      async stop() {
        await messages.close()
        // Best effort and brief: during an outage the delete would wait out the timeout, and the
        // server drops an idle ordered consumer on its own after a few minutes anyway.
        await Promise.race([consumer.delete().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, DELETE_WAIT_MS).unref())])
      },
    }
  } catch (error) {
    throw toNatsError(toJetStreamError(error, address, timeoutMs), address, timeoutMs)
  }
}

/**
 * Feeds messages to `take` until it returns false or the signal aborts. With `idleLimitMs`, `take`
 * is also called with 'idle' after IDLE_CHECK_MS without a message (false ends the reading), and
 * nothing at all for idleLimitMs is a TimeoutError.
 */
async function iterate(
  messages: ConsumerMessages,
  signal: AbortSignal | undefined,
  idleLimitMs: number | undefined,
  address: string,
  take: (message: JsMsg | 'idle') => Promise<boolean>,
): Promise<void> {
  const iterator = messages[Symbol.asyncIterator]()
  // Abort by ending the iteration, not by racing every message against a promise that never
  // settles: each such race would keep its message reachable until the read ends (a tail never does).
  let aborted = signal?.aborted ?? false
  let wakeOnAbort: ((value: 'aborted') => void) | undefined
  const onAbort = () => {
    aborted = true
    wakeOnAbort?.('aborted')
  }
  signal?.addEventListener('abort', onAbort, {once: true})
  let timer: NodeJS.Timeout | undefined
  let idleSince = Date.now()
  try {
    let pending = iterator.next()
    for (;;) {
      if (aborted) return
      const abortWait = new Promise<'aborted'>((resolve) => (wakeOnAbort = resolve))
      const idle = idleLimitMs === undefined ? undefined : new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), IDLE_CHECK_MS)))
      const result = await Promise.race([pending, abortWait, ...(idle ? [idle] : [])])
      wakeOnAbort = undefined
      clearTimeout(timer)
      if (result === 'aborted') return
      if (result === 'idle') {
        if (!(await take('idle'))) return
        if (idleLimitMs !== undefined && Date.now() - idleSince > idleLimitMs) throw new TimeoutError('nats', address, idleLimitMs)
        continue
      }
      if (result.done) return
      pending = iterator.next()
      idleSince = Date.now()
      if (!(await take(result.value))) return
    }
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    // A message may already be waiting at the iterator's yield: close() alone would then never
    // settle (nats.js runs the stop inside the iteration), so the iterator is returned as well.
    const closing = messages.close()
    await iterator.return?.(undefined)
    await closing
  }
}

/** The last message matching any filter, as a hint of where the range ends. */
async function lastMatching(api: Api, filter: MessageFilter): Promise<MessageMeta | undefined> {
  const filters = filter.filterSubjects.length > 0 ? filter.filterSubjects : ['>']
  const found = await Promise.all(filters.map((f) => lastMessageMeta(api.nc, filter.stream, f, api)))
  return found.filter((m) => m !== undefined).sort((a, b) => b.seq - a.seq)[0]
}

function earliest(found: Array<MessageMeta | undefined>): MessageMeta | undefined {
  return found.filter((m) => m !== undefined).sort((a, b) => a.seq - b.seq)[0]
}

export function toStreamMessage(message: Pick<JsMsg, 'seq' | 'time' | 'subject' | 'headers' | 'data'>): StreamMessage {
  const headers: Record<string, string[]> = {}
  if (message.headers) for (const key of message.headers.keys()) headers[key] = message.headers.values(key)
  return {seq: message.seq, time: message.time, subject: message.subject, headers, data: message.data}
}

/** nats.js sends a string as filter_subject (works on 2.9) and an array as filter_subjects (>= 2.10). */
function orderedFilter(filters: string[]): Partial<OrderedConsumerOptions> {
  if (filters.length === 0) return {}
  return {filter_subjects: filters.length === 1 ? filters[0] : filters}
}
