/**
 * Messages of a stream, one by one in sequence order, for logical backups and drill comparisons;
 * and publishing them back in order for logical restores.
 *
 * Reading uses an ordered consumer (ephemeral, memory, no acks; nats.js recreates it on a gap) and
 * stops at a sequence fixed up front, so a stream that keeps growing never makes it hang.
 */
import type {MsgHdrs} from '@nats-io/transport-node'

import {InterruptedError, OperationError} from '../../core/errors.js'
import {type JsApi, JsApiError, natsFailure, parseApiReply} from './backup-streams.js'

const SYSTEM = 'nats'

export interface StoredMessage {
  seq: number
  subject: string
  data: Uint8Array
  /** Header name -> values, in the order they were stored; undefined when the message has none. */
  headers?: Array<[string, string[]]>
  /** Storage time in nanoseconds since the epoch. */
  timeNanos: bigint
}

export interface ReadOptions {
  /** First sequence to read (default: the stream's first). */
  fromSeq?: number
  /** Stop after this sequence; later messages are not read. */
  toSeq: number
  /** Fail when no message arrives for this long while more are expected. */
  idleTimeoutMs: number
  signal?: AbortSignal
}

/**
 * Calls `onMessage` for every message with fromSeq <= seq <= toSeq, in order, awaiting it (backpressure).
 * Returns how many were read. The caller checks beforehand that there is something to read.
 */
export async function readMessages(api: JsApi, stream: string, opts: ReadOptions, onMessage: (message: StoredMessage) => void | Promise<void>): Promise<number> {
  const {jetstream, DeliverPolicy} = await import('@nats-io/jetstream')
  const what = `reading the messages of ${stream}`
  const js = jetstream(api.nc, {domain: api.jsDomain, timeout: api.timeoutMs})
  let consumer
  try {
    consumer = await js.consumers.get(stream, {
      ...(opts.fromSeq && opts.fromSeq > 1 ? {deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.fromSeq} : {}),
      inactive_threshold: Math.max(30_000, opts.idleTimeoutMs * 2),
    })
  } catch (error) {
    throw natsFailure(error, api, api.timeoutMs, what)
  }
  const messages = await consumer.consume({max_messages: 1024})
  let count = 0
  let lastSeq = 0
  let lastActivity = Date.now()
  let failure: unknown
  const stop = (error: unknown) => {
    failure ??= error
    messages.stop()
  }
  const idle = setInterval(() => {
    if (Date.now() - lastActivity > opts.idleTimeoutMs) {
      stop(new OperationError(`${what} failed`, `no message for ${Math.round(opts.idleTimeoutMs / 1000)}s after sequence ${lastSeq} (expected up to ${opts.toSeq})`, {
        hint: 'the server stopped delivering; run again, or raise --timeout',
        system: SYSTEM,
        address: api.address,
      }))
    }
  }, Math.min(1000, opts.idleTimeoutMs))
  const onAbort = () => stop(opts.signal?.reason instanceof Error ? opts.signal.reason : new InterruptedError(`${what} was interrupted`))
  if (opts.signal?.aborted) onAbort()
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  let reachedEnd = false
  try {
    for await (const m of messages) {
      lastActivity = Date.now()
      const seq = m.info.streamSequence
      if (seq > opts.toSeq) {
        reachedEnd = true
        break
      }
      lastSeq = seq
      await onMessage({seq, subject: m.subject, data: m.data, headers: m.headers ? headerEntries(m.headers) : undefined, timeNanos: m.timestampNanos})
      count++
      lastActivity = Date.now()
      // pending 0: nothing after this one (later sequences up to toSeq were deleted).
      if (seq >= opts.toSeq || m.info.pending === 0) {
        reachedEnd = true
        break
      }
      if (failure) break
    }
  } catch (error) {
    failure ??= natsFailure(error, api, api.timeoutMs, what)
  } finally {
    clearInterval(idle)
    opts.signal?.removeEventListener('abort', onAbort)
    messages.stop()
  }
  if (failure) throw failure
  if (!reachedEnd) throw new OperationError(`${what} failed`, `the consumer ended after sequence ${lastSeq}, before ${opts.toSeq}`, {system: SYSTEM, address: api.address})
  return count
}

