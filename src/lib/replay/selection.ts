/**
 * What a replay selects and where it sends it: pure functions, no I/O.
 * CIM subjects are `cim.<domain>.<aggregateType>.<aggregateId>.<eventType>`.
 */
import {randomBytes} from 'node:crypto'

import {isExpectationHeader, MSG_ID_HEADER} from '../adapters/nats/headers.js'
import {UsageError} from '../core/errors.js'
import {subjectIsSubset} from '../adapters/nats/subjects.js'
import {eventFilters} from '../streams/events.js'

export interface ReplaySelector {
  domain?: string
  aggregate?: string
  aggregateType?: string
  eventTypes?: string[]
  subjects?: string[]
}

/**
 * The subject filters of a selection. --subject is used as given; the CIM shortcuts become one
 * pattern: --domain alone is `cim.D.>`, otherwise `cim.<domain|*>.<type|*>.<id|*>.<eventType|*>`
 * (several --event-type leave the last token `*` and are matched client-side). [] selects everything.
 */
export function replayFilters(selector: ReplaySelector): string[] {
  const {domain, aggregate, aggregateType, eventTypes = [], subjects = []} = selector
  const cim = aggregateType !== undefined || eventTypes.length > 0
  if (subjects.length > 0 && (domain !== undefined || aggregate !== undefined || cim)) {
    throw new UsageError('--subject cannot be combined with --domain, --aggregate, --aggregate-type or --event-type', 'they are two ways to say the same thing', {hint: 'use one or the other'})
  }
  if (!cim) return eventFilters({subjects, domain, aggregate})
  for (const [flag, value] of [['--aggregate-type', aggregateType], ...eventTypes.map((t) => ['--event-type', t])] as Array<[string, string | undefined]>) {
    if (value !== undefined && (value === '' || /[\s.*>]/.test(value))) throw new UsageError(`invalid ${flag} "${value}"`, 'expected one subject token: no dots, spaces or wildcards')
  }
  eventFilters({domain, aggregate}) // validates the tokens
  const type = eventTypes.length === 1 ? eventTypes[0] : '*'
  return [`cim.${domain ?? '*'}.${aggregateType ?? '*'}.${aggregate ?? '*'}.${type}`]
}

/** Does `subject` (a literal) match the filter (wildcards * and >)? */
export function subjectMatches(subject: string, filter: string): boolean {
  return subjectIsSubset(subject, filter)
}

/** The client-side test every read message passes: any of the filters, and one of the event types. */
export function clientMatcher(filters: string[], eventTypes: string[] = []): (subject: string) => boolean {
  const types = new Set(eventTypes)
  return (subject) => {
    if (filters.length > 0 && !filters.some((f) => subjectMatches(subject, f))) return false
    if (types.size > 0 && !types.has(subject.slice(subject.lastIndexOf('.') + 1))) return false
    return true
  }
}

export interface SubjectMapping {
  from: string
  to: string
}

/** `--subject-map from=to`: a leading run of subject tokens replaced by another (`cim=pitr`, `cim.graph=rebuild.graph`). */
export function parseSubjectMap(text: string): SubjectMapping {
  const match = /^([^=\s]+)=([^=\s]+)$/.exec(text)
  const bad = (t: string) => t.split('.').some((token) => token === '' || token.includes('*') || token.includes('>'))
  if (!match || bad(match[1]) || bad(match[2])) {
    throw new UsageError(`invalid --subject-map "${text}"`, 'expected FROM=TO, leading subject tokens without wildcards', {hint: 'e.g. --subject-map cim=pitr'})
  }
  return {from: match[1], to: match[2]}
}

export interface Destination {
  prefix?: string
  maps: SubjectMapping[]
}

/** The subject an event is republished on: the first matching map applies, then the prefix. Wildcard filters map the same way. */
export function targetSubject(subject: string, destination: Destination): string {
  let out = subject
  for (const {from, to} of destination.maps) {
    if (out === from) {
      out = to
      break
    }
    if (out.startsWith(`${from}.`)) {
      out = `${to}${out.slice(from.length)}`
      break
    }
  }
  return destination.prefix ? `${destination.prefix}.${out}` : out
}

/** `rp-20261122T080243-3f9a`: sortable, short, unique enough for a person to type it back. */
export function newReplayId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15)
  return `rp-${stamp}-${randomBytes(2).toString('hex')}`
}

export function checkReplayId(id: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`invalid replay id "${id}"`, 'expected letters, digits, - and _ (at most 64)')
}

export const REPLAY_ID_HEADER = 'Cim-Replay-Id'
export const REPLAY_SOURCE_HEADER = 'Cim-Replay-Source'
/** The event's own message id, kept when the replay sets its deterministic one. */
export const ORIGINAL_MSG_ID_HEADER = 'Cim-Replay-Original-Msg-Id'

/**
 * The headers of a republished event: its own, without expectations (checked when first stored)
 * and with message id `<replay id>:<seq>`, so a repeated or resumed replay is deduplicated.
 */
export function replayHeaders(headers: Record<string, string[]>, replayId: string, source: string, seq: number): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = []
  for (const [key, values] of Object.entries(headers)) {
    const lower = key.toLowerCase()
    if (isExpectationHeader(key) || lower === REPLAY_ID_HEADER.toLowerCase() || lower === REPLAY_SOURCE_HEADER.toLowerCase()) continue
    if (lower === MSG_ID_HEADER.toLowerCase()) {
      out.push([ORIGINAL_MSG_ID_HEADER, values])
      continue
    }
    if (lower === ORIGINAL_MSG_ID_HEADER.toLowerCase() && headers[MSG_ID_HEADER]) continue
    out.push([key, values])
  }
  out.push([REPLAY_ID_HEADER, [replayId]], [REPLAY_SOURCE_HEADER, [`${source}:${seq}`]], [MSG_ID_HEADER, [`${replayId}:${seq}`]])
  return out
}

/** Domain and event type of a CIM subject, for the dry-run distribution. */
export function cimParts(subject: string): {domain: string; eventType: string} {
  const tokens = subject.split('.')
  if (tokens[0] === 'cim' && tokens.length === 5) return {domain: tokens[1], eventType: tokens[4]}
  return {domain: tokens[0] === 'cim' && tokens.length > 1 ? tokens[1] : '(other)', eventType: tokens.at(-1) ?? ''}
}
