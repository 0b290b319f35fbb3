/**
 * Which events of the source a replay takes — the plan's sequence range, time bounds, subjects and
 * event types — counted as they pass. It runs once per event, so it only tests and counts: first and
 * last are formatted once, in summary().
 */
import type {RangeEvent} from '../adapters/nats/range-reader.js'
import type {EventRef, ReplayPlan} from './model.js'
import {cimParts, clientMatcher} from './selection.js'

export interface SelectionSummary {
  selected: number
  first: EventRef | null
  last: EventRef | null
  /** Dry run: events per domain and per event type. */
  byDomain?: Record<string, number>
  byEventType?: Record<string, number>
}

export class SelectionTally {
  private count = 0
  private first?: RangeEvent
  private last?: RangeEvent
  private readonly matches: (subject: string) => boolean
  private readonly since?: number
  private readonly until?: number
  private readonly distribution?: {byDomain: Record<string, number>; byEventType: Record<string, number>}

  /** `distribution`: count events per domain and event type as well (the dry run's report). */
  constructor(
    private readonly plan: ReplayPlan,
    private readonly startSeq: number,
    distribution: boolean,
  ) {
    this.matches = clientMatcher(plan.filters, plan.eventTypes)
    this.since = plan.since ? Date.parse(plan.since) : undefined
    this.until = plan.until ? Date.parse(plan.until) : undefined
    if (distribution) this.distribution = {byDomain: {}, byEventType: {}}
  }

  /** Whether the event is selected; counts it if so. */
  take(event: RangeEvent): boolean {
    if (event.seq < this.startSeq || event.seq > this.plan.toSeq) return false
    if ((this.since !== undefined && event.timeMs < this.since) || (this.until !== undefined && event.timeMs >= this.until)) return false
    if (!this.matches(event.subject)) return false
    this.first ??= event
    this.last = event
    this.count++
    if (this.distribution) {
      const {domain, eventType} = cimParts(event.subject)
      const {byDomain, byEventType} = this.distribution
      byDomain[domain] = (byDomain[domain] ?? 0) + 1
      byEventType[eventType] = (byEventType[eventType] ?? 0) + 1
    }
    return true
  }

  get selected(): number {
    return this.count
  }

  /** Source sequence of the last event selected; undefined before the first. */
  get lastSeq(): number | undefined {
    return this.last?.seq
  }

  summary(): SelectionSummary {
    return {selected: this.count, first: eventRef(this.first), last: eventRef(this.last), ...this.distribution}
  }
}

function eventRef(event: RangeEvent | undefined): EventRef | null {
  return event ? {seq: event.seq, subject: event.subject, time: new Date(event.timeMs).toISOString()} : null
}
