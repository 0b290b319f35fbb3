/**
 * `cimops dr status` and the health check's `replication` component: for every mirror and source at the sites
 * given, how far it is behind its origin (messages, and seconds measured at the origin: §2.3 of
 * reference/nats-sites-dr.md), the promoted primaries, and split brains between the sites and the domains they
 * are linked to. The origin of a mirror in another domain is read through the site's own connection with the
 * mirror's API prefix (across the leaf link), so one context is enough; when the link is down the origin does not
 * answer and seconds behind becomes an upper bound from the last contact.
 */
import type {ResolvedContext, Thresholds} from '../core/context-types.js'
import {DeadlineError, failedCheck, withDeadline} from '../core/check/deadline.js'
import {type Status, worstStatus} from '../core/check/status.js'
import {formatSeconds, plural} from '../core/output/units.js'
import {intersectSubjects} from '../adapters/nats/subjects.js'
import {jsApiPrefix, lastMessageMeta, listStreamsReporting, nextMessageMeta, type SourceState, type StreamSummary} from '../adapters/nats/jetstream.js'
import {formatOrigin} from '../adapters/nats/promotion-marker.js'
import {domainOfApiPrefix, jetstreamDomain, lastSourcedSequence, listRemoteStreams, readRemoteStream} from '../adapters/nats/replication.js'
import type {NatsConnection} from '../adapters/nats/connection.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {mapLimit} from '../streams/concurrency.js'
import {type Behind, boundedBehind, findSplitBrains, linkVerdict, measuredBehind, type SiteStream, type SiteStreams, type SplitBrain, uniqueSplitBrains} from './model.js'

/** Links measured at once per site: enough to hide the round trips of 50 streams, few enough for one server. */
const LINKS_IN_FLIGHT = 16
/** Messages of a sourced stream searched, newest first, for the last one a given source wrote. */
const SOURCE_LOOK_BACK = 16
/** A site's work beyond its requests' own timeouts (connecting, closing). */
const SITE_MARGIN_MS = 1500

export type RpoThresholds = Pick<Thresholds, 'rpoWarnSeconds' | 'rpoCritSeconds'>

/** One mirror or source of a stream at a site. */
export interface ReplicationLink {
  context: string
  stream: string
  kind: 'mirror' | 'source'
  origin: string
  /** The origin's JetStream domain, when it is in another one. */
  originDomain?: string
  apiPrefix?: string
  filterSubject?: string
  /** Origin messages the copy lacks; absent when the origin could not be read, or the link is filtered and behind. */
  messagesBehind?: number
  /** The RPO now: the age of the oldest origin message the copy lacks. Absent when nothing tells (never heard, origin out of reach). */
  secondsBehind?: number
  /** The origin did not answer: secondsBehind is an upper bound from the last contact. */
  secondsBehindIsBound: boolean
  /** The server's own figure: frozen during an outage (§2.2). */
  lag: number
  /** Seconds since the copy last heard from the origin; absent = never. */
  activeSeconds?: number
  /** RFC 3339 time of that last contact. */
  lastContact?: string
  originReachable: boolean
  /** The server's error for the mirror/source. */
  error?: string
  status: Status
  summary: string
}

/** A stream made writable by `cimops dr promote`: the site's primary for those subjects now. */
export interface PromotedPrimary {
  context: string
  stream: string
  subjects: string[]
  promotedFrom: {stream: string; domain?: string; at?: string}
  summary: string
}

export interface DrSite {
  context: string
  domain?: string
  status: Status
  /** Set when the site could not be read: then it is CRITICAL. */
  error?: string
  thresholds: RpoThresholds & {sources: Record<keyof RpoThresholds, 'flag' | 'context' | 'default'>}
}

export interface DrStatusReport {
  status: Status
  summary: string
  /** RFC 3339 time the run started. */
  checkedAt: string
  durationSeconds: number
  contexts: DrSite[]
  links: ReplicationLink[]
  primaries: PromotedPrimary[]
  splitBrain: SplitBrain[]
}

/** What one site holds, read on its own connection. */
interface SiteRead {
  ctx: ResolvedContext
  session: NatsSession
  domain?: string
  streams: StreamSummary[]
}

/** One site's findings: its links, promoted streams and split brains with the domains it reaches. */
export interface SiteFindings {
  domain?: string
  links: ReplicationLink[]
  primaries: PromotedPrimary[]
  splitBrain: SplitBrain[]
}

