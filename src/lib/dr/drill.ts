/**
 * `cimops drill --failover`: the failover across sites, measured. Marker events are published at the primary at a
 * steady rate and timed until the DR copy (the mirror of the primary's events stream) holds each: the RPO under load.
 * On the sandbox only, the primary site's servers are then killed by the pids the sandbox recorded, the copy promoted
 * (dr promote's service), and the time from the kill to the first acknowledged write at the DR site taken as the RTO;
 * every event the copy acknowledged must still be there (a digest over the common range). The sandbox is put back
 * afterwards, also on failure and Ctrl-C. Anywhere else nothing is stopped: the drill measures the lag only and says so.
 */
import type {JetStreamEndpoint} from '../adapters/nats/promotion.js'
import type {StreamSummary} from '../adapters/nats/jetstream.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {subjectIsSubset} from '../adapters/nats/subjects.js'
import type {ResolvedContext} from '../core/context-types.js'
import {round} from '../core/output/units.js'
import {InterruptedError, isCimopsError, NotFoundError, OperationError, UsageError} from '../core/errors.js'
import type {SandboxGuard} from '../sandbox/guard.js'
import type {SandboxProcess} from '../sandbox/types.js'
import type {PromotionMode} from './promote.js'

export const DEFAULT_MARKERS = 200
export const DEFAULT_RATE_PER_SECOND = 100
export const MARKER_EVENT = 'MarkerPublished'
export const WRITE_CHECK_EVENT = 'FailoverWriteChecked'

/** How often the copy's last sequence is read while markers flow: the resolution of the RPO figures. */
const POLL_MS = 20
/** How long the copy may take to hold the last marker, the promotion to catch up, the DR site to take a write. */
const STEP_WAIT_MS = 30_000
/** How long the put-back may wait for the primary's stream and the new mirror (fresh, so no 2.11+ backoff applies). */
const RESTORE_WAIT_MS = 60_000
const RETRY_MS = 100

export interface FailoverDrillOptions {
  /** The primary site (--context). */
  primary: ResolvedContext
  /** The DR site (--dr-context). */
  dr: ResolvedContext
  markers: number
  ratePerSecond: number
  /** The sandbox `sandbox up` recorded: only its own processes may be stopped. */
  sandbox: SandboxGuard
  actor?: string
  signal?: AbortSignal
  log?: (line: string) => void
  now?: () => Date
}

export interface FailoverCheck {
  name: 'markers copied' | 'digest' | 'writable at the DR site' | 'sandbox restored'
  ok: boolean
  detail: string
}

export interface FailoverDrillResult {
  /** drill-<UTC time>, as the backup drill's: the ops event's id. */
  id: string
  kind: 'failover'
  passed: boolean
  /** failover: the sandbox's primary site was stopped and the copy promoted; lag-only: nothing was stopped. */
  scope: 'failover' | 'lag-only'
  scopeReason: string
  startedAt: string
  completedAt: string
  durationSeconds: number
  primary: {context?: string; stream: string; serverVersion: string}
  dr: {context?: string; stream: string; serverVersion: string}
  markers: {subject: string; published: number; copied: number; ratePerSecond: number}
  /** Seconds from a marker's ack at the primary until the copy held it; upper bounds by up to one poll. */
  rpo?: {maxSeconds: number; p50Seconds: number; pollSeconds: number}
  /** From the kill of the primary's servers to the first write the promoted stream acknowledged. */
  rto?: {seconds: number}
  promotion?: {mode: PromotionMode; promotedStream: string; reason: string; durationSeconds: number}
  digest?: {fromSeq: number; toSeq: number; messages: number; origin: string; promoted?: string; promotedMessages?: number; comparedBy: string}
  writable?: {stream: string; subject: string; seq: number}
  restore?: {done: boolean; steps: string[]; error?: string}
  /** Which parts of the drill need nats-server 2.12+, and whether these servers have it. */
  needs212: string[]
  checks: FailoverCheck[]
  /** The step that failed, when one did. */
  error?: string
}

/**
 * The subject markers go on: CIM's `cim.<domain>.<aggregateType>.<aggregateId>.<eventType>` with aggregate `marker`
 * and the drill's id, on `cim.drill` when the events stream captures it, else in the first CIM domain it captures
 * (`cim.graph.>` gives `cim.graph.marker.<id>.<event>`). Never the ops log's `cim.ops.>`, never a subject without the
 * drill's id. Undefined when none fits.
 */
