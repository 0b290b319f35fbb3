/**
 * Looking at the events themselves: `events view` (a bounded page, never waits for new events),
 * `events tail` (follows until Ctrl-C) and `events subjects` (subjects and counts).
 */
import type {StreamMessage, StreamSummary} from '../adapters/nats/jetstream.js'
import type {MessageFilter, ReadResult} from '../adapters/nats/messages.js'
import type {ServerFeatures} from '../adapters/nats/versions.js'
import {OperationError, UsageError} from '../core/errors.js'
import {intersectSubjects, subjectIsSubset} from '../adapters/nats/subjects.js'
import type {JetStreamSession} from '../adapters/nats/session.js'
import {streamNotFound} from './errors.js'

/** How to pick events: --subject, or --domain/--aggregate mapped onto CIM subjects. */
export interface EventSelector {
  subjects?: string[]
  domain?: string
  aggregate?: string
}

/**
 * CIM subjects are `cim.<domain>.<aggregateType>.<aggregateId>.<eventType>`, so --domain D is
 * `cim.D.>`, --aggregate ID is `cim.*.*.ID.*`, and both together `cim.D.*.ID.*`. No filter: [].
 */
export function eventFilters(selector: EventSelector): string[] {
  const {subjects = [], domain, aggregate} = selector
  if (subjects.length > 0 && (domain !== undefined || aggregate !== undefined)) {
    throw new UsageError('--subject cannot be combined with --domain or --aggregate', 'they are two ways to say the same thing', {hint: 'use one or the other'})
  }
  for (const subject of subjects) checkSubject(subject)
  if (domain !== undefined) checkToken('--domain', domain)
  if (aggregate !== undefined) checkToken('--aggregate', aggregate)
  if (domain !== undefined && aggregate !== undefined) return [`cim.${domain}.*.${aggregate}.*`]
  if (domain !== undefined) return [`cim.${domain}.>`]
  if (aggregate !== undefined) return [`cim.*.*.${aggregate}.*`]
  return [...new Set(subjects)]
}

/**
 * nats-server 2.9 accepts a consumer filter only when it is a subset of one of the stream's subjects
 * (or, with wildcards, covers one): `cim.*.*.ID.*` on a stream of `cim.graph.>`, `cim.workflow.>`, …
 * is refused. Such a filter is replaced by its intersections with the stream's subjects
 * (`cim.graph.*.ID.*`, …), which select exactly the same messages. A stream without subjects
 * (a mirror) takes any filter.
 */
export function narrowFilters(filters: string[], streamSubjects: string[]): string[] {
  if (streamSubjects.length === 0) return filters
  const out = filters.flatMap((filter) => {
    const valid = streamSubjects.some((subject) => subjectIsSubset(filter, subject) || (hasWildcard(filter) && subjectIsSubset(subject, filter)))
    if (valid) return [filter]
    return streamSubjects.map((subject) => intersectSubjects(filter, subject)).filter((x): x is string => x !== undefined)
  })
  return [...new Set(out)]
}

function hasWildcard(subject: string): boolean {
  return subject.split('.').some((token) => token === '*' || token === '>')
}

/** Several filters need nats-server >= 2.10 (filter_subjects); 2.9 has one filter per consumer. */
export function checkFilterSupport(filters: string[], features: ServerFeatures, asked: string[] = filters): void {
  if (filters.length > 1 && !features.has('multipleFilters')) {
    const spread = asked.length === filters.length ? `${filters.length} subject filters given` : `${asked.join(', ')} spans ${filters.join(', ')} of the stream`
    throw new UsageError(spread, `several filters need nats-server >= ${features.requires('multipleFilters')}; this server is ${features.version}`, {
      hint: asked.length === filters.length ? 'give one --subject (wildcards * and > work), or run once per filter' : 'narrow it, e.g. with --domain',
    })
  }
}

/** Reading events uses nats.js ordered consumers, which need the consumers API of nats-server 2.9.4. */
export function checkReadSupport(features: ServerFeatures): void {
  if (!features.has('consumersApi')) {
    throw new OperationError('cannot read events', `this needs nats-server >= ${features.requires('consumersApi')}; this server is ${features.version}`, {hint: 'upgrade the server'})
  }
}

export type ViewStart = {seq: number} | {since: Date} | {last: number} | {first: true}

export interface ViewOptions {
  stream: string
  filters: string[]
  start: ViewStart
  /** Events per page. */
  count: number
  signal?: AbortSignal
}

