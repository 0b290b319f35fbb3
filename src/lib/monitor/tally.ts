/**
 * Counting what the monitor sees, cheaply and with bounded label sets. Pure, no I/O.
 *
 * - EventTally: events by domain and event type, failed events by error, messages by subject
 *   prefix. `add` runs once per event on the stream (tens of thousands a second), so it parses the
 *   subject with indexOf (no split, no regex), looks the kind up in two small maps, and reads the
 *   body only for failure events.
 * - DeliveryTally: deliveries to the stream's consumers, from the consumers' delivered sequence
 *   observed at each refresh, summed as positive deltas so the total only grows.
 * - worstQueue: the queue depth/capacity of a domain, from its projections' ack-pending state.
 *
 * Label values are bounded: a stream can carry any subject, and an unbounded label is a
 * Prometheus outage. Past the caps, values are counted under OTHER.
 */

/** Label value for whatever is past a cap. */
export const OTHER = '_other'
export const MAX_DOMAINS = 200
export const MAX_EVENT_TYPES_PER_DOMAIN = 500
export const MAX_ERRORS_PER_EVENT_TYPE = 20
export const MAX_SUBJECT_PREFIXES = 100
const MAX_ERROR_LENGTH = 64
const FAILED_SUFFIX = 'Failed'
const UNKNOWN_ERROR = 'unknown'

export interface EventKind {
  domain: string
  eventType: string
  count: number
  /** error -> count; only for failure event types. */
  failed?: Map<string, number>
}

/** The parts of a stored message the tally reads; `data` is read only for failure events. */
export interface TalliedMessage {
  readonly subject: string
  readonly data: Uint8Array
}

export class EventTally {
  private readonly domains = new Map<string, Map<string, EventKind>>()
  private readonly all: EventKind[] = []
  private readonly invalidByPrefix = new Map<string, number>()
  private invalid = 0
  private readonly decoder = new TextDecoder()

  /** Counts one message of the events stream. */
  add(message: TalliedMessage): void {
    const subject = message.subject
    // cim.<domain>.<aggregateType>.<aggregateId>.<eventType>: exactly four dots, no empty token.
    const d1 = subject.indexOf('.')
    const d2 = d1 === 3 && subject.startsWith('cim') ? subject.indexOf('.', 4) : -1
    const d3 = d2 > 4 ? subject.indexOf('.', d2 + 1) : -1
    const d4 = d3 > d2 + 1 ? subject.indexOf('.', d3 + 1) : -1
    if (d4 <= d3 + 1 || d4 === subject.length - 1 || subject.indexOf('.', d4 + 1) !== -1) {
      this.addInvalid(subject)
      return
    }
    const kind = this.kindOf(subject.slice(4, d2), subject.slice(d4 + 1))
    kind.count++
    if (kind.failed) {
      const error = boundedLabel(kind.failed, errorOf(message.data, this.decoder), MAX_ERRORS_PER_EVENT_TYPE)
      kind.failed.set(error, (kind.failed.get(error) ?? 0) + 1)
    }
  }

  /** Every (domain, event type) seen, in the order first seen. */
  kinds(): readonly EventKind[] {
    return this.all
  }

  invalidCount(): number {
    return this.invalid
  }

  /** Messages by subject prefix: `cim.<domain>` for CIM events, the first two tokens of other subjects. */
  bySubjectPrefix(): Map<string, number> {
    const out = new Map<string, number>()
    for (const kind of this.all) {
      const prefix = kind.domain === OTHER ? OTHER : `cim.${kind.domain}`
      out.set(prefix, (out.get(prefix) ?? 0) + kind.count)
    }
    for (const [prefix, count] of this.invalidByPrefix) out.set(prefix, (out.get(prefix) ?? 0) + count)
    return out
  }

  private kindOf(domain: string, eventType: string): EventKind {
    let types = this.domains.get(domain)
    if (!types) {
      if (this.domains.size >= MAX_DOMAINS && domain !== OTHER) return this.kindOf(OTHER, OTHER)
      types = new Map()
      this.domains.set(domain, types)
    }
    let kind = types.get(eventType)
    if (!kind) {
      if (types.size >= MAX_EVENT_TYPES_PER_DOMAIN && eventType !== OTHER) return this.kindOf(domain, OTHER)
      kind = {domain, eventType, count: 0, ...(eventType.endsWith(FAILED_SUFFIX) ? {failed: new Map<string, number>()} : {})}
      types.set(eventType, kind)
      this.all.push(kind)
    }
    return kind
  }

  private addInvalid(subject: string): void {
    this.invalid++
    const prefix = boundedLabel(this.invalidByPrefix, subjectPrefix(subject), MAX_SUBJECT_PREFIXES)
    this.invalidByPrefix.set(prefix, (this.invalidByPrefix.get(prefix) ?? 0) + 1)
  }
}