export function markerSubject(streamSubjects: string[], drillId: string, eventType: string = MARKER_EVENT): string | undefined {
  const tokens = ['cim', 'drill', 'marker', drillId, eventType]
  const candidates = [tokens.join('.'), ...streamSubjects.map((pattern) => concretize(pattern, tokens))]
  // The drill's id must be in it: the markers are purged by subject afterwards, and must never share one with real events.
  return candidates.find(
    (subject) => subject.startsWith('cim.') && subject.split('.').includes(drillId) && !subjectIsSubset(subject, 'cim.ops.>') && streamSubjects.some((pattern) => subjectIsSubset(subject, pattern)),
  )
}

/** The pattern's literal tokens, the marker's tokens where it has wildcards. */
function concretize(pattern: string, tokens: string[]): string {
  const parts = pattern.split('.')
  const out: string[] = []
  for (const [i, part] of parts.entries()) {
    if (part === '>') return [...out, ...(i < tokens.length ? tokens.slice(i) : tokens.slice(-1))].join('.')
    out.push(part === '*' ? (tokens[i] ?? tokens.at(-1)!) : part)
  }
  return out.join('.')
}

/** The median (nearest rank) of the values; 0 for none. */
export function median(values: number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.ceil(sorted.length / 2) - 1]!
}

/** `100`, `100/s`: markers per second. */
export function parseRate(input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*s)?\s*$/.exec(input)
  const rate = match ? Number(match[1]) : Number.NaN
  if (!(rate > 0) || rate > 10_000) throw new UsageError(`invalid --rate ${input}`, 'give markers per second, from 0 (exclusive) to 10000, as N or N/s', {hint: 'e.g. --rate 100/s'})
  return rate
}

/**
 * The DR copy of `origin`: a stream at the DR site mirroring it, from the origin's domain when several do; the DR
 * context's events stream first. Undefined when none does.
 */
export function pickCopy(streams: StreamSummary[], origin: {stream: string; domain?: string}, preferred: string): StreamSummary | undefined {
  const mirroring = streams.filter((s) => s.sources.some((source) => source.kind === 'mirror' && source.name === origin.stream))
  const fromDomain = mirroring.filter((s) => origin.domain === undefined || s.sources.some((source) => source.apiPrefix === `$JS.${origin.domain}.API`))
  const candidates = fromDomain.length > 0 ? fromDomain : mirroring
  return candidates.find((s) => s.name === preferred) ?? candidates[0]
}

/** Which parts need 2.12+: only the in-place promotion; older servers take the safest path (dr promote). */
export function needs212Lines(scope: FailoverDrillResult['scope'], promotion: FailoverDrillResult['promotion'], drVersion: string): string[] {
  if (scope === 'lag-only' || !promotion) return ['measuring the lag (RPO) works on every server; promoting a mirror in place needs nats-server 2.12+ (older servers: a new stream sourcing it)']
  return promotion.mode === 'update'
    ? [`promotion in place (the mirror's configuration removed, sequences kept) needs nats-server 2.12+: used, the DR site runs ${drVersion}`]
    : [`promotion in place needs nats-server 2.12+; the DR site runs ${drVersion}, so the drill took the safest path (${promotion.promotedStream}, renumbered; compared by origin sequence)`]
}

export type SandboxScope = {scope: 'failover'; reason: string; processes: SandboxProcess[]} | {scope: 'lag-only'; reason: string}

/**
 * Servers are stopped only when both contexts are the ones `sandbox up` wrote and both connections reached the
 * servers the sandbox recorded, by address and by the id each reported at its start (sandbox/guard.ts).
 */