/** Reads the site: its domain and streams. Throws when the site cannot be reached. */
async function readSite(ctx: ResolvedContext, session: NatsSession): Promise<SiteRead> {
  const {nc} = await session.connection()
  const options = {jsApiPrefix: session.jsApiPrefix, timeoutMs: ctx.timeoutMs}
  const [domain, listing] = await Promise.all([jetstreamDomain(nc, options), listStreamsReporting(nc, options)])
  return {ctx, session, domain, streams: listing.items}
}

/**
 * One site's links and promoted streams, and split brains between its writable streams and those of every domain
 * it reaches: the domains its mirrors and promotions name, and `otherDomains` (the other sites of the run).
 * `known` names a domain by the context it belongs to, where it is one of the run's.
 */
async function siteFindings(site: SiteRead, options: {otherDomains: string[]; known: Map<string, SiteStreams>; now: () => Date}): Promise<SiteFindings> {
  const {ctx, session, streams} = site
  const {nc} = await session.connection()
  const name = siteLabel(ctx)
  const copies = streams.flatMap((stream) => stream.sources.map((source) => ({stream, source})))
  const peers = [
    ...new Set([
      ...streams.flatMap((stream) => stream.sources.map((source) => domainOfApiPrefix(source.apiPrefix))),
      ...streams.map((stream) => stream.promotedFrom?.domain),
      ...options.otherDomains,
    ]),
  ].filter((domain): domain is string => domain !== undefined && domain !== site.domain)
  const [links, peerListings] = await Promise.all([
    mapLimit(copies, LINKS_IN_FLIGHT, ({stream, source}) => measureLink(nc, stream, source, {context: name, jsApiPrefix: session.jsApiPrefix, ctx, now: options.now})),
    Promise.all(peers.map(async (domain) => ({domain, listing: await listRemoteStreams(nc, {jsApiPrefix: jsApiPrefix(domain), timeoutMs: ctx.timeoutMs})}))),
  ])
  const here = siteStreams(name, site.domain, streams)
  const splitBrain = peerListings.flatMap(({domain, listing}) => {
    const known = options.known.get(domain)
    // Linked: the site reaches the domain's JetStream. Unreachable: only a promotion marker can tell, from the other site's own reading.
    if (listing.reachable) return findSplitBrains(here, siteStreams(known?.site ?? `domain ${domain}`, domain, listing.streams), true, overlappingSubjects)
    return known ? findSplitBrains(here, known, false, overlappingSubjects) : []
  })
  return {domain: site.domain, links, primaries: promotedPrimaries(name, streams), splitBrain}
}

/** Every mirror and source of the context's site, promoted streams, and split brains with the domains it reaches: the health check's view. */
export async function replicationFindings(ctx: ResolvedContext, session: NatsSession, now: () => Date = () => new Date()): Promise<SiteFindings> {
  return siteFindings(await readSite(ctx, session), {otherDomains: [], known: new Map(), now})
}

/**
 * `dr status` over the contexts given (each with its thresholds resolved): every site is read at once, each under its
 * timeout; a site that cannot be read is CRITICAL and delays no other. Split brains are looked for between every site
 * and every domain it reaches, the other sites' included. `sessions` are the command's, one per context; the caller closes them.
 */
