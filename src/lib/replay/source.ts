/**
 * Where a replay's events come from: a stream range read by an ordered consumer, or a replay file.
 * Both are checked when opened, before anything is created or published, and both hand the events
 * the tally selects to a sink, in order, no faster than the sink takes them.
 */
import {basename} from 'node:path'

import type {StreamSummary} from '../adapters/nats/jetstream.js'
import type {MessageFilter} from '../adapters/nats/messages.js'
import type {RangeEvent} from '../adapters/nats/range-reader.js'
import {InterruptedError, UsageError} from '../core/errors.js'
import {checkReadSupport, narrowFilters} from '../streams/events.js'
import {streamNotFound} from '../streams/errors.js'
import type {JetStreamSession} from '../adapters/nats/session.js'
import type {ReplayOptions, ReplayPlan} from './model.js'
import type {SelectionTally} from './tally.js'

/** The stream reader, to wake when room grows or to stop on a failure. */
export interface ReaderHandle {
  wake(): void
  cancel(error: unknown): void
}

/** Where the selection goes, event by event (synchronously), with backpressure. */
export interface SelectionSink {
  onEvent(event: RangeEvent): void
  /** How many more events it can take now. */
  room(): number
  whenRoom(): Promise<void>
  attach?(reader: ReaderHandle): void
}

/** A sink that takes everything at once: the dry run, which only counts. */
export const COUNTING_SINK: SelectionSink = {onEvent: () => undefined, room: () => Number.MAX_SAFE_INTEGER, whenRoom: async () => undefined}

export interface ReplaySource {
  /** The source stream; undefined for a replay file. */
  readonly stream?: StreamSummary
  /** How republished events name their source (the Cim-Replay-Source header). */
  readonly label: string
  /** Streams the selection into the sink, in order, pulling no more than it has room for. */
  read(sink: SelectionSink, headersOnly: boolean): Promise<void>
  /** Whether no event of the range matches the server-side filters (a file cannot tell before it is read). */
  isEmpty(): Promise<boolean>
}

/** How long a replay waits out a fault (a restarting server, a leader election) before it fails and can be resumed. */
export function faultToleranceMs(session: JetStreamSession): number {
  return Math.max(30_000, session.timeoutMs * 4)
}

export async function findSourceStream(session: JetStreamSession, name: string): Promise<StreamSummary> {
  const {findStream, listStreamNames} = await import('../adapters/nats/jetstream.js')
  checkReadSupport(session.features)
  const stream = await findStream(session.jsm, name, session.address, session.timeoutMs)
  if (!stream) throw streamNotFound(name, await listStreamNames(session.jsm, session.address, session.timeoutMs))
  return stream
}

/** Resolves the end of a fresh plan against the source stream (since/until/from/to), once, at the start. */
export async function resolveRange(
  session: JetStreamSession,
  stream: StreamSummary,
  bounds: {since?: Date; until?: Date; fromSeq?: number; toSeq?: number},
): Promise<{fromSeq: number; toSeq: number}> {
  const {seqForTime} = await import('../adapters/nats/messages.js')
  let fromSeq = Math.max(stream.firstSeq, bounds.fromSeq ?? 1)
  let toSeq = Math.min(stream.lastSeq, bounds.toSeq ?? Number.MAX_SAFE_INTEGER)
  if (bounds.since) fromSeq = Math.max(fromSeq, await seqForTime(session.jsm, stream.name, bounds.since, session.address, session.timeoutMs))
  if (bounds.until) toSeq = Math.min(toSeq, (await seqForTime(session.jsm, stream.name, bounds.until, session.address, session.timeoutMs)) - 1)
  return {fromSeq, toSeq}
}

/** Opens the plan's source from `startSeq` on; a stream source needs the session. */
export async function openSource(session: JetStreamSession | undefined, plan: ReplayPlan, startSeq: number, tally: SelectionTally, options: ReplayOptions): Promise<ReplaySource> {
  if ('stream' in plan.source) return openStreamSource(session!, plan, plan.source.stream, startSeq, tally, options.signal)
  return openFileSource(plan.source.file, tally, options)
}

async function openStreamSource(session: JetStreamSession, plan: ReplayPlan, name: string, startSeq: number, tally: SelectionTally, signal: AbortSignal | undefined): Promise<ReplaySource> {
  const stream = await findSourceStream(session, name)
  const narrowed = narrowFilters(plan.filters, stream.subjects)
  if (plan.filters.length > 0 && narrowed.length === 0) {
    throw new UsageError(`no subject of ${stream.name} can match ${plan.filters.join(', ')}`, `its subjects are ${stream.subjects.join(', ')}`)
  }
  // Several filters on one consumer need 2.10; on older servers the whole range is read and filtered here.
  const serverFilters = narrowed.length <= 1 || session.features.has('multipleFilters') ? narrowed : []
  const filter: MessageFilter = {stream: stream.name, filterSubjects: serverFilters}
  return {
    stream,
    label: name,
    async isEmpty() {
      const {nextMatching} = await import('../adapters/nats/messages.js')
      const next = await nextMatching({nc: session.nc, jsApiPrefix: session.jsApiPrefix, timeoutMs: session.timeoutMs, address: session.address}, filter, startSeq)
      return !next || next.seq > plan.toSeq
    },
    async read(sink, headersOnly) {
      if (startSeq > plan.toSeq) return
      const {RangeReader} = await import('../adapters/nats/range-reader.js')
      const reader = new RangeReader(session, filter, {startSeq, endSeq: plan.toSeq, headersOnly, signal, idleLimitMs: faultToleranceMs(session)}, {
        onEvent: (event) => {
          if (tally.take(event)) sink.onEvent(event)
        },
        room: () => sink.room(),
      })
      sink.attach?.(reader)
      await reader.read()
    },
  }
}

async function openFileSource(file: string, tally: SelectionTally, options: ReplayOptions): Promise<ReplaySource> {
  // The whole file is checked before anything is created or published: a cut file leaves nothing behind.
  const {checkReplayFile, readReplayFile} = await import('./file.js')
  await checkReplayFile(file, {onWarning: options.onWarning})
  const {signal} = options
  return {
    label: `file:${basename(file)}`,
    isEmpty: async () => false,
    async read(sink) {
      for await (const event of readReplayFile(file)) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('replay was interrupted')
        if (sink.room() <= 0) await sink.whenRoom()
        if (tally.take(event)) sink.onEvent(event)
      }
    },
  }
}
