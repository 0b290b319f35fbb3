/**
 * The NATS target of a replay: checked (or created) before anything is published, and, on resume,
 * read back for what this replay already stored after its checkpoint.
 */
import type {StreamSummary} from '../adapters/nats/jetstream.js'
import {intersectSubjects} from '../adapters/nats/subjects.js'
import {isCimopsError, NotFoundError, UsageError} from '../core/errors.js'
import type {JetStreamSession} from '../adapters/nats/session.js'
import type {ReplayPlan} from './model.js'
import {choosePublishMode, type PublishMode} from './publish-mode.js'
import {type Destination, REPLAY_ID_HEADER, REPLAY_SOURCE_HEADER, targetSubject} from './selection.js'
import {faultToleranceMs} from './source.js'

/** Duplicate window of a target stream created by --create-target: long enough to resume the next morning. */
const CREATED_DUPLICATE_WINDOW_MS = 24 * 3600 * 1000

/** Where the target is: the session it is reached by, and the other site's context (--to-context) when it is not the source's session. */
export interface TargetSite {
  session: JetStreamSession
  context?: string
}

/** The source stream for the target's checks; `here` when the target's site reaches that very stream. */
export interface SourceView {
  stream?: StreamSummary
  here: boolean
}

/**
 * Whether the target's site is the source's: always with one session; for another context only when it reaches
 * the very source stream. Two contexts may name one JetStream (another URL or name of the same servers), so the
 * name is not enough; a stream of the source's name there that was created at another moment is another stream,
 * and one created at the same moment (a copy restored by nats-server 2.9 keeps it) is told apart by a trace left on the source.
 */
export async function sourceAt(source: JetStreamSession | undefined, site: TargetSite, stream: StreamSummary | undefined): Promise<SourceView> {
  if (!stream || !source) return {stream, here: false}
  if (site.context === undefined) return {stream, here: true}
  const {findStream} = await import('../adapters/nats/jetstream.js')
  const {session} = site
  const there = await findStream(session.jsm, stream.name, session.address, session.timeoutMs)
  if (!there || there.created.getTime() !== stream.created.getTime()) return {stream, here: false}
  const {reachSameStream} = await import('../adapters/nats/stream-identity.js')
  return {stream, here: await reachSameStream(source, session, stream.name)}
}

export interface TargetStream {
  stream?: string
  prefix?: string
  created?: boolean
  /** --allow-batched-target set `allow_batched` on the existing target (a dry run: false, it would). */
  reconfigured?: boolean
  publishMode: PublishMode
}

/** Where republished subjects go: the subject maps, then the --to-prefix. */
export function destinationOf(plan: ReplayPlan): Destination {
  return {prefix: plan.target.kind === 'prefix' ? plan.target.prefix : undefined, maps: plan.maps}
}

/**
 * The target stream, checked before anything is published: it must exist (or be created with
 * --create-target when `create`), capture the mapped subjects, and, at the source's site, not be the
 * source itself — or overlap it, which would replay events into the stream they come from. At another
 * site the target site's own streams are what the subjects must fit. Then how it is published to (fast
 * batches or the pipelined path), refused before anything is created when --publish-mode batch cannot run.
 */