export interface EventPage {
  stream: string
  filters: string[]
  events: StreamMessage[]
  /** The stream's last sequence when reading began: nothing after it is shown. */
  endSeq: number
  /** Where the next page starts (`--seq`): the next matching event, when the page was cut by --count. */
  nextSeq: number | null
}

/** Reads `[startSeq, endSeq]`: at most `limit` events, or with keepLast the last `limit` of the range. */
export type RangeReader = (startSeq: number, limit: number, keepLast: boolean) => Promise<ReadResult>

/** One page of events, read with an ordered consumer; stops at the stream's last sequence as of the start. */
export async function viewEvents(session: JetStreamSession, options: ViewOptions): Promise<EventPage> {
  const [{findStream, listStreamNames}, messages] = await Promise.all([import('../adapters/nats/jetstream.js'), import('../adapters/nats/messages.js')])
  const {jsm, address, timeoutMs} = session
  checkReadSupport(session.features)
  checkFilterSupport(options.filters, session.features)
  const stream = await findStream(jsm, options.stream, address, timeoutMs)
  if (!stream) throw streamNotFound(options.stream, await listStreamNames(jsm, address, timeoutMs))
  const endSeq = stream.lastSeq
  const empty: EventPage = {stream: stream.name, filters: options.filters, events: [], endSeq, nextSeq: null}
  if (stream.messages === 0) return empty
  const filters = await consumerFilters(session, stream, options.filters)
  if (filters === undefined) return empty

  const filter: MessageFilter = {stream: stream.name, filterSubjects: filters}
  const api = {nc: session.nc, jsApiPrefix: session.jsApiPrefix, timeoutMs, address}
  const js = await session.js()
  const read: RangeReader = (startSeq, limit, keepLast) => messages.readMessages(js, api, filter, {startSeq, endSeq, limit, keepLast, signal: options.signal})
  const start = options.start
  let result: ReadResult
  if ('last' in start) {
    result = await readLast(start.last, stream, filters, read)
  } else {
    const from = 'seq' in start ? start.seq : 'since' in start ? await messages.seqForTime(jsm, stream.name, start.since, address, timeoutMs) : stream.firstSeq
    result = await read(Math.max(from, stream.firstSeq), options.count, false)
  }
  return {...empty, events: result.messages, nextSeq: result.next?.seq ?? null}
}

/**
 * The last `n` matching events up to the stream's end. Without a filter and without interior deletes
 * the start is arithmetic; otherwise windows back from the end, four times larger each round, are read
 * (the server filters, only matches travel) until one holds n matches or starts at the first sequence.
 * Counting by num_pending instead would be quicker but is wrong on 2.9.10 for filtered consumers.
 */
export async function readLast(n: number, stream: Pick<StreamSummary, 'firstSeq' | 'lastSeq' | 'deleted'>, filters: string[], read: RangeReader): Promise<ReadResult> {
  if (filters.length === 0 && stream.deleted === 0) return read(Math.max(stream.firstSeq, stream.lastSeq - n + 1), n, true)
  for (let window = Math.max(n, 64); ; window *= 4) {
    const startSeq = Math.max(stream.firstSeq, stream.lastSeq - window + 1)
    const result = await read(startSeq, n, true)
    if (result.seen >= n || startSeq === stream.firstSeq) return result
  }
}

/**
 * The filters to give the consumer: narrowed to the stream's subjects; on a server without multiple
 * filters, the narrowed ones that hold no message are dropped (one STREAM.MSG.GET each), so an
 * aggregate that lives in one domain still reads on 2.9. Undefined when nothing can match.
 */
async function consumerFilters(session: JetStreamSession, stream: StreamSummary, filters: string[]): Promise<string[] | undefined> {
  const narrowed = narrowFilters(filters, stream.subjects)
  if (filters.length > 0 && narrowed.length === 0) return undefined
  if (narrowed.length <= 1 || session.features.has('multipleFilters')) return narrowed
  const {nextMessageMeta} = await import('../adapters/nats/jetstream.js')
  const options = {jsApiPrefix: session.jsApiPrefix, timeoutMs: session.timeoutMs}
  const found = await Promise.all(narrowed.map((f) => nextMessageMeta(session.nc, stream.name, stream.firstSeq, f, options)))
  const holding = narrowed.filter((_, i) => found[i] !== undefined)
  if (holding.length === 0) return undefined
  checkFilterSupport(holding, session.features, filters)
  return holding
}