export async function decideScope(
  guard: SandboxGuard,
  contexts: {primary?: string; dr?: string},
  reached: {primary: {servers: string[]; server: {address: string; serverId: string; serverName?: string}}; dr: {servers: string[]; server: {address: string; serverId: string; serverName?: string}}},
): Promise<SandboxScope> {
  const [{assertSandboxServer}, {SANDBOX_CONTEXT, SANDBOX_DR_CONTEXT}, {SANDBOX_SITES}] = await Promise.all([import('../sandbox/guard.js'), import('../sandbox/context.js'), import('../sandbox/types.js')])
  const realSite = 'lag only: servers are stopped only in the sandbox cimops started'
  if (!guard.state) return {scope: 'lag-only', reason: `${realSite}, and none is recorded in ${guard.stateDir}`}
  if (contexts.primary !== SANDBOX_CONTEXT || contexts.dr !== SANDBOX_DR_CONTEXT) {
    return {scope: 'lag-only', reason: `${realSite}, reached through its own contexts ${SANDBOX_CONTEXT} and ${SANDBOX_DR_CONTEXT} (not ${contexts.primary ?? 'none'} and ${contexts.dr ?? 'none'})`}
  }
  try {
    assertSandboxServer(guard, reached.primary.servers, reached.primary.server, SANDBOX_SITES.primary)
    assertSandboxServer(guard, reached.dr.servers, reached.dr.server, SANDBOX_SITES.dr)
  } catch (error) {
    return {scope: 'lag-only', reason: `${realSite}: ${isCimopsError(error) ? error.why : String(error)}`}
  }
  const processes = guard.state.processes.filter((proc) => proc.component === 'nats' && (proc.site ?? SANDBOX_SITES.primary) === SANDBOX_SITES.primary)
  return {scope: 'failover', reason: `the sandbox in ${guard.stateDir}: its primary site (${processes.map((p) => p.name).join(', ')}) is killed, the DR copy promoted, and all put back after`, processes}
}

interface Sites {
  primarySession: NatsSession
  drSession: NatsSession
  primaryEndpoint: JetStreamEndpoint
  drEndpoint: JetStreamEndpoint
}