export async function drStatus(contexts: Array<{ctx: ResolvedContext; session: NatsSession}>, options: {now?: () => Date} = {}): Promise<DrStatusReport> {
  const now = options.now ?? (() => new Date())
  const checkedAt = now().toISOString()
  const started = performance.now()
  const deadline = <T>(ctx: ResolvedContext, work: Promise<T>) => withDeadline(work, ctx.timeoutMs + SITE_MARGIN_MS, () => new DeadlineError(ctx.timeoutMs + SITE_MARGIN_MS))
  const reads = await Promise.all(contexts.map(({ctx, session}) => deadline(ctx, readSite(ctx, session)).then((read) => ({read}), (error: unknown) => ({ctx, error}))))
  const readable = reads.flatMap((r) => ('read' in r ? [r.read] : []))
  const known = new Map(readable.flatMap((read) => (read.domain ? [[read.domain, siteStreams(siteLabel(read.ctx), read.domain, read.streams)] as const] : [])))
  const domains = [...known.keys()]
  const findings = await Promise.all(
    reads.map(async (r) => {
      if (!('read' in r)) return {ctx: r.ctx, error: r.error}
      try {
        return {ctx: r.read.ctx, found: await deadline(r.read.ctx, siteFindings(r.read, {otherDomains: domains, known, now}))}
      } catch (error) {
        return {ctx: r.read.ctx, error}
      }
    }),
  )
  const links = findings.flatMap((f) => f.found?.links ?? [])
  const primaries = findings.flatMap((f) => f.found?.primaries ?? [])
  const splitBrain = uniqueSplitBrains(findings.flatMap((f) => f.found?.splitBrain ?? []))
  const sites: DrSite[] = findings.map((f) => {
    const name = siteLabel(f.ctx)
    const error = 'error' in f ? siteError(f.ctx, f.error) : undefined
    const statuses: Status[] = [
      ...links.filter((l) => l.context === name).map((l) => l.status),
      ...(splitBrain.some((b) => b.a.site === name || b.b.site === name) ? (['CRITICAL'] as const) : []),
      ...(error ? (['CRITICAL'] as const) : []),
    ]
    return {context: name, ...(f.found?.domain ? {domain: f.found.domain} : {}), status: worstStatus(statuses), ...(error ? {error} : {}), thresholds: siteThresholds(f.ctx)}
  })
  const status = worstStatus(sites.map((s) => s.status))
  return {status, summary: reportSummary(sites, links, primaries, splitBrain), checkedAt, durationSeconds: Math.round(performance.now() - started) / 1000, contexts: sites, links, primaries, splitBrain}
}

/** How far one mirror or source is behind, measured at the origin when it answers. */
async function measureLink(
  nc: NatsConnection,
  copy: StreamSummary,
  source: SourceState,
  options: {context: string; jsApiPrefix: string; ctx: ResolvedContext; now: () => Date},
): Promise<ReplicationLink> {
  const {ctx} = options
  const originPrefix = source.apiPrefix ?? options.jsApiPrefix
  const read = {jsApiPrefix: originPrefix, timeoutMs: ctx.timeoutMs}
  const origin = await readRemoteStream(nc, source.name, read)
  let behind: Behind
  let originMissing = false
  if (!origin.reachable) behind = boundedBehind(source.activeSeconds)
  else if (origin.stream) behind = await measuredAgainst(nc, copy, source, origin.stream, {...read, copyPrefix: options.jsApiPrefix, now: options.now})
  else {
    originMissing = true
    behind = {bound: false}
  }
  const verdict = linkVerdict({kind: source.kind, origin: source.name, error: source.error, activeSeconds: source.activeSeconds, originReachable: origin.reachable, originMissing, behind}, ctx.thresholds)
  const originDomain = domainOfApiPrefix(source.apiPrefix)
  const contactAt = source.activeSeconds === undefined ? undefined : new Date(options.now().getTime() - source.activeSeconds * 1000)
  return {
    context: options.context,
    stream: copy.name,
    kind: source.kind,
    origin: source.name,
    ...(originDomain ? {originDomain} : {}),
    ...(source.apiPrefix ? {apiPrefix: source.apiPrefix} : {}),
    ...(source.filterSubject ? {filterSubject: source.filterSubject} : {}),
    ...(behind.messages === undefined ? {} : {messagesBehind: behind.messages}),
    ...(behind.seconds === undefined ? {} : {secondsBehind: round(behind.seconds)}),
    secondsBehindIsBound: behind.bound,
    lag: source.lag,
    ...(source.activeSeconds === undefined ? {} : {activeSeconds: round(source.activeSeconds)}),
    ...(contactAt ? {lastContact: contactAt.toISOString()} : {}),
    originReachable: origin.reachable,
    ...(source.error ? {error: source.error} : {}),
    status: verdict.status,
    summary: `${source.kind} of ${formatOrigin({stream: source.name, domain: originDomain})}: ${verdict.reason}`,
  }
}

/**
 * §2.3: the last origin sequence the copy holds (a mirror keeps the origin's; a source's is in its messages' header),
 * the origin's last on the link's filter, and the time of the first origin message after the copy's. A filtered link
 * has gaps in its sequences, so it counts no messages, only seconds.
 */