/** Follows new events until the signal aborts. */
export async function tailEvents(session: JetStreamSession, options: {stream: string; filters: string[]; signal: AbortSignal; onEvent: (event: StreamMessage) => void}): Promise<void> {
  const [{findStream, listStreamNames}, {followMessages}] = await Promise.all([import('../adapters/nats/jetstream.js'), import('../adapters/nats/messages.js')])
  const {jsm, address, timeoutMs} = session
  checkReadSupport(session.features)
  checkFilterSupport(options.filters, session.features)
  const stream = await findStream(jsm, options.stream, address, timeoutMs)
  if (!stream) throw streamNotFound(options.stream, await listStreamNames(jsm, address, timeoutMs))
  const filters = narrowFilters(options.filters, stream.subjects)
  if (options.filters.length > 0 && filters.length === 0) {
    throw new UsageError(`no subject of ${stream.name} can match ${options.filters.join(', ')}`, `its subjects are ${stream.subjects.join(', ')}`)
  }
  checkFilterSupport(filters, session.features, options.filters)
  await followMessages(await session.js(), {stream: stream.name, filterSubjects: filters}, {signal: options.signal, onMessage: options.onEvent}, address, timeoutMs)
}

export const SUBJECT_SORTS = ['count', 'name'] as const
export type SubjectSort = (typeof SUBJECT_SORTS)[number]

export interface SubjectCounts {
  stream: string
  filter: string
  /** Most messages first (then by name), or by name. */
  subjects: Array<{subject: string; messages: number}>
  /** Messages on the subjects listed. */
  total: number
}

export async function subjectCounts(session: JetStreamSession, options: {stream: string; filter: string; sort: SubjectSort}): Promise<SubjectCounts> {
  const {streamSubjects, listStreamNames} = await import('../adapters/nats/jetstream.js')
  const {jsm, address, timeoutMs} = session
  checkSubject(options.filter)
  const found = await streamSubjects(jsm, options.stream, options.filter, address, timeoutMs)
  if (!found) throw streamNotFound(options.stream, await listStreamNames(jsm, address, timeoutMs))
  const subjects = Object.entries(found.subjects).map(([subject, messages]) => ({subject, messages}))
  subjects.sort(options.sort === 'name' ? (a, b) => a.subject.localeCompare(b.subject) : (a, b) => b.messages - a.messages || a.subject.localeCompare(b.subject))
  return {stream: found.stream.name, filter: options.filter, subjects, total: subjects.reduce((sum, s) => sum + s.messages, 0)}
}

/** The --json form of an event: body parsed when it is JSON, else text; headers with their values joined. */
export interface EventRecord {
  seq: number
  time: string
  subject: string
  headers: Record<string, string>
  data: unknown
}

export function toEventRecord(event: StreamMessage): EventRecord {
  const text = new TextDecoder().decode(event.data)
  let data: unknown = text
  try {
    data = text.trim() === '' ? text : JSON.parse(text)
  } catch {
    // not JSON: kept as text
  }
  return {seq: event.seq, time: event.time.toISOString(), subject: event.subject, headers: joinHeaders(event.headers), data}
}

/** natscli's layout: `[seq] Subject: s Received: t`, headers, a blank line, the body (pretty JSON when it is JSON). */
export function formatEvent(event: StreamMessage): string {
  const record = toEventRecord(event)
  const headers = Object.entries(record.headers).map(([key, value]) => `${key}: ${value}`)
  const body = typeof record.data === 'string' ? record.data : JSON.stringify(record.data, null, 2)
  return [`[${record.seq}] Subject: ${record.subject} Received: ${record.time}`, ...headers, '', body, ''].join('\n')
}

function joinHeaders(headers: Record<string, string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, values]) => [key, values.join(', ')]))
}

function checkSubject(subject: string): void {
  const tokens = subject.split('.')
  const bad = subject.trim() !== subject || /\s/.test(subject) || tokens.some((t, i) => t === '' || (t.includes('>') && (t !== '>' || i !== tokens.length - 1)) || (t.includes('*') && t !== '*'))
  if (bad) throw new UsageError(`invalid subject filter "${subject}"`, 'expected dot-separated tokens; * matches one token, > the rest (last only)', {hint: 'e.g. cim.graph.> or cim.*.node.*.NodeAdded'})
}

function checkToken(flag: string, value: string): void {
  if (value === '' || /[\s.*>]/.test(value)) {
    throw new UsageError(`invalid ${flag} "${value}"`, 'expected one subject token: no dots, spaces or wildcards')
  }
}