export async function runFailoverDrill(opts: FailoverDrillOptions): Promise<FailoverDrillResult> {
  const started = performance.now()
  const now = opts.now ?? (() => new Date())
  const startedAt = now()
  const id = `drill-${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(/[-:]/g, '')}`
  const log = opts.log ?? (() => {})
  const signal = opts.signal ?? new AbortController().signal
  const [promotion, wire, {openNatsSession}] = await Promise.all([import('../adapters/nats/promotion.js'), import('../adapters/nats/failover-drill.js'), import('../adapters/nats/session.js')])
  const open = (ctx: ResolvedContext) => openNatsSession(ctx.nats, {timeoutMs: ctx.timeoutMs, name: 'cimops-drill-failover'})
  let primarySession = open(opts.primary)
  const drSession = open(opts.dr)
  try {
    const [primaryJs, drJs] = await Promise.all([primarySession.jetstream(), drSession.jetstream()])
    const sites: Sites = {
      primarySession,
      drSession,
      primaryEndpoint: await promotion.jetstreamEndpoint(primaryJs.nc, primaryJs.jsApiPrefix, primaryJs.timeoutMs),
      drEndpoint: await promotion.jetstreamEndpoint(drJs.nc, drJs.jsApiPrefix, drJs.timeoutMs),
    }

    // 1. The copy: the stream at the DR site mirroring the primary's events stream.
    const originName = opts.primary.streams.events
    const origin = await promotion.streamAt(sites.primaryEndpoint, originName)
    if (!origin) throw new NotFoundError(`no stream ${originName} at the primary site (${primaryJs.address})`, 'there is nothing to drill', {hint: "name the primary site's context with --context"})
    const originDomain = await promotion.jetstreamDomain(sites.primaryEndpoint)
    const drStreams = await promotion.streamsAt(sites.drEndpoint)
    const copy = pickCopy(drStreams, {stream: originName, ...(originDomain ? {domain: originDomain} : {})}, opts.dr.streams.events)
    if (!copy) {
      throw new NotFoundError(`no stream at the DR site (${drJs.address}) mirrors ${originName}`, 'there is no copy to measure or promote', {hint: 'name the DR site with --dr-context; `cimops sandbox seed` creates EVENTS_DR in a two-site sandbox'})
    }
    const subject = markerSubject(origin.subjects, id)
    if (!subject) throw new UsageError(`cannot drill ${originName}`, `it captures no CIM subject a marker event could go on (subjects ${origin.subjects.join(', ') || 'none'})`)

    const scope = await decideScope(
      opts.sandbox,
      {primary: opts.primary.name, dr: opts.dr.name},
      {
        primary: {servers: opts.primary.nats.servers, server: wire.connectedServer(primaryJs.nc)},
        dr: {servers: opts.dr.nats.servers, server: wire.connectedServer(drJs.nc)},
      },
    )
    log(scope.reason)
    const result: FailoverDrillResult = {
      id,
      kind: 'failover',
      passed: false,
      scope: scope.scope,
      scopeReason: scope.reason,
      startedAt: startedAt.toISOString(),
      completedAt: '',
      durationSeconds: 0,
      primary: {...(opts.primary.name ? {context: opts.primary.name} : {}), stream: originName, serverVersion: primaryJs.features.version},
      dr: {...(opts.dr.name ? {context: opts.dr.name} : {}), stream: copy.name, serverVersion: drJs.features.version},
      markers: {subject, published: 0, copied: 0, ratePerSecond: opts.ratePerSecond},
      needs212: [],
      checks: [],
    }

    let failure: unknown
    let stopped = false
    try {
      // 2. Markers at the primary, each timed until the copy holds it.
      log(`publishing ${opts.markers} markers on ${subject} at ${opts.ratePerSecond}/s, timing each until ${copy.name} holds it`)
      const markers = await publishMarkers(sites, {id, subject, origin: originName, copy: copy.name, count: opts.markers, ratePerSecond: opts.ratePerSecond, signal}, (done) => (result.markers.published = done))
      result.markers.copied = markers.lags.length
      if (markers.lags.length > 0) result.rpo = {maxSeconds: round(Math.max(...markers.lags)), p50Seconds: round(median(markers.lags)), pollSeconds: POLL_MS / 1000}
      const allCopied = markers.lags.length === markers.published
      result.checks.push({
        name: 'markers copied',
        ok: allCopied,
        detail: allCopied ? `${copy.name} holds all ${markers.published}` : `${copy.name} held ${markers.lags.length} of ${markers.published} after ${STEP_WAIT_MS / 1000}s`,
      })

      if (scope.scope === 'failover' && allCopied) {
        // 6, before the stop: what the copy acknowledged, as the origin holds it (deleted sequences skipped: deletes are not mirrored).
        const fromSeq = (await promotion.streamAt(sites.primaryEndpoint, originName))?.firstSeq ?? 1
        const held = await digestRange(sites.primarySession, originName, fromSeq, markers.lastSeq, (seq) => seq, signal)
        result.digest = {fromSeq, toSeq: markers.lastSeq, messages: held.summary.messages, origin: held.summary.digest, comparedBy: 'sequence'}

        // 3. The primary site goes down: the sandbox's own nats-servers, by the pids it recorded.
        log(`killing ${scope.processes.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`)
        const {stopProcess} = await import('../sandbox/sandbox.js')
        const stoppedAt = performance.now()
        stopped = true
        await Promise.all(scope.processes.map((proc) => stopProcess(opts.sandbox.state!, proc.name, 'SIGKILL')))
        await primarySession.close().catch(() => undefined)

        // 4. Promotion, unfenced: the primary is down.
        const {preparePromotion} = await import('./promote.js')
        const prepared = await preparePromotion(opts.dr, {stream: copy.name, subjects: origin.subjects, noFence: true, waitMs: STEP_WAIT_MS, actor: opts.actor, nats: drSession, signal})
        log(`promoting ${copy.name}: ${prepared.plan.modeReason}`)
        const promoted = await prepared.execute()
        result.promotion = {mode: promoted.mode, promotedStream: promoted.promotedStream, reason: prepared.plan.modeReason, durationSeconds: promoted.durationSeconds}

        // 5. RTO: the first write at the DR site the promoted stream acknowledges.
        const writeSubject = markerSubject(origin.subjects, id, WRITE_CHECK_EVENT)!
        const write = await firstAcceptedWrite(sites, {id, subject: writeSubject, stream: promoted.promotedStream, signal})
        result.rto = {seconds: round((write.ackedAt - stoppedAt) / 1000)}
        result.writable = {stream: write.ack.stream, subject: writeSubject, seq: write.ack.seq}
        result.checks.push({name: 'writable at the DR site', ok: true, detail: `${writeSubject} stored by ${write.ack.stream} at sequence ${write.ack.seq}`})

        // 6, after: the same events in the same order. In place they keep their sequences; the safest path renumbers
        // them, so each is matched to its origin sequence by the Nats-Stream-Source header the sourcing added.
        const inPlace = promoted.mode === 'update'
        const after = await promotion.streamAt(sites.drEndpoint, promoted.promotedStream)
        const again = await digestRange(drSession, promoted.promotedStream, after?.firstSeq ?? 1, after?.lastSeq ?? 0, inPlace ? (seq) => seq : (_seq, headers) => wire.sourcedSequence(headers), signal, held.sequences)
        const matched = again.summary.digest === held.summary.digest && again.summary.messages === held.summary.messages
        result.digest = {...result.digest, promoted: again.summary.digest, promotedMessages: again.summary.messages, comparedBy: inPlace ? 'sequence' : `origin sequence from ${wire.STREAM_SOURCE_HEADER}`}
        result.checks.push({
          name: 'digest',
          ok: matched,
          detail: matched
            ? `${held.summary.messages} events of sequences ${fromSeq}-${markers.lastSeq} identical in ${promoted.promotedStream}`
            : `${promoted.promotedStream} holds ${again.summary.messages} of the ${held.summary.messages} events the copy acknowledged${again.summary.messages === held.summary.messages ? ', with different content' : ''}`,
        })
      }
    } catch (error) {
      failure = error
    } finally {
      if (scope.scope === 'failover' && result.markers.published > 0) {
        log('putting the sandbox back')
        // Not the drill's signal: an interrupted drill must still leave the sandbox as it found it.
        result.restore = await restoreSandbox({opts, sites, copy, origin: originName, subject, stopped, drStreamsAtStart: new Set(drStreams.map((s) => s.name)), scope, log})
        result.checks.push({name: 'sandbox restored', ok: result.restore.done, detail: result.restore.done ? result.restore.steps.join('; ') : `${result.restore.error} (done: ${result.restore.steps.join('; ') || 'nothing'})`})
      }
    }
    if (failure && (signal.aborted || failure instanceof InterruptedError)) throw failure instanceof Error ? failure : new InterruptedError()
    if (failure) result.error = describe(failure)
    result.needs212 = needs212Lines(scope.scope, result.promotion, result.dr.serverVersion)
    result.passed = !result.error && result.checks.length > 0 && result.checks.every((check) => check.ok)
    result.completedAt = now().toISOString()
    result.durationSeconds = round((performance.now() - started) / 1000, 3)
    return result
  } finally {
    await Promise.all([primarySession.close(), drSession.close()].map((closing) => closing.catch(() => undefined)))
  }

  interface RestoreInput {
    opts: FailoverDrillOptions
    sites: Sites
    copy: StreamSummary
    origin: string
    subject: string
    stopped: boolean
    drStreamsAtStart: Set<string>
    scope: Extract<SandboxScope, {scope: 'failover'}>
    log: (line: string) => void
  }

  /**
   * Back to the sandbox the drill found: the DR site's writable streams go first, so the returning primary never meets a
   * second stream on its subjects (every event would be stored twice); then the primary's servers by the sandbox's own
   * restart, the markers purged, and the copy created again as a fresh mirror (a fresh one copies at once, where one that
   * lived through the outage may wait out 2.11+'s backoff). Errors are reported, not thrown: the drill's result stands.
   */
  async function restoreSandbox(input: RestoreInput): Promise<NonNullable<FailoverDrillResult['restore']>> {
    const {sites, copy, origin, subject} = input
    const steps: string[] = []
    const {sleep} = await import('../core/sleep.js')
    const never = new AbortController().signal
    const waitFor = async <T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> => {
      const deadline = Date.now() + RESTORE_WAIT_MS
      let last = 'no answer'
      for (;;) {
        const value = await attempt().catch((error: unknown) => ((last = describe(error)), undefined))
        if (value !== undefined) return value
        if (Date.now() >= deadline) throw new OperationError(`could not put the sandbox back`, `${what} after ${RESTORE_WAIT_MS / 1000}s (${last})`, {hint: '`cimops sandbox down && cimops sandbox up --sites 2 && cimops sandbox seed` starts it afresh'})
        await sleep(RETRY_MS * 5, never)
      }
    }
    try {
      const [{restartProcess}, {mirrorStreamSetup}] = await Promise.all([import('../sandbox/sandbox.js'), import('../adapters/nats/seed-setup.js')])
      const originDomain = promotion.domainOfApiPrefix(copy.sources.find((s) => s.kind === 'mirror')?.apiPrefix)
      if (!originDomain) throw new OperationError('could not put the sandbox back', `${copy.name} mirrored ${origin} without a domain's API prefix: cannot create it again`)
      const leftovers = (await promotion.streamsAt(sites.drEndpoint)).filter((s) => s.name === copy.name || !input.drStreamsAtStart.has(s.name))
      // Writable ones first (the promoted stream, the ops log promote may have created), the copy last.
      for (const stream of leftovers.sort((a, b) => Number(a.name === copy.name) - Number(b.name === copy.name))) {
        await wire.deleteStreamAt(sites.drEndpoint, stream.name)
        steps.push(`deleted ${stream.name} at the DR site`)
      }
      if (input.stopped) {
        await Promise.all(input.scope.processes.map((proc) => restartProcess(input.opts.sandbox.state!, proc.name)))
        steps.push(`restarted ${input.scope.processes.map((p) => p.name).join(', ')}`)
      }
      // A fresh session per try: a session keeps the failure of its first connect.
      const js = await waitFor('the primary site did not answer', async () => {
        await primarySession.close().catch(() => undefined)
        primarySession = open(input.opts.primary)
        return primarySession.jetstream()
      })
      const primaryEndpoint = await promotion.jetstreamEndpoint(js.nc, js.jsApiPrefix, js.timeoutMs)
      await waitFor(`${origin} did not come back at the primary site`, () => promotion.streamAt(primaryEndpoint, origin))
      const purged = await wire.purgeSubject(primaryEndpoint, origin, subject)
      steps.push(`purged ${purged} markers from ${origin}`)
      const originMessages = (await promotion.streamAt(primaryEndpoint, origin))?.messages ?? 0
      // Only once the DR site reaches the origin again (the leaf link is back), so the new mirror's first request is answered.
      const viaLink = await promotion.jetstreamEndpoint(sites.drEndpoint.nc, `$JS.${originDomain}.API`, sites.drEndpoint.timeoutMs)
      await waitFor(`the DR site does not reach ${origin} again`, () => promotion.streamAt(viaLink, origin))
      await wire.createStream(sites.drEndpoint, mirrorStreamSetup({name: copy.name, origin, originDomain, replicas: copy.replicas}))
      const holding = await waitFor(`${copy.name} did not copy the ${originMessages} events of ${origin}`, async () => {
        const now = await promotion.streamAt(sites.drEndpoint, copy.name)
        return now && now.messages >= originMessages ? now.messages : undefined
      })
      steps.push(`created ${copy.name} again as a mirror of ${origin}@${originDomain}, holding ${holding} events`)
      input.log(steps.join('; '))
      return {done: true, steps}
    } catch (error) {
      return {done: false, steps, error: describe(error)}
    }
  }
}

