/**
 * `domain health`: one view per CIM domain of the events stream. It has the shape every check command
 * shares (status, summary, checks, durationSeconds: one check per domain), plus each domain's figures, each
 * saying where it came from: the stream itself (exact), Prometheus (the monitor's counters), or an estimate.
 */
import type {CheckReport} from '../core/check/result.js'
import type {Status} from '../core/check/status.js'

/** A count of the domain's events in a window, read from the stream itself. */
export interface StreamWindow {
  seconds: number
  /** Exact; null when the window held more than `limit` (see `overLimit`) or could not be counted. */
  count: number | null
  /** More than `limit` matched: counting stopped there. */
  overLimit: boolean
  limit: number
  /** count / seconds; null with count. */
  ratePerSecond: number | null
}

/** What the monitor's counters say (cim_events_total, cim_events_failed_total); null fields when Prometheus has none. */
export interface PrometheusFigures {
  /** rate(cim_events_total[5m]) */
  ratePerSecond: number | null
  /** increase(cim_events_total[1h]) */
  lastHour: number | null
  /** increase(cim_events_failed_total[1h]) */
  failedLastHour: number | null
}

export type ProjectionState = 'ok' | 'behind' | 'stalled' | 'paused' | 'unknown'

export interface ProjectionHealth {
  /** The durable consumer: `<domain>-<projection>`. */
  consumer: string
  /** The part after `<domain>-`; the consumer's name when it reads the domain by filter only. */
  projection: string
  state: ProjectionState
  status: Status
  /** Age of the oldest unacknowledged event; null when it could not be read. */
  lagSeconds: number | null
  pending: number
  /** Thresholds crossed, as `consumer report` words them. */
  reasons: string[]
}

export interface Silence {
  /** The newest event is much older than the domain's usual gap between events. */
  silent: boolean
  /** Mean gap between the stored events of the domain (oldest to newest); null with fewer than MIN_EVENTS_FOR_GAP. */
  typicalGapSeconds: number | null
  /** Silent from this age of the newest event: max(factor × typical gap, minimum); null without a typical gap. */
  silentAfterSeconds: number | null
}

export interface DomainAlert {
  alertname: string
  severity: string | null
  startsAt: string
  summary?: string
}

export interface DomainHealth {
  domain: string
  status: Status
  summary: string
  /** Why the status is not OK, one phrase each; empty when OK. */
  reasons: string[]
  events: {
    /** Messages of `cim.<domain>.>` stored in the stream (the server's per-subject counts); null when the stream has too many subjects to list. */
    stored: number | null
    lastFiveMinutes: StreamWindow
    lastHour: StreamWindow
    prometheus: PrometheusFigures
    /** RFC 3339 of the oldest and newest stored event of the domain; null when none. */
    oldestAt: string | null
    newestAt: string | null
    newestAgeSeconds: number | null
  }
  silence: Silence
  failed: {
    /** Stored events whose type ends in `Failed` (per-subject counts); null with `events.stored`. */
    stored: number | null
    /** The same by event type. */
    byType: Record<string, number>
    /** Prometheus: cim_events_failed_total over the last hour; null when it has none. */
    lastHour: number | null
    /** failed / all events of the last hour, both from Prometheus; null when either is unknown or no events. */
    shareLastHour: number | null
  }
  projections: ProjectionHealth[]
  storage: {
    /** The stream's bytes × the domain's share of its messages: JetStream counts bytes per stream, not per subject. */
    bytes: number | null
    estimated: true
    /** Share of the stream's messages, 0..1. */
    share: number | null
  }
  /** Firing (active, neither silenced nor inhibited) alerts labelled domain=<domain>. */
  alerts: DomainAlert[]
}

export interface DomainThresholds {
  /** Silent when the newest event is older than this many typical gaps... */
  silenceFactor: number
  /** ...and at least this old (seconds). */
  silenceMinSeconds: number
  /** Share of failed events over the last hour (0..1) from which a domain is WARNING. */
  failedShareWarn: number
}

export interface DomainHealthReport extends CheckReport {
  /** RFC 3339 */
  checkedAt: string
  context?: string
  stream: string
  serverVersion: string
  thresholds: DomainThresholds & {lagWarn: number; lagCrit: number; stallAfter: number}
  /** Sources that could not be read and what that leaves out (Prometheus down: no monitor figures). */
  notes: string[]
  domains: DomainHealth[]
}

export const DEFAULT_DOMAIN_THRESHOLDS: DomainThresholds = {silenceFactor: 10, silenceMinSeconds: 900, failedShareWarn: 0.05}
/** A typical gap needs at least this many stored events: fewer say nothing about how often the domain speaks. */
export const MIN_EVENTS_FOR_GAP = 10
