/**
 * `cimops dr promote`: the DR copy (a mirror) becomes the writable event stream when the primary site is lost.
 * Plan first, act after: every check that could make it fail runs before anything changes. The old origin is
 * fenced first when it can be reached (its subjects taken away), and the copy allowed to catch up with it, so that
 * no event is accepted by both sites (split brain) and none the origin acknowledged is left behind.
 * On 2.12+ the mirror is promoted in place; older servers refuse that (10055), so a new stream sources the mirror
 * and then takes the subjects (reference/nats-sites-dr.md §3).
 */
import type {JetStreamEndpoint, StreamMarker} from '../adapters/nats/promotion.js'
import type {StreamSummary} from '../adapters/nats/jetstream.js'
import type {NatsSession} from '../adapters/nats/session.js'
import type {ServerFeatures} from '../adapters/nats/versions.js'
import type {ResolvedContext} from '../core/context-types.js'
import {isCimopsError, NotFoundError, OperationError, UsageError} from '../core/errors.js'

export type PromotionMode = 'update' | 'new-stream'

/** Where the subjects to take came from. */
export type SubjectsSource = 'flag' | 'origin' | 'fence-marker' | 'default'

/** The subjects a promoted stream takes when nothing better is known: all of CIM's. */
export const DEFAULT_PROMOTED_SUBJECTS = ['cim.>']

/** What happens to the old primary: fenced now, fenced by an earlier run, skipped on purpose, or out of reach. */
export type FenceAction = 'fence' | 'already-fenced' | 'skip' | 'unreachable'

export const NOT_FENCED_WARNING = 'old primary not reachable: not fenced; it must be fenced or kept isolated before its link returns'

export interface OriginRef {
  stream: string
  /** Its JetStream domain, when the mirror reaches it through `$JS.<domain>.API`. */
  domain?: string
  /** The API prefix the mirror reaches it through; undefined for the copy's own domain. */
  apiPrefix?: string
}

/** How many events the copy lacks: counted when the origin answers, else bounded by what the mirror last heard. */
export type LackingEstimate =
  | {known: true; events: number; oldestTime?: string}
  | {known: false; lagAtLastContact: number; lastContactSecondsAgo?: number; note: string}

export interface PromotionPlan {
  stream: string
  /** The stream that will be writable: the mirror itself (update) or the new one (new-stream). */
  promotedStream: string
  mode: PromotionMode
  modeReason: string
  /** The new stream exists already, sourcing the mirror: an earlier run stopped while it copied. */
  continuing: boolean
  origin: OriginRef
  subjects: string[]
  subjectsFrom: SubjectsSource
  fence: {action: FenceAction; target: string; reason: string}
  copyLastSeq: number
  copyMessages: number
  originLastSeq?: number
  lacking: LackingEstimate
  steps: string[]
  warnings: string[]
}

export interface PromotionResult {
  stream: string
  promotedStream: string
  mode: PromotionMode
  subjects: string[]
  subjectsFrom: SubjectsSource
  origin: OriginRef
  fenced: {done: boolean; target: string; reason: string}
  originLastSeq?: number
  copyLastSeq: number
  /** Events the origin held that the copy did not when it was promoted; absent when the origin could not be asked. */
  eventsLacking?: number
  lacking: LackingEstimate
  dryRun: boolean
  steps: string[]
  warnings: string[]
  /** Where the promotion was recorded (the ops log of this site); absent on a dry run. */
  opsLog?: {recorded: true; seq: number} | {recorded: false; error: string}
  durationSeconds: number
}

export interface PromoteOptions {
  stream: string
  /** --subjects. */
  subjects?: string[]
  /** --no-fence: the operator has isolated the old primary some other way. */
  noFence?: boolean
  /** --new-stream (servers before 2.12) [default: <STREAM>_PROMOTED]. */
  newStream?: string
  /** How long to wait for the copy to catch up (after fencing, and on the safest path). */
  waitMs: number
  actor?: string
  /** The command's session at the surviving site. */
  nats: NatsSession
  /** A session on the old primary (--fence-context), when its site is reachable that way. */
  fenceNats?: {session: NatsSession; context: string}
  signal?: AbortSignal
  now?: () => Date
}

