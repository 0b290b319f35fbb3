/**
 * How many messages of a stream match a subject filter since a given time, exactly, on every server.
 *
 * Not from num_pending: nats-server 2.9.10 gives a filtered consumer that starts part-way into the stream a
 * num_pending that is off by a few (messages.ts). Instead the first sequence stored at or after the time is
 * found (a consumer by start time), and the matching messages from there to the stream's last sequence at the
 * time of asking are read with a headers-only ordered consumer and counted. That costs a read of every
 * matching message, so the count is bounded: past `limit` it stops and says "more than".
 */
import {toJetStreamError} from './jetstream.js'
import {readMessages, seqForTime} from './messages.js'
import type {JetStreamSession} from './session.js'

export interface WindowCountOptions {
  /** Count at most this many: a larger window answers `limit + 1`, which reads "more than limit". */
  limit: number
  /** Only messages stored before this time; default: up to the stream's last message when asked. */
  until?: Date
  signal?: AbortSignal
}

/**
 * Messages on `stream` matching `filter` stored at or after `since` (and before `options.until`, else up to
 * the stream's last message when asked). At most `options.limit + 1`, which means more than the limit (the
 * reading stopped there).
 */
export async function countMatchingSince(session: JetStreamSession, stream: string, filter: string, since: Date, options: WindowCountOptions): Promise<number> {
  const {jsm, nc, address, timeoutMs, jsApiPrefix} = session
  let lastSeq: number
  try {
    lastSeq = (await jsm.streams.info(stream)).state.last_seq
  } catch (error) {
    throw toJetStreamError(error, address, timeoutMs)
  }
  const startSeq = await seqForTime(jsm, stream, since, address, timeoutMs)
  const endSeq = options.until === undefined ? lastSeq : Math.min(lastSeq, (await seqForTime(jsm, stream, options.until, address, timeoutMs)) - 1)
  if (startSeq > endSeq) return 0
  const {seen, next} = await readMessages(
    await session.js(),
    {nc, jsApiPrefix, timeoutMs, address},
    {stream, filterSubjects: [filter]},
    {startSeq, endSeq, limit: options.limit, countOnly: true, signal: options.signal},
  )
  return next ? options.limit + 1 : seen
}

