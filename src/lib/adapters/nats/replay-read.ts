/**
 * Streaming read of a stream range for replay: an ordered consumer (ephemeral, memory, R1, no acks;
 * nats.js recreates it from the last sequence on a gap) from startSeq, stopping at endSeq fixed up
 * front. Each message is handed to `onMessage` and awaited (backpressure: never the whole selection
 * in memory). The end is confirmed with STREAM.MSG.GET next_by_subj, never by num_pending alone
 * (it is off by a few for filtered consumers on 2.9.10).
 */
import {InterruptedError, TimeoutError} from '../../core/errors.js'
import type {StreamMessage} from './jetstream.js'
import {toJetStreamError} from './jetstream.js'
import {type MessageFilter, nextMatching, toStreamMessage} from './messages.js'
import type {JetStreamSession} from '../../streams/session.js'

const BATCH = 512
const IDLE_CHECK_MS = 150
const HELPER_INACTIVE_MS = 30_000

export interface ReplayReadOptions {
  startSeq: number
  /** Inclusive. */
  endSeq: number
  /** Only subjects and headers travel (dry-run). */
  headersOnly?: boolean
  signal?: AbortSignal
  /** No message for this long while more are expected: TimeoutError. */
  idleLimitMs: number
}

/** Reads matching messages of [startSeq, endSeq] in order; returns the number read. */
export async function readRange(session: JetStreamSession, filter: MessageFilter, options: ReplayReadOptions, onMessage: (message: StreamMessage) => void | Promise<void>): Promise<number> {
  const {address, timeoutMs} = session
  const api = {nc: session.nc, jsApiPrefix: session.jsApiPrefix, timeoutMs, address}
  const isEnd = async (afterSeq: number) => {
    if (afterSeq >= options.endSeq) return true
    const next = await nextMatching(api, filter, afterSeq + 1)
    return !next || next.seq > options.endSeq
  }
  const interrupted = () => (options.signal?.reason instanceof Error ? options.signal.reason : new InterruptedError('replay was interrupted'))
  if (options.signal?.aborted) throw interrupted()
  let count = 0
  try {
    const first = await nextMatching(api, filter, options.startSeq)
    if (!first || first.seq > options.endSeq) return 0
    const js = await session.js()
    const filters = filter.filterSubjects
    const consumer = await js.consumers.get(filter.stream, {
      ...(filters.length === 0 ? {} : {filter_subjects: filters.length === 1 ? filters[0] : filters}),
      deliver_policy: 'by_start_sequence',
      opt_start_seq: first.seq,
      inactive_threshold: HELPER_INACTIVE_MS,
      ...(options.headersOnly ? {headers_only: true} : {}),
    })
    const messages = await consumer.consume({max_messages: BATCH})
    // No Promise.race per message against a long-lived promise (each race leaves a reaction on it, so
    // every message would stay reachable): a watchdog stops the iteration instead.
    let lastSeq = first.seq - 1
    let lastActivity = Date.now()
    let busy = false
    let checking = false
    let failure: unknown
    const stop = (error?: unknown) => {
      if (error !== undefined) failure ??= error
      messages.stop()
    }
    const watchdog = setInterval(() => {
      if (busy || checking || Date.now() - lastActivity < IDLE_CHECK_MS) return
      checking = true
      const seen = lastSeq
      isEnd(seen)
        .then((end) => {
          if (end && seen === lastSeq && !busy) stop()
          else if (Date.now() - lastActivity > options.idleLimitMs) stop(new TimeoutError('nats', address, options.idleLimitMs))
        })
        .catch((error) => stop(error))
        .finally(() => (checking = false))
    }, IDLE_CHECK_MS)
    const onAbort = () => stop(interrupted())
    options.signal?.addEventListener('abort', onAbort, {once: true})
    try {
      for await (const message of messages) {
        if (failure) break
        if (message.seq > options.endSeq) break
        busy = true
        lastSeq = message.seq
        count++
        await onMessage(toStreamMessage(message))
        lastActivity = Date.now()
        busy = false
        if (message.seq >= options.endSeq) break
        if (message.info.pending === 0 && (await isEnd(message.seq))) break
        lastActivity = Date.now()
      }
    } finally {
      clearInterval(watchdog)
      options.signal?.removeEventListener('abort', onAbort)
      messages.stop()
      await consumer.delete().catch(() => undefined)
    }
    if (failure) throw failure
    if (options.signal?.aborted) throw interrupted()
    return count
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
}
