/**
 * Replication status as data, and the rules that judge it (reference/nats-sites-dr.md §2.3, §3.4, §4): how far a
 * copy is behind its origin in messages and seconds, the verdict against the RPO thresholds, and when two writable
 * copies of the same subjects are a split brain. Pure: the wire side is src/lib/adapters/nats/replication.ts.
 */
import {type Status, statusAbove} from '../core/check/status.js'
import type {Thresholds} from '../core/context-types.js'
import {formatSeconds, plural} from '../core/output/units.js'

/** The origin sends a heartbeat every second: an unreachable origin cannot have written earlier than `active` + this unseen. */
export const HEARTBEAT_SECONDS = 1

/** A site's stream as the split-brain rules see it. */
export interface SiteStream {
  name: string
  subjects: string[]
  /** A mirror takes no writes of its own. */
  mirror: boolean
  promotedFrom?: {stream: string; domain?: string; at?: Date}
}

/** Where a copy stands against its origin. */
export interface Behind {
  /** Origin messages the copy does not hold yet; undefined when the origin could not be read. */
  messages?: number
  /** Age of the oldest origin message the copy lacks (0 when it lacks none): the RPO now. Undefined when nothing tells. */
  seconds?: number
  /** The origin could not be read: `seconds` is an upper bound from the last contact. */
  bound: boolean
}

/**
 * Measured at the origin (§2.3): `copied` is the last origin sequence the copy holds, `firstMissing` the time of the
 * first origin message after it (STREAM.MSG.GET next_by_subj), `now` the origin's clock where it sends one.
 */
export function measuredBehind(input: {originLastSeq: number; copied: number; firstMissing?: Date; now: Date}): Behind {
  const messages = Math.max(0, input.originLastSeq - input.copied)
  // Sequences past the copy's that hold nothing (deleted at the origin) are nothing to copy.
  if (messages === 0 || !input.firstMissing) return {messages: 0, seconds: 0, bound: false}
  return {messages, seconds: Math.max(0, (input.now.getTime() - input.firstMissing.getTime()) / 1000), bound: false}
}

/**
 * The origin out of reach (§2.3 step 4): the copy was complete, at best, when it last heard from the origin, so the
 * loss window is at most that long ago plus a heartbeat. `lag` is frozen during an outage and not used.
 */
export function boundedBehind(activeSeconds: number | undefined): Behind {
  return {...(activeSeconds === undefined ? {} : {seconds: activeSeconds + HEARTBEAT_SECONDS}), bound: true}
}

export interface LinkFacts {
  kind: 'mirror' | 'source'
  origin: string
  /** The server's error for the mirror/source (it only has one when the origin answered with it). */
  error?: string
  /** Seconds since the copy last heard from the origin; undefined = never. */
  activeSeconds?: number
  /** Whether the origin answered us; false: `behind` is a bound. */
  originReachable: boolean
  /** The origin answered and has no such stream. */
  originMissing?: boolean
  behind: Behind
}

/** The verdict on one link against the RPO thresholds, with the reason in a few words. */
export function linkVerdict(link: LinkFacts, thresholds: Pick<Thresholds, 'rpoWarnSeconds' | 'rpoCritSeconds'>): {status: Status; reason: string} {
  if (link.error) return {status: 'CRITICAL', reason: `the server reports: ${link.error}`}
  if (link.originMissing) return {status: 'CRITICAL', reason: `origin stream ${link.origin} does not exist`}
  if (link.activeSeconds === undefined) return {status: 'CRITICAL', reason: `never heard from ${link.origin}`}
  const status = statusAbove(link.behind.seconds ?? 0, thresholds.rpoWarnSeconds, thresholds.rpoCritSeconds)
  const limit = status === 'CRITICAL' ? thresholds.rpoCritSeconds : thresholds.rpoWarnSeconds
  const behind = describeBehind(link.behind)
  const unreachable = link.originReachable ? '' : `origin unreachable, last contact ${formatSeconds(link.activeSeconds)} ago; `
  return {status, reason: `${unreachable}${behind}${status === 'OK' ? '' : ` >= ${formatSeconds(limit)}`}`}
}

/** `3 messages, 12s behind`, `in sync`, `up to 40s behind` (a filtered link counts no messages: `12s behind`). */
export function describeBehind(behind: Behind): string {
  if (behind.seconds === undefined) return 'behind by an unknown amount'
  if (behind.bound) return `up to ${formatSeconds(behind.seconds)} behind`
  if (behind.messages === 0) return 'in sync'
  return `${behind.messages === undefined ? '' : `${plural(behind.messages, 'message')}, `}${formatSeconds(behind.seconds)} behind`
}

/** A site's streams, as far as the split-brain rules need them. */
export interface SiteStreams {
  /** The context, or `domain <name>` for a site known only through a link. */
  site: string
  domain?: string
  streams: SiteStream[]
}

export interface SplitBrain {
  subjects: string[]
  a: {site: string; domain?: string; stream: string}
  b: {site: string; domain?: string; stream: string}
  /** linked: both domains store every publish (§1b); promoted: one was promoted from the other, which still takes writes. */
  why: 'linked' | 'promoted'
  summary: string
}

/**
 * Two writable streams (no mirror) at two sites taking overlapping subjects are a split brain when the sites are
 * linked (a publish lands in both) or one was promoted from the other (the old primary still takes writes). Sites
 * of one domain are one JetStream, and unlinked sites with no marker are independent (prod and staging).
 * `overlap` returns the subjects two subject lists share.
 */
export function findSplitBrains(a: SiteStreams, b: SiteStreams, linked: boolean, overlap: (x: string[], y: string[]) => string[]): SplitBrain[] {
  if (a.domain !== undefined && a.domain === b.domain) return []
  const found: SplitBrain[] = []
  for (const x of a.streams.filter(writable)) {
    for (const y of b.streams.filter(writable)) {
      const subjects = overlap(x.subjects, y.subjects)
      if (subjects.length === 0) continue
      const promoted = promotedFromOther(x, b, y) || promotedFromOther(y, a, x)
      if (!linked && !promoted) continue
      const why = linked ? 'linked' : 'promoted'
      const cause = linked ? 'the sites are linked, every publish is stored at both' : 'one was promoted from the other, which still takes writes'
      found.push({
        subjects,
        a: {site: a.site, ...(a.domain ? {domain: a.domain} : {}), stream: x.name},
        b: {site: b.site, ...(b.domain ? {domain: b.domain} : {}), stream: y.name},
        why,
        summary: `split brain: ${x.name} at ${a.site} and ${y.name} at ${b.site} both take ${subjects.join(', ')} (${cause})`,
      })
    }
  }
  return found
}

function writable(stream: SiteStream): boolean {
  return !stream.mirror && stream.subjects.length > 0
}

/** `stream` says it was promoted from `origin`, a stream of `site`. */
function promotedFromOther(stream: SiteStream, site: SiteStreams, origin: SiteStream): boolean {
  return stream.promotedFrom?.stream === origin.name && stream.promotedFrom.domain === site.domain
}

/** One split brain per pair of streams, whichever side found it. */
export function uniqueSplitBrains(found: SplitBrain[]): SplitBrain[] {
  const key = (side: SplitBrain['a']) => `${side.domain ?? side.site}/${side.stream}`
  const seen = new Set<string>()
  return found.filter((brain) => {
    const id = [key(brain.a), key(brain.b)].sort().join(' ')
    if (seen.has(id)) return false
    seen.add(id)
    return true
  })
}