/** A prepared promotion: its plan, shown and confirmed before `execute` changes anything. */
export interface Promotion {
  plan: PromotionPlan
  execute(): Promise<PromotionResult>
  /** The result of not executing (--dry-run). */
  dryRun(): PromotionResult
}

/** How often the copy's progress is read while waiting. */
const POLL_MS = 250

/** In place where the server can remove a mirror (2.12+), else the safest path into a new stream. */
export function chooseMode(features: Pick<ServerFeatures, 'has' | 'requires' | 'version'>): {mode: PromotionMode; reason: string} {
  if (features.has('mirrorPromotion')) return {mode: 'update', reason: `nats-server ${features.version} removes a mirror's configuration in place (STREAM.UPDATE)`}
  return {
    mode: 'new-stream',
    reason: `nats-server ${features.version} cannot remove a mirror's configuration (error 10055; needs ${features.requires('mirrorPromotion')}): the safest path is a new stream that sources the copy`,
  }
}

/** --subjects, else what the origin had (before cimops fenced it), else CIM's whole namespace. */
export function chooseSubjects(input: {flag?: string[]; fencedSubjects?: string[]; originSubjects?: string[]}): {subjects: string[]; from: SubjectsSource} {
  if (input.flag?.length) return {subjects: input.flag, from: 'flag'}
  if (input.fencedSubjects?.length) return {subjects: input.fencedSubjects, from: 'fence-marker'}
  if (input.originSubjects?.length) return {subjects: input.originSubjects, from: 'origin'}
  return {subjects: DEFAULT_PROMOTED_SUBJECTS, from: 'default'}
}

/** What the origin looked like when asked: its stream, that it has none, or no answer. */
export type OriginProbe =
  | {state: 'reachable'; stream: StreamSummary; fencedSubjects?: string[]}
  | {state: 'missing'}
  | {state: 'unreachable'; why: string}

export function decideFence(probe: OriginProbe, options: {noFence?: boolean; target: string}): PromotionPlan['fence'] {
  const {target} = options
  if (options.noFence) return {action: 'skip', target, reason: 'not fenced: --no-fence (the old primary must be isolated some other way before its link returns)'}
  if (probe.state === 'unreachable') return {action: 'unreachable', target, reason: `${NOT_FENCED_WARNING} (${probe.why})`}
  if (probe.state === 'missing') return {action: 'skip', target, reason: 'the old primary has no such stream: nothing to fence'}
  if (probe.fencedSubjects) return {action: 'already-fenced', target, reason: `fenced already (its subjects were ${probe.fencedSubjects.join(', ')})`}
  return {action: 'fence', target, reason: `its subjects (${probe.stream.subjects.join(', ') || 'none'}) are taken away before the copy takes them`}
}

/** The origin's last sequence against the copy's, or, without an answer from it, the mirror's last report. */
export function estimateLacking(copy: Pick<StreamSummary, 'lastSeq' | 'sources'>, origin?: {lastSeq: number; oldestMissing?: Date}): LackingEstimate {
  if (origin) {
    const events = Math.max(0, origin.lastSeq - copy.lastSeq)
    return {known: true, events, ...(events > 0 && origin.oldestMissing ? {oldestTime: origin.oldestMissing.toISOString()} : {})}
  }
  const mirror = copy.sources.find((s) => s.kind === 'mirror')
  const lag = mirror?.lag ?? 0
  const ago = mirror?.activeSeconds
  return {
    known: false,
    lagAtLastContact: lag,
    ...(ago === undefined ? {} : {lastContactSecondsAgo: ago}),
    note:
      ago === undefined
        ? 'the copy never heard from the origin: how much it lacks cannot be known'
        : `the origin cannot be asked: the copy was ${lag} event${lag === 1 ? '' : 's'} behind ${ago.toFixed(1)}s ago, plus whatever the origin took since (an upper bound in time, not a count)`,
  }
}