/**
 * The failure's error, as a bounded label value: `data.errorType`, `data.error_type`, `data.error`
 * (a string, or the `type`/`code` of an object) or a top-level `error` of the CIM envelope;
 * characters outside [A-Za-z0-9_.:-] become `_`, at most 64 of them; "unknown" when absent.
 */
export function errorOf(data: Uint8Array, decoder = new TextDecoder()): string {
  let body: unknown
  try {
    body = JSON.parse(decoder.decode(data))
  } catch {
    return UNKNOWN_ERROR
  }
  if (!isRecord(body)) return UNKNOWN_ERROR
  const inner = isRecord(body.data) ? body.data : {}
  for (const candidate of [inner.errorType, inner.error_type, inner.error, body.errorType, body.error]) {
    const text = typeof candidate === 'string' ? candidate : isRecord(candidate) ? (stringField(candidate, 'type') ?? stringField(candidate, 'code')) : undefined
    const label = text === undefined ? '' : sanitizeLabel(text)
    if (label) return label
  }
  return UNKNOWN_ERROR
}

function sanitizeLabel(text: string): string {
  return text
    .trim()
    .replace(/[^A-Za-z0-9_.:-]+/g, '_')
    .slice(0, MAX_ERROR_LENGTH)
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key]
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `value` if it is already a key or there is room for one more; OTHER otherwise. */
function boundedLabel(seen: Map<string, unknown>, value: string, max: number): string {
  return seen.has(value) || seen.size < max ? value : OTHER
}

/**
 * The first two tokens of a subject or filter: `cim.workflow` for `cim.workflow.>` or
 * `cim.workflow.wf.1.StepCompleted`, `cim.>` for `cim.>`, `>` for `>` or no filter.
 */
export function subjectPrefix(subject: string | undefined): string {
  if (!subject || subject === '>') return '>'
  const first = subject.indexOf('.')
  if (first === -1) return subject
  const second = subject.indexOf('.', first + 1)
  return second === -1 ? subject : subject.slice(0, second)
}

/** The consumer state DeliveryTally reads. */
export interface ObservedConsumer {
  name: string
  filterSubjects: string[]
  /** delivered.consumer_seq: deliveries so far, redeliveries included. */
  delivered: number
}

/**
 * Deliveries to consumers by filter prefix, as a counter that only grows: each refresh adds the
 * growth of every consumer's delivered sequence since the previous one. A consumer seen for the
 * first time adds all its deliveries, except at the baseline refresh (the monitor counts from now);
 * a consumer whose sequence went down was recreated and adds its new value.
 */
export class DeliveryTally {
  private readonly last = new Map<string, number>()
  private readonly totals = new Map<string, number>()

  observe(consumers: readonly ObservedConsumer[], baseline: boolean): void {
    const seen = new Set<string>()
    for (const consumer of consumers) {
      seen.add(consumer.name)
      const before = this.last.get(consumer.name)
      this.last.set(consumer.name, consumer.delivered)
      const growth = before === undefined ? (baseline ? 0 : consumer.delivered) : consumer.delivered >= before ? consumer.delivered - before : consumer.delivered
      if (growth === 0) continue
      const prefix = consumerPrefix(consumer.filterSubjects)
      const label = boundedLabel(this.totals, prefix, MAX_SUBJECT_PREFIXES)
      this.totals.set(label, (this.totals.get(label) ?? 0) + growth)
    }
    for (const name of this.last.keys()) if (!seen.has(name)) this.last.delete(name)
  }

  bySubjectPrefix(): ReadonlyMap<string, number> {
    return this.totals
  }
}

/** One prefix for a consumer: that of its filters when they share one, `>` otherwise. */
function consumerPrefix(filters: string[]): string {
  const prefixes = new Set(filters.map((filter) => subjectPrefix(filter)))
  return prefixes.size === 1 ? [...prefixes][0]! : '>'
}

/** A projection's in-flight queue: delivered, not acknowledged, against max_ack_pending (undefined = unlimited). */
export interface ProjectionQueue {
  domain: string
  ackPending: number
  maxAckPending?: number
}

/**
 * Per domain, the depth and capacity of its most saturated projection (the highest
 * ack-pending / max_ack_pending; the deeper one on a tie), so the ratio the backpressure alert
 * takes is that of one real queue rather than a mix of several.
 */
export function worstQueues(queues: readonly ProjectionQueue[]): Map<string, {depth: number; capacity: number}> {
  const out = new Map<string, {depth: number; capacity: number}>()
  for (const queue of queues) {
    const capacity = queue.maxAckPending ?? Number.POSITIVE_INFINITY
    const current = out.get(queue.domain)
    const ratio = queue.ackPending / capacity
    const currentRatio = current ? current.depth / current.capacity : -1
    if (!current || ratio > currentRatio || (ratio === currentRatio && queue.ackPending > current.depth)) {
      out.set(queue.domain, {depth: queue.ackPending, capacity})
    }
  }
  return out
}