export async function describeTarget(site: TargetSite, plan: ReplayPlan, source: SourceView, create: boolean): Promise<TargetStream> {
  const {createTargetStream, findStream} = await import('../adapters/nats/jetstream.js')
  const {jsm, address, timeoutMs, features} = site.session
  const requested = plan.publishMode ?? 'auto'
  const fastBatch = features.has('fastBatch')
  const sourceStream = source.stream
  // A context other than the source's that reaches the source stream all the same: said, since its name suggests otherwise.
  const alias = site.context === undefined ? '' : ` (context ${site.context} reaches the source's JetStream)`
  const destination = destinationOf(plan)
  // The subjects the target will see, as filters: the selection (or the source's subjects) mapped.
  // A file source without filters: what the maps cover (cim=copy -> cim.>), else everything.
  const fileSubjects = plan.maps.length > 0 ? plan.maps.map((m) => `${m.from}.>`) : ['>']
  const sourceSubjects = plan.filters.length > 0 ? plan.filters : sourceStream ? (sourceStream.subjects.length > 0 ? sourceStream.subjects : ['>']) : fileSubjects
  const targetSubjects = [...new Set(sourceSubjects.map((s) => targetSubject(s, destination)))]
  if (sourceStream && source.here) {
    const clash = targetSubjects.find((t) => sourceStream.subjects.some((s) => intersectSubjects(t, s) !== undefined))
    if (clash) {
      throw new UsageError(`target subjects ${clash} overlap the source stream ${sourceStream.name}${alias}`, 'the replay would publish events into the stream they come from', {
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
    return {stream, prefix: plan.target.prefix, ...(await batchedTarget(site, plan, stream, create))}
  }
  const name = (plan.target as {stream: string}).stream
  if (sourceStream && source.here && name === sourceStream.name) {
    throw new UsageError(`--to-stream ${name} is the source stream${alias}`, 'the replay would publish events into the stream they come from')
  }
  const existing = await findStream(jsm, name, address, timeoutMs)
  if (!existing) {
    if (!(plan.target as {createTarget: boolean}).createTarget) {
      throw new NotFoundError(`target stream ${name} does not exist`, 'nothing would store the replayed events', {hint: 'add --create-target to create it'})
    }
    // Created with allow_batched where the server has fast batch publishing; the mode is chosen (or refused) before creating it.
    const planned = choosePublishMode(requested, features, {stream: name, allowBatched: fastBatch})
    if (!create) return {stream: name, created: false, publishMode: planned}
    let created: {allowBatched: boolean}
    try {
      created = await createTargetStream(jsm, {name, subjects: targetSubjects, duplicateWindowMs: CREATED_DUPLICATE_WINDOW_MS, allowBatched: fastBatch})
    } catch (error) {
      const {toJetStreamError} = await import('../adapters/nats/jetstream.js')
      const typed = toJetStreamError(error, address, timeoutMs)
      if (isCimopsError(typed)) throw Object.assign(typed, {hint: typed.hint ?? `its subjects would be ${targetSubjects.join(', ')}; map them with --subject-map`})
      throw typed
    }
    return {stream: name, created: true, publishMode: choosePublishMode(requested, features, {stream: name, allowBatched: created.allowBatched})}
  }
  const captured = await jsm.streams.find(targetSubjects[0]).catch(() => undefined)
  if (captured !== name) {
    throw new UsageError(`target stream ${name} does not capture ${targetSubjects[0]}`, captured ? `stream ${captured} does` : `its subjects are ${existing.subjects.join(', ') || '(none)'}`, {
      hint: 'map the subjects with --subject-map FROM=TO',
    })
  }
  // A dry run's `created: false` means "to be created": said only of a missing target.
  return {stream: name, ...(create ? {created: false} : {}), ...(await batchedTarget(site, plan, name, create))}
}

/**
 * Whether an existing target takes fast batches, setting `allow_batched` first where --allow-batched-target
 * says so (never otherwise); the echoed config decides, since 2.9 drops the field without an error.
 */
async function batchedTarget(site: TargetSite, plan: ReplayPlan, stream: string, create: boolean): Promise<Pick<TargetStream, 'reconfigured' | 'publishMode'>> {
  const {jsm, features} = site.session
  const requested = plan.publishMode ?? 'auto'
  if (!features.has('fastBatch')) {
    if (plan.allowBatchedTarget) {
      throw new UsageError('--allow-batched-target cannot be used', `nats-server ${features.version} has no fast batch publishing (it needs ${features.requires('fastBatch')} or newer)`, {hint: 'leave it out'})
    }
    return {publishMode: choosePublishMode(requested, features, {stream, allowBatched: false})}
  }
  const [{allowsBatched, enableBatched}, {toJetStreamError}] = await Promise.all([import('../adapters/nats/fast-batch.js'), import('../adapters/nats/jetstream.js')])
  const {address, timeoutMs} = site.session
  try {
    const allowBatched = await allowsBatched(jsm, stream)
    if (allowBatched || !plan.allowBatchedTarget) return {publishMode: choosePublishMode(requested, features, {stream, allowBatched})}
    if (!create) return {reconfigured: false, publishMode: choosePublishMode(requested, features, {stream, allowBatched: true})}
    return {reconfigured: true, publishMode: choosePublishMode(requested, features, {stream, allowBatched: await enableBatched(jsm, stream)})}
  } catch (error) {
    throw isCimopsError(error) ? error : toJetStreamError(error, address, timeoutMs)
  }
}

/**
 * The source sequences after `doneSeq` that this replay already stored in the target, read back from the
 * target's tail (headers only): at most as many messages as there can be of ours after the checkpoint,
 * plus a window's worth, since other publishers may share a target. What lies further back is left to
 * the duplicate window.
 */
export async function replayedAfter(session: JetStreamSession, stream: string, plan: ReplayPlan, doneSeq: number): Promise<Set<number>> {
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