export function describeLacking(lacking: LackingEstimate): string {
  if (!lacking.known) return lacking.note
  if (lacking.events === 0) return 'none: the copy holds every event the origin has'
  return `${lacking.events} event${lacking.events === 1 ? '' : 's'}${lacking.oldestTime ? `, the oldest stored at ${lacking.oldestTime}` : ''}`
}

export function planSteps(plan: Omit<PromotionPlan, 'steps'>): string[] {
  const steps: string[] = []
  const {fence, origin, stream, promotedStream, subjects} = plan
  if (fence.action === 'fence') steps.push(`fence the old primary: ${fence.target} gets subjects cimops.fenced.${origin.stream}.> instead of ${plan.subjectsFrom === 'origin' ? subjects.join(', ') : 'its own'} (recorded on it and in the ops log)`)
  if (fence.action === 'fence' || fence.action === 'already-fenced') steps.push(`wait until ${stream} holds every event of ${fence.target} (the origin is frozen once fenced)`)
  if (plan.mode === 'update') {
    steps.push(`promote ${stream} in place: remove its mirror configuration and give it subjects ${subjects.join(', ')}; its events keep their sequences and times`)
  } else {
    if (!plan.continuing) steps.push(`create ${promotedStream} with ${stream}'s limits, sourcing ${stream}, with no subjects (nothing else writes to it)`)
    steps.push(`wait until ${promotedStream} holds as many events as ${stream}, with no source lag`)
    steps.push(`drop ${promotedStream}'s source and give it subjects ${subjects.join(', ')}`)
    steps.push(`keep ${stream} as evidence; events in ${promotedStream} are renumbered from 1 and timed at the copy (origin sequence in header Nats-Stream-Source): repoint consumers, rebuild time-based ones; storage is doubled until ${stream} is deleted`)
  }
  steps.push(`mark ${promotedStream} as promoted from ${origin.domain ? `${origin.stream}@${origin.domain}` : origin.stream} (dr status shows it as the primary) and record the promotion in this site's ops log`)
  return steps
}

