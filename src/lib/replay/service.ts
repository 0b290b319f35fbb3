/**
 * `cimops replay`: read a selection of events (from a stream, or a replay file) up to an end fixed at
 * the start, and republish them (to a prefix, another stream) or export them to a file. Every
 * republished event gets a deterministic message id (`<replay id>:<source seq>`), so a repeated or
 * resumed replay never duplicates within the target's duplicate window. A state file records the
 * plan and, every few thousand events, how far acknowledgements reach: `--resume ID` continues there.
 */
import {mkdir, readFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'

import type {StreamSummary} from '../adapters/nats/jetstream.js'
import type {RangeEvent} from '../adapters/nats/range-reader.js'
import type {MessageFilter} from '../adapters/nats/messages.js'
import {writeFileAtomic} from '../core/atomic-write.js'
import type {ResolvedContext} from '../core/context-types.js'
import {DataError, ExitCode, InterruptedError, isCimopsError, NotFoundError, OperationError, UsageError} from '../core/errors.js'
import {cimopsDataDir} from '../core/paths.js'
import {intersectSubjects} from '../adapters/nats/subjects.js'
import {checkReadSupport, narrowFilters} from '../streams/events.js'
import {streamNotFound} from '../streams/errors.js'
import type {JetStreamSession, NatsSession} from '../adapters/nats/session.js'
import {cimParts, clientMatcher, type Destination, REPLAY_ID_HEADER, REPLAY_SOURCE_HEADER, replayHeaders, type SubjectMapping, targetSubject} from './selection.js'

/** Rough replay rate for the dry-run estimate (bench/replay on a 2-core machine shared with nats-server). */
export const ESTIMATED_RATE = 50_000
const CHECKPOINT_EVERY = 5000
/** Publish acknowledgements outstanding at most, unless --max-in-flight says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 1024
/** Duplicate window of a target stream created by --create-target: long enough to resume the next morning. */
const CREATED_DUPLICATE_WINDOW_MS = 24 * 3600 * 1000

export type ReplayTarget = {kind: 'prefix'; prefix: string} | {kind: 'stream'; stream: string; createTarget: boolean} | {kind: 'file'; path: string}

/** Everything needed to run (and resume) a replay: stored in the state file. */
export interface ReplayPlan {
  replayId: string
  createdAt: string
  source: {stream: string} | {file: string}
  /** The selection as asked (subject filters), applied client-side as well. */
  filters: string[]
  eventTypes: string[]
  /** Inclusive source sequence range (a file: bounds on its line sequences). */
  startSeq: number
  endSeq: number
  /** Time bounds, applied client-side to file sources. */
  since?: string
  until?: string
  target: ReplayTarget
  maps: SubjectMapping[]
  maxInFlight: number
  rate: number
}

export interface ReplayState extends ReplayPlan {
  status: 'running' | 'interrupted' | 'failed' | 'completed'
  /** Every selected event up to this source sequence is acknowledged by the target. */
  doneSeq: number
  updatedAt: string
  error?: string
}

export interface EventRef {
  seq: number
  subject: string
  time: string
}

export interface ReplayResult {
  replayId: string
  dryRun: boolean
  resumed: boolean
  source: {stream?: string; file?: string; startSeq: number; endSeq: number; filters: string[]; eventTypes: string[]}
  target: {kind: ReplayTarget['kind']; stream?: string; prefix?: string; file?: string; created?: boolean}
  /** Events selected (in this run). */
  selected: number
  /** Newly stored in the target (or written to the file). */
  published: number
  /** Already in the target (same message id): a repeated or resumed replay. */
  duplicates: number
  bytes: number
  retries: number
  first: EventRef | null
  last: EventRef | null
  /** Dry run: events per domain and per event type. */
  byDomain?: Record<string, number>
  byEventType?: Record<string, number>
  estimatedSeconds?: number
  durationSeconds: number
  /** Events per second. */
  rate: number
  stateFile?: string
}

export interface ReplayProgress {
  /** Selected so far. */
  selected: number
  /** Written or acknowledged so far. */
  published: number
  /** The source range of this run: how far it got, where it started and ends. */
  lastSeq: number
  startSeq: number
  endSeq: number
  elapsedMs: number
}

export interface ReplayOptions {
  signal?: AbortSignal
  onProgress?: (progress: ReplayProgress) => void
  /** Called once the checks passed, just before the first event is published. */
  onStart?: (plan: ReplayPlan) => void
  /** How often onProgress is called. */
  progressEveryMs?: number
  /** Where state files live [default: <data dir>/replay]. */
  stateDir?: string
  /** What the user should know but does not stop the replay (a replay file of an older cimops). */
  onWarning?: (line: string) => void
}

/**
 * How to continue a replay, with the settings a resume keeps from the state file (a flag given with
 * --resume overrides one): a throttled replay must not resume at full speed unnoticed.
 */
export function resumeHint(plan: Pick<ReplayPlan, 'replayId' | 'rate' | 'maxInFlight'>): string {
  const rate = plan.rate > 0 ? `${plan.rate}/s` : '0 (unlimited)'
  return `resume with: cimops replay --resume ${plan.replayId}; it keeps --rate ${rate} and --max-in-flight ${plan.maxInFlight} unless given again`
}

export function replayStateDir(): string {
  return join(cimopsDataDir(), 'replay')
}

export async function loadReplayState(id: string, stateDir = replayStateDir()): Promise<ReplayState> {
  const file = join(stateDir, `${id}.json`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new NotFoundError(`no replay ${id}`, `no state file ${file}`, {hint: 'the replay id is printed when a replay starts and when it is interrupted'})
  }
  try {
    return JSON.parse(text) as ReplayState
  } catch {
    throw new DataError(`cannot resume replay ${id}`, `${file} is not valid JSON`)
  }
}

/** Runs a plan (fresh or resumed). `dryRun` reads headers only and changes nothing. */
export async function runReplay(ctx: ResolvedContext, nats: NatsSession, plan: ReplayPlan, dryRun: boolean, options: ReplayOptions = {}, resumeFrom?: ReplayState): Promise<ReplayResult> {
  const needsNats = !('file' in plan.target) || !('file' in plan.source)
  // The command's session reconnects without limit: the reader and publisher give up on their own after faultToleranceMs.
  const session = needsNats ? await nats.jetstream() : undefined
  return replayWith(session, ctx, plan, dryRun, options, resumeFrom)
}

/** Resolves the end of a fresh plan against the source stream (since/until/from/to), once, at the start. */
export async function resolveRange(
  session: JetStreamSession,
  stream: StreamSummary,
  bounds: {since?: Date; until?: Date; fromSeq?: number; toSeq?: number},
): Promise<{startSeq: number; endSeq: number}> {
  const {seqForTime} = await import('../adapters/nats/messages.js')
  let startSeq = Math.max(stream.firstSeq, bounds.fromSeq ?? 1)
  let endSeq = Math.min(stream.lastSeq, bounds.toSeq ?? Number.MAX_SAFE_INTEGER)
  if (bounds.since) startSeq = Math.max(startSeq, await seqForTime(session.jsm, stream.name, bounds.since, session.address, session.timeoutMs))
  if (bounds.until) endSeq = Math.min(endSeq, (await seqForTime(session.jsm, stream.name, bounds.until, session.address, session.timeoutMs)) - 1)
  return {startSeq, endSeq}
}

export async function findSourceStream(session: JetStreamSession, name: string): Promise<StreamSummary> {
  const {findStream, listStreamNames} = await import('../adapters/nats/jetstream.js')
  checkReadSupport(session.features)
  const stream = await findStream(session.jsm, name, session.address, session.timeoutMs)
  if (!stream) throw streamNotFound(name, await listStreamNames(session.jsm, session.address, session.timeoutMs))
  return stream
}

function overlaps(a: string, b: string): boolean {
  return intersectSubjects(a, b) !== undefined
}

async function replayWith(
  session: JetStreamSession | undefined,
  ctx: ResolvedContext,
  plan: ReplayPlan,
  dryRun: boolean,
  options: ReplayOptions,
  resumeFrom?: ReplayState,
): Promise<ReplayResult> {
  const started = Date.now()
  const destination: Destination = {prefix: plan.target.kind === 'prefix' ? plan.target.prefix : undefined, maps: plan.maps}
  const matcher = clientMatcher(plan.filters, plan.eventTypes)
  const sourceLabel = 'stream' in plan.source ? plan.source.stream : `file:${basename(plan.source.file)}`
  const startSeq = resumeFrom ? Math.max(plan.startSeq, resumeFrom.doneSeq + 1) : plan.startSeq
  const since = plan.since ? Date.parse(plan.since) : undefined
  const until = plan.until ? Date.parse(plan.until) : undefined
  const result: ReplayResult = {
    replayId: plan.replayId,
    dryRun,
    resumed: resumeFrom !== undefined,
    source: {...('stream' in plan.source ? {stream: plan.source.stream} : {file: plan.source.file}), startSeq, endSeq: plan.endSeq, filters: plan.filters, eventTypes: plan.eventTypes},
    target: {kind: plan.target.kind},
    selected: 0,
    published: 0,
    duplicates: 0,
    bytes: 0,
    retries: 0,
    first: null,
    last: null,
    durationSeconds: 0,
    rate: 0,
  }

  // The source: a stream range read by an ordered consumer, or a file.
  let source: MessageFilter | undefined
  let sourceStream: StreamSummary | undefined
  if ('stream' in plan.source) {
    sourceStream = await findSourceStream(session!, plan.source.stream)
    const narrowed = narrowFilters(plan.filters, sourceStream.subjects)
    if (plan.filters.length > 0 && narrowed.length === 0) {
      throw new UsageError(`no subject of ${sourceStream.name} can match ${plan.filters.join(', ')}`, `its subjects are ${sourceStream.subjects.join(', ')}`)
    }
    // Several filters on one consumer need 2.10; on older servers the whole range is read and filtered here.
    const serverFilters = narrowed.length <= 1 || session!.features.has('multipleFilters') ? narrowed : []
    source = {stream: sourceStream.name, filterSubjects: serverFilters}
  } else {
    // The whole file is checked before anything is created or published: a cut file leaves nothing behind.
    const {checkReplayFile} = await import('./file.js')
    await checkReplayFile(plan.source.file, {onWarning: options.onWarning})
  }

  if (dryRun) {
    result.byDomain = {}
    result.byEventType = {}
  }
  // First and last are formatted once at the end: per event, only the tests below.
  let first: RangeEvent | undefined
  let last: RangeEvent | undefined
  const take = (event: RangeEvent): boolean => {
    if (event.seq < startSeq || event.seq > plan.endSeq) return false
    if ((since !== undefined && event.timeMs < since) || (until !== undefined && event.timeMs >= until)) return false
    if (!matcher(event.subject)) return false
    first ??= event
    last = event
    result.selected++
    if (dryRun) {
      const {domain, eventType} = cimParts(event.subject)
      result.byDomain![domain] = (result.byDomain![domain] ?? 0) + 1
      result.byEventType![eventType] = (result.byEventType![eventType] ?? 0) + 1
    }
    return true
  }

  /** Streams the selection into the sink, in order, pulling no more than it has room for. */
  const readSelection = async (sink: SelectionSink, headersOnly: boolean): Promise<void> => {
    if (source) {
      if (startSeq > plan.endSeq) return
      const {RangeReader} = await import('../adapters/nats/range-reader.js')
      const reader = new RangeReader(session!, source, {startSeq, endSeq: plan.endSeq, headersOnly, signal: options.signal, idleLimitMs: faultToleranceMs(session!)}, {
        onEvent: (event) => {
          if (take(event)) sink.onEvent(event)
        },
        room: sink.room,
      })
      sink.attach?.(reader)
      await reader.read()
    } else {
      const {readReplayFile} = await import('./file.js')
      for await (const event of readReplayFile((plan.source as {file: string}).file)) {
        if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new InterruptedError('replay was interrupted')
        if (sink.room() <= 0) await sink.whenRoom()
        if (take(event)) sink.onEvent(event)
      }
    }
  }

  const finish = (): ReplayResult => {
    const ref = (event: RangeEvent | undefined): EventRef | null => (event ? {seq: event.seq, subject: event.subject, time: new Date(event.timeMs).toISOString()} : null)
    result.first = ref(first)
    result.last = ref(last)
    result.durationSeconds = (Date.now() - started) / 1000
    result.rate = result.durationSeconds > 0 ? Math.round(result.selected / result.durationSeconds) : result.selected
    return result
  }

  if (dryRun) {
    await readSelection({onEvent: () => undefined, room: () => Number.MAX_SAFE_INTEGER, whenRoom: async () => undefined}, true)
    result.estimatedSeconds = Math.round((result.selected / ESTIMATED_RATE) * 100) / 100
    if (plan.target.kind !== 'file' && session) Object.assign(result.target, await describeTarget(session, plan, sourceStream, destination, false))
    else if (plan.target.kind === 'file') result.target.file = plan.target.path
    return finish()
  }

  // Nothing selected: a clear error before anything is published.
  if (source) {
    const {nextMatching} = await import('../adapters/nats/messages.js')
    const next = await nextMatching({nc: session!.nc, jsApiPrefix: session!.jsApiPrefix, timeoutMs: session!.timeoutMs, address: session!.address}, source, startSeq)
    if ((!next || next.seq > plan.endSeq) && !resumeFrom) throw emptySelection(plan)
  }

  // The file target: written to a temp file, renamed at the end.
  if (plan.target.kind === 'file') {
    const {openReplayFile} = await import('./file.js')
    const writer = openReplayFile(plan.target.path)
    result.target.file = plan.target.path
    const stopProgress = progressReporter(options, result, plan, started, () => last?.seq ?? startSeq - 1)
    let full = false
    try {
      await readSelection(
        {
          onEvent: (event) => {
            full = !writer.write(event)
            result.published++
            result.bytes += event.data.length
          },
          room: () => (full ? 0 : Number.MAX_SAFE_INTEGER),
          whenRoom: async () => {
            await writer.drained()
            full = false
          },
          attach: (reader) => {
            writer.onDrain(() => {
              full = false
              reader.wake()
            })
          },
        },
        false,
      )
    } catch (error) {
      await writer.discard()
      throw error
    } finally {
      stopProgress()
    }
    if (result.selected === 0) {
      await writer.discard()
      throw emptySelection(plan)
    }
    await writer.close()
    return finish()
  }

  // A NATS target: check it, then publish with a window and checkpoints.
  Object.assign(result.target, await describeTarget(session!, plan, sourceStream, destination, true))
  // After kill -9 the checkpoint lags what the target holds. Resuming from the checkpoint is always safe
  // (the same message ids are deduplicated), but only within the target's duplicate window: so what this
  // replay already stored after the checkpoint is read back from the target and skipped.
  const present = resumeFrom ? await replayedAfter(session!, result.target.stream!, plan, startSeq - 1) : new Set<number>()
  let skipped = 0
  const [{encodeHeaders, ReplayPublisher}, {expectStreamHeader}] = await Promise.all([import('../adapters/nats/replay-publish.js'), import('../adapters/nats/headers.js')])
  const stateDir = options.stateDir ?? replayStateDir()
  const stateFile = join(stateDir, `${plan.replayId}.json`)
  result.stateFile = stateFile
  await mkdir(stateDir, {recursive: true})
  const state: ReplayState = {...plan, status: 'running', doneSeq: resumeFrom?.doneSeq ?? startSeq - 1, updatedAt: new Date().toISOString()}
  const save = (patch: Partial<ReplayState> = {}) => writeFileAtomic(stateFile, `${JSON.stringify(Object.assign(state, patch, {updatedAt: new Date().toISOString()}), null, 2)}\n`)
  await save()
  const targetStream = result.target.stream!
  let reader: {wake(): void; cancel(error: unknown): void} | undefined
  // Checkpoints are written in the background, one at a time, from the acknowledgements.
  let saving: Promise<void> | undefined
  let checkpointError: unknown
  const checkpoint = () => {
    if (saving || publisher.stats.doneSeq - state.doneSeq < CHECKPOINT_EVERY) return
    saving = save({doneSeq: publisher.stats.doneSeq})
      .catch((error: unknown) => {
        checkpointError ??= error
        reader?.cancel(error)
      })
      .finally(() => (saving = undefined))
  }
  const publisher = new ReplayPublisher({
    nc: session!.nc,
    address: session!.address,
    stream: targetStream,
    maxInFlight: plan.maxInFlight,
    timeoutMs: session!.timeoutMs,
    retryForMs: faultToleranceMs(session!),
    rate: plan.rate,
    signal: options.signal,
    onRoom: () => {
      if (publisher.failure !== undefined) reader?.cancel(publisher.failure)
      else reader?.wake()
      checkpoint()
    },
  })
  await publisher.open()
  const stopProgress = progressReporter(options, result, plan, started, () => publisher.stats.doneSeq || startSeq - 1, () => publisher.stats.stored + publisher.stats.duplicates)
  options.onStart?.(plan)
  const expected = expectStreamHeader(targetStream)
  try {
    await readSelection(
      {
        onEvent: (event) => {
          if (present.has(event.seq)) {
            skipped++
            return
          }
          const headers = replayHeaders(event.headers, plan.replayId, sourceLabel, event.seq)
          headers.push(expected)
          publisher.publish({seq: event.seq, subject: targetSubject(event.subject, destination), data: event.data, headers: encodeHeaders(headers)})
        },
        room: () => publisher.room(),
        whenRoom: () => publisher.whenRoom(),
        attach: (r) => (reader = r),
      },
      false,
    )
    await publisher.drain()
    await saving
    if (checkpointError) throw checkpointError
    publisher.close()
  } catch (error) {
    stopProgress()
    const interrupted = options.signal?.aborted === true || (isCimopsError(error) && error.code === 'INTERRUPTED')
    // What was sent is still acknowledged (bounded by the timeout), so the checkpoint is as far as it can be.
    if (interrupted) await Promise.race([publisher.drain(), delay(session!.timeoutMs)]).catch(() => undefined)
    publisher.close()
    await saving
    if (publisher.stats.doneSeq > 0) state.doneSeq = Math.max(state.doneSeq, publisher.stats.doneSeq)
    await save({status: interrupted ? 'interrupted' : 'failed', error: error instanceof Error ? error.message : String(error)}).catch(() => undefined)
    const hint = resumeHint(plan)
    if (interrupted) throw new InterruptedError(`replay ${plan.replayId} interrupted after ${publisher.stats.stored + publisher.stats.duplicates} events`, {hint})
    // Bad input is not resumable: the same input fails the same way.
    if (isCimopsError(error) && error.exit !== ExitCode.DATA) throw Object.assign(error, {hint: error.hint ? `${error.hint}; ${hint}` : hint})
    throw error
  }
  stopProgress()
  Object.assign(result, {published: publisher.stats.stored, duplicates: publisher.stats.duplicates + skipped, bytes: publisher.stats.bytes, retries: publisher.stats.retries})
  // The final verification: every selected event was acknowledged (or found stored), none is unaccounted for.
  const acknowledged = publisher.stats.stored + publisher.stats.duplicates + skipped
  if (acknowledged !== result.selected) {
    await save({status: 'failed', error: `acknowledged ${acknowledged} of ${result.selected}`})
    throw new OperationError(`replay ${plan.replayId} is incomplete`, `${acknowledged} of ${result.selected} events were acknowledged`, {hint: resumeHint(plan)})
  }
  if (result.selected === 0 && !resumeFrom) {
    await save({status: 'failed', error: 'nothing selected'})
    throw emptySelection(plan)
  }
  await save({status: 'completed', doneSeq: plan.endSeq})
  return finish()
}

/** How long a replay waits out a fault (a restarting server, a leader election) before it fails and can be resumed. */
function faultToleranceMs(session: JetStreamSession): number {
  return Math.max(30_000, session.timeoutMs * 4)
}

/** Where the selection goes, event by event (synchronously), with backpressure. */
interface SelectionSink {
  onEvent(event: RangeEvent): void
  /** How many more events it can take now. */
  room(): number
  whenRoom(): Promise<void>
  /** The stream reader, to wake when room grows or to stop on a failure. */
  attach?(reader: {wake(): void; cancel(error: unknown): void}): void
}

/**
 * The source sequences after `doneSeq` that this replay already stored in the target, read back from the
 * target's tail (headers only): at most as many messages as there can be of ours after the checkpoint,
 * plus a window's worth, since other publishers may share a target. What lies further back is left to
 * the duplicate window.
 */
async function replayedAfter(session: JetStreamSession, stream: string, plan: ReplayPlan, doneSeq: number): Promise<Set<number>> {
  const present = new Set<number>()
  const {lastMessageOnSubject} = await import('../adapters/nats/jetstream.js')
  const last = await lastMessageOnSubject(session.jsm, stream, '>').catch(() => undefined)
  const lastId = last?.msgId ?? ''
  const lastSource = Number(lastId.slice(plan.replayId.length + 1))
  if (!last || !lastId.startsWith(`${plan.replayId}:`) || !(lastSource > doneSeq)) return present
  const {RangeReader} = await import('../adapters/nats/range-reader.js')
  const span = lastSource - doneSeq + plan.maxInFlight
  const reader = new RangeReader(session, {stream, filterSubjects: []}, {startSeq: Math.max(1, last.seq - span + 1), endSeq: last.seq, headersOnly: true, idleLimitMs: faultToleranceMs(session)}, {
    onEvent: (event) => {
      if (event.headers[REPLAY_ID_HEADER]?.[0] !== plan.replayId) return
      const source = event.headers[REPLAY_SOURCE_HEADER]?.[0] ?? ''
      const seq = Number(source.slice(source.lastIndexOf(':') + 1))
      if (seq > doneSeq) present.add(seq)
    },
    room: () => Number.MAX_SAFE_INTEGER,
  })
  await reader.read()
  return present
}

function emptySelection(plan: ReplayPlan): UsageError {
  const what = plan.filters.length > 0 || plan.eventTypes.length > 0 ? ` matching ${[...plan.filters, ...plan.eventTypes.map((t) => `type ${t}`)].join(', ')}` : ''
  const where = 'stream' in plan.source ? `${plan.source.stream} sequences ${plan.startSeq}-${plan.endSeq}` : plan.source.file
  return new UsageError('nothing to replay', `no event${what} in ${where}`, {hint: 'check the selection with --dry-run'})
}

/** Reports progress every few seconds from a timer (nothing per event); returns the stop function. */
function progressReporter(options: ReplayOptions, result: ReplayResult, plan: ReplayPlan, started: number, lastSeq: () => number, done: () => number = () => result.published): () => void {
  if (!options.onProgress) return () => undefined
  const report = options.onProgress
  const timer = setInterval(() => report({selected: result.selected, published: done(), lastSeq: lastSeq(), startSeq: result.source.startSeq, endSeq: plan.endSeq, elapsedMs: Date.now() - started}), options.progressEveryMs ?? 2000)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * The target stream, checked before anything is published: it must exist (or be created with
 * --create-target), capture the mapped subjects, and not be the source itself — or overlap it, which
 * would replay events into the stream they come from.
 */
async function describeTarget(
  session: JetStreamSession,
  plan: ReplayPlan,
  sourceStream: StreamSummary | undefined,
  destination: Destination,
  create: boolean,
): Promise<{stream?: string; prefix?: string; created?: boolean}> {
  const {createTargetStream, findStream} = await import('../adapters/nats/jetstream.js')
  const {jsm, address, timeoutMs} = session
  // The subjects the target will see, as filters: the selection (or the source's subjects) mapped.
  // A file source without filters: what the maps cover (cim=copy -> cim.>), else everything.
  const fileSubjects = plan.maps.length > 0 ? plan.maps.map((m) => `${m.from}.>`) : ['>']
  const sourceSubjects = plan.filters.length > 0 ? plan.filters : sourceStream ? (sourceStream.subjects.length > 0 ? sourceStream.subjects : ['>']) : fileSubjects
  const targetSubjects = [...new Set(sourceSubjects.map((s) => targetSubject(s, destination)))]
  if (sourceStream) {
    const clash = targetSubjects.find((t) => sourceStream.subjects.some((s) => overlaps(t, s)))
    if (clash) {
      throw new UsageError(`target subjects ${clash} overlap the source stream ${sourceStream.name}`, 'the replay would publish events into the stream they come from', {
        hint: plan.target.kind === 'stream' ? 'map them with --subject-map, e.g. --subject-map cim=pitr' : 'choose another --to-prefix',
      })
    }
  }
  if (plan.target.kind === 'prefix') {
    const stream = await jsm.streams.find(targetSubjects[0]).catch(() => undefined)
    if (!stream) {
      throw new NotFoundError(`no stream captures ${targetSubjects[0]}`, `events republished under ${plan.target.prefix} would not be stored`, {
        hint: `create a stream on ${plan.target.prefix}.> first, or use --to-stream S --create-target`,
      })
    }
    return {stream, prefix: plan.target.prefix}
  }
  const name = (plan.target as {stream: string}).stream
  if (sourceStream && name === sourceStream.name) throw new UsageError(`--to-stream ${name} is the source stream`, 'the replay would publish events into the stream they come from')
  const existing = await findStream(jsm, name, address, timeoutMs)
  if (!existing) {
    if (!(plan.target as {createTarget: boolean}).createTarget) {
      throw new NotFoundError(`target stream ${name} does not exist`, 'nothing would store the replayed events', {hint: 'add --create-target to create it'})
    }
    if (!create) return {stream: name, created: false}
    try {
      await createTargetStream(jsm, {name, subjects: targetSubjects, duplicateWindowMs: CREATED_DUPLICATE_WINDOW_MS})
    } catch (error) {
      const {toJetStreamError} = await import('../adapters/nats/jetstream.js')
      const typed = toJetStreamError(error, address, timeoutMs)
      if (isCimopsError(typed)) throw Object.assign(typed, {hint: typed.hint ?? `its subjects would be ${targetSubjects.join(', ')}; map them with --subject-map`})
      throw typed
    }
    return {stream: name, created: true}
  }
  const captured = await jsm.streams.find(targetSubjects[0]).catch(() => undefined)
  if (captured !== name) {
    throw new UsageError(`target stream ${name} does not capture ${targetSubjects[0]}`, captured ? `stream ${captured} does` : `its subjects are ${existing.subjects.join(', ') || '(none)'}`, {
      hint: 'map the subjects with --subject-map FROM=TO',
    })
  }
  return {stream: name, created: false}
}