interface MarkerRun {
  published: number
  /** Per copied marker, in publish order: seconds from its ack until the copy held it. */
  lags: number[]
  lastSeq: number
}

/**
 * Publishes the markers at the rate asked (each acknowledged by the origin stream) while a poller reads the copy's last
 * sequence: a mirror keeps the origin's sequences, so the copy holds a marker once its last sequence reaches the
 * marker's. Stops waiting for the copy STEP_WAIT_MS after the last publish.
 */
async function publishMarkers(
  sites: Sites,
  run: {id: string; subject: string; origin: string; copy: string; count: number; ratePerSecond: number; signal: AbortSignal},
  onPublished: (count: number) => void,
): Promise<MarkerRun> {
  const [promotion, wire, {sleep}] = await Promise.all([import('../adapters/nats/promotion.js'), import('../adapters/nats/failover-drill.js'), import('../core/sleep.js')])
  const js = await sites.primarySession.js()
  const acked: Array<{seq: number; at: number}> = []
  const lags: number[] = []
  let publishedUntil: number | undefined
  const poll = (async () => {
    for (;;) {
      const copy = await promotion.streamAt(sites.drEndpoint, run.copy)
      const at = performance.now()
      while (lags.length < acked.length && acked[lags.length]!.seq <= (copy?.lastSeq ?? 0)) lags.push(Math.max(0, (at - acked[lags.length]!.at) / 1000))
      if (publishedUntil !== undefined && (lags.length === acked.length || at - publishedUntil > STEP_WAIT_MS)) return
      if (run.signal.aborted) throw new InterruptedError()
      await sleep(POLL_MS, run.signal)
    }
  })()
  // Awaited at the end; a failure of the poller meanwhile must not go unhandled.
  poll.catch(() => undefined)
  const start = performance.now()
  try {
    for (let i = 0; i < run.count; i++) {
      const due = start + (i * 1000) / run.ratePerSecond
      if (due > performance.now()) await sleep(due - performance.now(), run.signal)
      if (run.signal.aborted) throw new InterruptedError()
      const occurredAt = new Date().toISOString()
      const eventId = `${run.id}-${i + 1}`
      const ack = await wire.publishAcked(
        js,
        run.subject,
        {id: eventId, type: MARKER_EVENT, domain: run.subject.split('.')[1], aggregateType: 'marker', aggregateId: run.id, occurredAt, correlationId: run.id, data: {marker: i + 1, of: run.count}},
        // No Nats-Expected-Stream here: a mirror stores the header with the message and, on 2.9, refuses to store it
        // (the expected stream is not the mirror), stalling the copy. The ack says which stream took it.
        {msgID: eventId, timeoutMs: sites.primaryEndpoint.timeoutMs},
      )
      if (ack.stream !== run.origin) throw new OperationError(`marker ${i + 1} was not stored by ${run.origin}`, `${ack.stream} acknowledged it: another stream captures ${run.subject}`)
      acked.push({seq: ack.seq, at: performance.now()})
      onPublished(acked.length)
    }
  } finally {
    publishedUntil = performance.now()
  }
  await poll
  return {published: acked.length, lags, lastSeq: acked.at(-1)?.seq ?? 0}
}