/** Builds the plan: reads the copy, the origin (when it answers) and what else at this site captures the subjects. Changes nothing. */
export async function preparePromotion(ctx: ResolvedContext, options: PromoteOptions): Promise<Promotion> {
  const started = performance.now()
  const [promotion, {promotionDescription, promotionMetadata}, {sleep}] = await Promise.all([
    import('../adapters/nats/promotion.js'),
    import('../adapters/nats/promotion-marker.js'),
    import('../core/sleep.js'),
  ])
  const {nats, stream} = options
  const signal = options.signal ?? new AbortController().signal
  const [{nc}, features] = await Promise.all([nats.connection(), nats.features()])
  const local = await promotion.jetstreamEndpoint(nc, nats.jsApiPrefix, nats.timeoutMs)
  const copy = await promotion.streamAt(local, stream)
  if (!copy) throw new NotFoundError(`no stream ${stream} at ${nats.address}`, 'there is nothing to promote', {hint: 'name the DR copy (a mirror) of this site; `cimops stream list` shows them'})
  const mirror = copy.sources.find((s) => s.kind === 'mirror')
  if (!mirror) {
    const why = copy.promotedFrom ? `it was promoted already (from ${copy.promotedFrom.stream}${copy.promotedFrom.domain ? `@${copy.promotedFrom.domain}` : ''})` : 'it is not a mirror'
    throw new UsageError(`cannot promote ${stream}`, why, {hint: 'dr promote turns a mirror (the DR copy) into the writable stream'})
  }
  const origin: OriginRef = {stream: mirror.name, ...withDomain(promotion.domainOfApiPrefix(mirror.apiPrefix)), ...(mirror.apiPrefix ? {apiPrefix: mirror.apiPrefix} : {})}

  // The old primary through its own context when one is given, else through the mirror's API prefix on this connection.
  const {fenceNats} = options
  const fenceEndpoint = fenceNats
    ? fenceNats.session.connection().then(({nc: fenceNc}) => promotion.jetstreamEndpoint(fenceNc, fenceNats.session.jsApiPrefix, fenceNats.session.timeoutMs))
    : promotion.jetstreamEndpoint(nc, mirror.apiPrefix ?? nats.jsApiPrefix, nats.timeoutMs)
  const fenceTarget = fenceNats ? `${origin.stream} at context ${fenceNats.context}` : origin.domain ? `${origin.stream}@${origin.domain}` : origin.stream
  const probe = await probeOrigin(promotion, fenceEndpoint, origin.stream)
  const fence = decideFence(probe, {noFence: options.noFence, target: fenceTarget})

  const {mode, reason: modeReason} = chooseMode(features)
  const promotedStream = mode === 'update' ? stream : (options.newStream ?? `${stream}_PROMOTED`)
  const {subjects, from: subjectsFrom} = chooseSubjects({
    flag: options.subjects,
    fencedSubjects: probe.state === 'reachable' ? probe.fencedSubjects : undefined,
    originSubjects: probe.state === 'reachable' ? probe.stream.subjects : undefined,
  })

  let continuing = false
  if (mode === 'new-stream') {
    const existing = await promotion.streamAt(local, promotedStream)
    continuing = existing !== undefined && existing.sources.length === 1 && existing.sources[0]?.kind === 'source' && existing.sources[0].name === stream
    if (existing && !continuing) {
      throw new UsageError(`cannot promote ${stream} into ${promotedStream}`, `a stream ${promotedStream} exists at this site and does not source ${stream}`, {hint: 'name another with --new-stream'})
    }
  }
  const conflicts = await conflictingStreams(promotion, local, subjects, [stream, promotedStream])
  if (conflicts.length > 0) {
    const list = conflicts.map((c) => `${c.subject} (${c.streams.join(', ')})`).join('; ')
    throw new UsageError(`cannot give ${promotedStream} subjects ${subjects.join(', ')}`, `streams at this site already capture overlapping subjects: ${list}`, {
      hint: subjectsFrom === 'default' ? 'the origin could not say its subjects: name them with --subjects' : 'name subjects they do not capture with --subjects, or remove the overlap first',
    })
  }

  const originLastSeq = probe.state === 'reachable' ? probe.stream.lastSeq : undefined
  const oldestMissing = originLastSeq !== undefined && originLastSeq > copy.lastSeq ? (await promotion.messageAtOrAfter(await fenceEndpoint, origin.stream, copy.lastSeq + 1).catch(() => undefined))?.time : undefined
  const lacking = estimateLacking(copy, originLastSeq === undefined ? undefined : {lastSeq: originLastSeq, oldestMissing})
  const warnings = [
    ...(fence.action === 'unreachable' || fence.action === 'skip' ? [fence.reason] : []),
    ...(subjectsFrom === 'default' ? [`the origin could not say its subjects: ${promotedStream} takes ${subjects.join(', ')} (name them with --subjects)`] : []),
    ...(mirror.filterSubject ? [`${stream} mirrors only ${mirror.filterSubject}: sequence differences with the origin overstate what it lacks`] : []),
  ]
  const partial: Omit<PromotionPlan, 'steps'> = {
    stream,
    promotedStream,
    mode,
    modeReason,
    continuing,
    origin,
    subjects,
    subjectsFrom,
    fence,
    copyLastSeq: copy.lastSeq,
    copyMessages: copy.messages,
    ...(originLastSeq === undefined ? {} : {originLastSeq}),
    lacking,
    warnings,
  }
  const plan: PromotionPlan = {...partial, steps: planSteps(partial)}
  const now = options.now ?? (() => new Date())

  const result = (fields: Partial<PromotionResult> & Pick<PromotionResult, 'fenced' | 'copyLastSeq' | 'lacking' | 'dryRun'>): PromotionResult => ({
    stream,
    promotedStream,
    mode,
    subjects,
    subjectsFrom,
    origin,
    ...fields,
    steps: plan.steps,
    warnings,
    durationSeconds: Math.round(performance.now() - started) / 1000,
  })

  /** Waits, bounded, until `done` says yes; throws what `late` says when the time is up. */
  async function waitFor(done: () => Promise<boolean>, late: () => Promise<OperationError>): Promise<void> {
    const deadline = Date.now() + options.waitMs
    for (;;) {
      if (await done()) return
      if (signal.aborted) throw signal.reason
      if (Date.now() >= deadline) throw await late()
      await sleep(POLL_MS, signal)
    }
  }

  async function execute(): Promise<PromotionResult> {
    let fencedNow = false
    if (fence.action === 'fence') {
      const {fenceMarker, fencedSubjectsFor, fenceStream} = promotion
      const taken = probe.state === 'reachable' ? probe.stream.subjects : []
      await fenceStream(await fenceEndpoint, origin.stream, fencedSubjectsFor(origin.stream), fenceMarker(taken, {metadata: (fenceNats ? await fenceNats.session.features() : features).has('metadata')})).catch((error: unknown) => {
        throw new OperationError(`could not fence ${fenceTarget}`, `${describe(error)}; nothing was changed`, {hint: 'fence or isolate the old primary yourself, then run again with --no-fence'})
      })
      fencedNow = true
    }
    let originLastSeqNow = originLastSeq
    let copyLastSeq = copy!.lastSeq
    if (fence.action === 'fence' || fence.action === 'already-fenced') {
      // Fenced, the origin takes nothing new: its last sequence now is all the copy needs before it may take over.
      const frozen = await promotion.streamAt(await fenceEndpoint, origin.stream)
      originLastSeqNow = frozen?.lastSeq ?? originLastSeq
      const target = originLastSeqNow ?? 0
      await waitFor(
        async () => (copyLastSeq = (await promotion.streamAt(local, stream))?.lastSeq ?? copyLastSeq) >= target,
        async () =>
          new OperationError(`${stream} did not catch up with ${fenceTarget}`, `after ${options.waitMs / 1000}s it holds up to sequence ${copyLastSeq} of ${target}; nothing was promoted and ${fenceTarget} stays fenced`, {
            hint: 'run the same command again to keep waiting (raise --wait), or promote what is there with --no-fence',
          }),
      )
    }
    const marker = promotionMarker(features, {stream: origin.stream, ...withDomain(origin.domain), at: now()}, {promotionDescription, promotionMetadata})
    const failed = (what: string) => (error: unknown) => {
      throw new OperationError(what, describe(error), {hint: fencedNow ? `${fenceTarget} is fenced; run the same command again to finish` : 'run the same command again'})
    }
    if (mode === 'update') {
      await promotion.promoteMirrorInPlace(local, stream, subjects, marker).catch(failed(`could not promote ${stream}`))
    } else {
      if (!continuing) await promotion.createSourcingStream(local, promotedStream, stream).catch(failed(`could not create ${promotedStream}`))
      let copied = 0
      let expected = 0
      await waitFor(
        async () => {
          const [source, target] = await Promise.all([promotion.streamAt(local, stream), promotion.streamAt(local, promotedStream)])
          expected = source?.messages ?? expected
          copyLastSeq = source?.lastSeq ?? copyLastSeq
          copied = target?.messages ?? 0
          return copied >= expected && (target?.sources ?? []).every((s) => s.lag === 0)
        },
        async () =>
          new OperationError(`${promotedStream} did not finish copying ${stream}`, `after ${options.waitMs / 1000}s it holds ${copied} of ${expected} events; nothing writes to it yet`, {
            hint: 'run the same command again to keep waiting (raise --wait)',
          }),
      )
      await promotion.openSourcedStream(local, promotedStream, subjects, marker).catch(failed(`could not give ${promotedStream} its subjects`))
    }
    const promoted = await promotion.streamAt(local, promotedStream)
    if (!promoted || promoted.sources.length > 0 || subjects.some((s) => !promoted.subjects.includes(s))) {
      throw new OperationError(`${promotedStream} was not promoted`, `the server reports ${promoted ? `subjects ${promoted.subjects.join(', ') || 'none'} and ${promoted.sources.length} mirror/sources` : 'no such stream'}`, {hint: 'check it with `cimops stream info`'})
    }
    const eventsLacking = originLastSeqNow === undefined ? undefined : Math.max(0, originLastSeqNow - copyLastSeq)
    const done = result({
      fenced: {done: fencedNow || fence.action === 'already-fenced', target: fenceTarget, reason: fence.reason},
      ...(originLastSeqNow === undefined ? {} : {originLastSeq: originLastSeqNow}),
      copyLastSeq,
      ...(eventsLacking === undefined ? {} : {eventsLacking}),
      lacking: eventsLacking === undefined ? lacking : {known: true, events: eventsLacking},
      dryRun: false,
    })
    return {...done, opsLog: await record(ctx, nats, done, options.actor, probe)}
  }

  return {
    plan,
    execute,
    dryRun: () =>
      result({
        fenced: {done: false, target: fenceTarget, reason: fence.reason},
        ...(originLastSeq === undefined ? {} : {originLastSeq}),
        copyLastSeq: copy.lastSeq,
        ...(lacking.known ? {eventsLacking: lacking.events} : {}),
        lacking,
        dryRun: true,
      }),
  }
}