function headerEntries(headers: MsgHdrs): Array<[string, string[]]> | undefined {
  const entries: Array<[string, string[]]> = []
  for (const [key, values] of headers) entries.push([key, [...values]])
  return entries.length > 0 ? entries : undefined
}

export interface OutgoingMessage {
  subject: string
  data: Uint8Array
  headers?: Array<[string, string[]]>
}

export interface PublishOptions {
  /** The stream that must store them (sent as Nats-Expected-Stream, so no other stream can take them). */
  stream: string
  /** Publishes in flight; nats.js v3 has no publishAsync, ~100-1000 is its sweet spot. */
  window?: number
  timeoutMs: number
  signal?: AbortSignal
  onPublished?(count: number): void
}

/**
 * Publishes in order with up to `window` acks outstanding; fails on the first refusal or duplicate
 * (a stored Nats-Msg-Id inside the duplicate window would silently drop a message otherwise).
 */
export async function publishMessages(api: JsApi, messages: AsyncIterable<OutgoingMessage>, opts: PublishOptions): Promise<{published: number; lastSeq: number}> {
  const {headers: createHeaders} = await import('@nats-io/transport-node')
  const window = opts.window ?? 256
  const what = `publishing into ${opts.stream}`
  const inFlight: Array<Promise<number>> = []
  let published = 0
  let lastSeq = 0
  const settleOldest = async () => {
    const seq = await inFlight.shift()!
    if (seq <= lastSeq) throw new OperationError(`${what} failed`, `the server stored a message out of order (sequence ${seq} after ${lastSeq})`, {system: SYSTEM, address: api.address})
    lastSeq = seq
    published++
    opts.onPublished?.(published)
  }
  const publishOne = async (message: OutgoingMessage, index: number): Promise<number> => {
    const h = createHeaders()
    for (const [key, values] of message.headers ?? []) {
      // Expectations were checked when the message was first stored; they would fail now.
      if (/^nats-expected-/i.test(key)) continue
      for (const value of values) h.append(key, value)
    }
    h.set('Nats-Expected-Stream', opts.stream)
    let text: string
    try {
      const reply = await api.nc.request(message.subject, message.data, {timeout: opts.timeoutMs, headers: h})
      text = new TextDecoder().decode(reply.data)
    } catch (error) {
      throw natsFailure(error, api, opts.timeoutMs, `${what} (message ${index + 1}, subject ${message.subject})`)
    }
    let ack
    try {
      ack = parseApiReply(text, api.address, what)
    } catch (error) {
      if (error instanceof JsApiError) throw new OperationError(`${what} failed`, `message ${index + 1} (subject ${message.subject}) was refused: ${error.why}`, {system: SYSTEM, address: api.address})
      throw error
    }
    if (ack.duplicate === true) {
      throw new OperationError(`${what} failed`, `message ${index + 1} (subject ${message.subject}) was dropped as a duplicate of an earlier Nats-Msg-Id`, {
        hint: 'the backup holds two messages with the same Nats-Msg-Id; the server keeps only the first within its duplicate window',
        system: SYSTEM,
        address: api.address,
      })
    }
    return Number(ack.seq)
  }
  let index = 0
  try {
    for await (const message of messages) {
      if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new InterruptedError(`${what} was interrupted`)
      const pending = publishOne(message, index++)
      pending.catch(() => {})
      inFlight.push(pending)
      if (inFlight.length >= window) await settleOldest()
    }
    while (inFlight.length > 0) await settleOldest()
  } finally {
    // Nothing left unobserved when one failed.
    for (const pending of inFlight) pending.catch(() => {})
  }
  return {published, lastSeq}
}