/** Publishes at the DR site until the promoted stream acknowledges (the leaf's interest may take a moment to settle). */
async function firstAcceptedWrite(sites: Sites, run: {id: string; subject: string; stream: string; signal: AbortSignal}) {
  const [wire, {sleep}] = await Promise.all([import('../adapters/nats/failover-drill.js'), import('../core/sleep.js')])
  const js = await sites.drSession.js()
  const deadline = Date.now() + STEP_WAIT_MS
  const eventId = `${run.id}-write-check`
  const body = {id: eventId, type: WRITE_CHECK_EVENT, domain: run.subject.split('.')[1], aggregateType: 'marker', aggregateId: run.id, occurredAt: new Date().toISOString(), correlationId: run.id, data: {}}
  for (;;) {
    try {
      const ack = await wire.publishAcked(js, run.subject, body, {msgID: eventId, expectStream: run.stream, timeoutMs: 1000})
      return {ack, ackedAt: performance.now()}
    } catch (error) {
      if (run.signal.aborted) throw new InterruptedError()
      if (Date.now() >= deadline) throw new OperationError(`the DR site took no write on ${run.subject}`, `${run.stream} acknowledged nothing within ${STEP_WAIT_MS / 1000}s (${describe(error)})`)
      await sleep(RETRY_MS, run.signal)
    }
  }
}