type PromotionAdapter = typeof import('../adapters/nats/promotion.js')

async function probeOrigin(promotion: PromotionAdapter, reaching: Promise<JetStreamEndpoint>, name: string): Promise<OriginProbe> {
  try {
    const endpoint = await reaching
    const stream = await promotion.streamAt(endpoint, name)
    if (!stream) return {state: 'missing'}
    const fencedSubjects = await promotion.fencedSubjectsOf(endpoint, name)
    return {state: 'reachable', stream, ...(fencedSubjects ? {fencedSubjects} : {})}
  } catch (error) {
    return {state: 'unreachable', why: describe(error)}
  }
}

async function conflictingStreams(promotion: PromotionAdapter, local: JetStreamEndpoint, subjects: string[], own: string[]): Promise<Array<{subject: string; streams: string[]}>> {
  const found = await Promise.all(subjects.map(async (subject) => ({subject, streams: (await promotion.streamsOverlapping(local, subject)).filter((name) => !own.includes(name))})))
  return found.filter((c) => c.streams.length > 0)
}

function promotionMarker(
  features: Pick<ServerFeatures, 'has'>,
  origin: {stream: string; domain?: string; at: Date},
  marker: {promotionMetadata(o: typeof origin): Record<string, string>; promotionDescription(o: typeof origin): string},
): StreamMarker {
  return features.has('metadata') ? {metadata: marker.promotionMetadata(origin)} : {description: marker.promotionDescription(origin)}
}