async function measuredAgainst(
  nc: NatsConnection,
  copy: StreamSummary,
  source: SourceState,
  origin: StreamSummary,
  options: {jsApiPrefix: string; copyPrefix: string; timeoutMs: number; now: () => Date},
): Promise<Behind> {
  const filter = source.filterSubject ?? '>'
  const originLastSeq = source.filterSubject ? ((await lastMessageMeta(nc, origin.name, filter, options))?.seq ?? 0) : origin.lastSeq
  const copied =
    source.kind === 'mirror'
      ? copy.lastSeq
      : await lastSourcedSequence(nc, copy.name, origin.name, {lastSeq: copy.lastSeq, firstSeq: copy.firstSeq, lookBack: SOURCE_LOOK_BACK, jsApiPrefix: options.copyPrefix, timeoutMs: options.timeoutMs})
  // A source whose last messages all came from elsewhere: nothing tells where it got to but its last contact.
  if (copied === undefined && copy.messages > 0) return boundedBehind(source.activeSeconds)
  const from = copied ?? 0
  const firstMissing = originLastSeq > from ? await nextMessageMeta(nc, origin.name, from + 1, filter, options) : undefined
  const behind = measuredBehind({originLastSeq, copied: from, firstMissing: firstMissing?.time, now: origin.serverTime ?? options.now()})
  return source.filterSubject && behind.messages ? {seconds: behind.seconds, bound: false} : behind
}

function promotedPrimaries(context: string, streams: StreamSummary[]): PromotedPrimary[] {
  return streams.flatMap((stream) => {
    const from = stream.promotedFrom
    if (!from || stream.sources.some((s) => s.kind === 'mirror')) return []
    return [
      {
        context,
        stream: stream.name,
        subjects: stream.subjects,
        promotedFrom: {stream: from.stream, ...(from.domain ? {domain: from.domain} : {}), ...(from.at ? {at: from.at.toISOString()} : {})},
        summary: `primary (promoted from ${formatOrigin(from)}${from.at ? ` at ${from.at.toISOString()}` : ''})`,
      },
    ]
  })
}

function siteStreams(site: string, domain: string | undefined, streams: StreamSummary[]): SiteStreams {
  return {
    site,
    ...(domain ? {domain} : {}),
    streams: streams.map(
      (s): SiteStream => ({name: s.name, subjects: s.subjects, mirror: s.sources.some((source) => source.kind === 'mirror'), ...(s.promotedFrom ? {promotedFrom: s.promotedFrom} : {})}),
    ),
  }
}

/** The subjects two lists share, as the narrower filter of each overlapping pair. */
export function overlappingSubjects(a: string[], b: string[]): string[] {
  return [...new Set(a.flatMap((x) => b.flatMap((y) => intersectSubjects(x, y) ?? [])))]
}

function siteLabel(ctx: ResolvedContext): string {
  return ctx.name ?? '(default)'
}

function siteError(ctx: ResolvedContext, error: unknown): string {
  return failedCheck({name: 'site', component: 'dr'}, error, {system: 'nats', address: ctx.nats.servers.join(',')}).summary
}

function siteThresholds(ctx: ResolvedContext): DrSite['thresholds'] {
  const {rpoWarnSeconds, rpoCritSeconds} = ctx.thresholds
  return {rpoWarnSeconds, rpoCritSeconds, sources: {rpoWarnSeconds: ctx.thresholdSources.rpoWarnSeconds, rpoCritSeconds: ctx.thresholdSources.rpoCritSeconds}}
}

function reportSummary(sites: DrSite[], links: ReplicationLink[], primaries: PromotedPrimary[], splitBrain: SplitBrain[]): string {
  const unreadable = sites.filter((s) => s.error).map((s) => `${s.context}: ${s.error}`)
  const bad = links.filter((l) => l.status !== 'OK').map((l) => `${l.context} ${l.stream}: ${l.summary}`)
  const problems = [...splitBrain.map((b) => b.summary), ...unreadable, ...bad]
  if (problems.length > 0) return problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '')
  const worstBehind = Math.max(0, ...links.map((l) => l.secondsBehind ?? 0))
  const promoted = primaries.length > 0 ? `, ${plural(primaries.length, 'promoted primary', 'promoted primaries')}` : ''
  if (links.length === 0) return `no mirrored or sourced streams at ${sites.map((s) => s.context).join(', ')}${promoted}`
  return `${plural(links.length, 'link')} OK, ${worstBehind === 0 ? 'all in sync' : `at most ${formatSeconds(worstBehind)} behind`}${promoted}`
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000
}