/**
 * The content digest (backup/digest.ts) of the stream's messages in [from, to], each taken by the origin sequence
 * `originSeq` gives it; with `only`, just those whose origin sequence is in it (the ones the origin holds), in the
 * order the stream holds them.
 */
async function digestRange(
  session: NatsSession,
  stream: string,
  from: number,
  to: number,
  originSeq: (seq: number, headers: Array<[string, string[]]> | undefined) => number | undefined,
  signal: AbortSignal,
  only?: Set<number>,
) {
  const [{ContentDigest}, {readMessages}, {jsApiFor}] = await Promise.all([import('../backup/digest.js'), import('../adapters/nats/backup-messages.js'), import('../adapters/nats/backup-streams.js')])
  const digest = new ContentDigest(false)
  const sequences = new Set<number>()
  if (to >= from && to > 0) {
    const api = jsApiFor((await session.connection()).nc, session.settings, session.timeoutMs)
    await readMessages(api, stream, {fromSeq: from, toSeq: to, idleTimeoutMs: Math.max(10_000, session.timeoutMs), signal}, (message) => {
      const seq = originSeq(message.seq, message.headers)
      if (seq === undefined || (only && !only.has(seq))) return
      sequences.add(seq)
      digest.update(message.subject, message.data, seq)
    })
  }
  return {summary: digest.summary(), sequences}
}

function describe(error: unknown): string {
  return isCimopsError(error) ? error.line : error instanceof Error ? error.message : String(error)
}