/** The promotion as an ops event at this site: what was done, where the old primary stands. A failure to record is reported, not fatal: the promotion stands. */
async function record(ctx: ResolvedContext, nats: NatsSession, result: PromotionResult, actor: string | undefined, probe: OriginProbe): Promise<PromotionResult['opsLog']> {
  const {publishOpsEvent} = await import('../audit/publish.js')
  try {
    const {seq} = await publishOpsEvent(ctx, nats, {
      subject: `cim.ops.dr.${result.promotedStream}.promoted`,
      type: 'StreamPromoted',
      aggregateType: 'dr',
      aggregateId: result.promotedStream,
      data: {
        stream: result.stream,
        promotedStream: result.promotedStream,
        origin: result.origin,
        mode: result.mode,
        subjects: result.subjects,
        fenced: result.fenced,
        ...(probe.state === 'reachable' ? {originSubjects: probe.fencedSubjects ?? probe.stream.subjects} : {}),
        originLastSeq: result.originLastSeq,
        copyLastSeq: result.copyLastSeq,
        eventsLacking: result.eventsLacking,
      },
      ...(actor ? {actor} : {}),
    })
    return {recorded: true, seq}
  } catch (error) {
    return {recorded: false, error: describe(error)}
  }
}

function withDomain(domain: string | undefined): {domain?: string} {
  return domain ? {domain} : {}
}

function describe(error: unknown): string {
  return isCimopsError(error) ? error.line : error instanceof Error ? error.message : String(error)
}
