/**
 * `cimops trends`: the weekly review's figures (the seed's "review weekly event patterns, identify performance
 * trends, plan capacity adjustments"), as --json gives them. Times are ISO 8601 UTC; days and hours are UTC.
 */
import type {Status} from '../core/check/status.js'

/** The seed's capacity figures ("Capacity Planning"). */
export const GUIDELINES = {
  /** Shard by domain at this many events per day. */
  shardEventsPerDay: 10_000_000,
  /** Add Prometheus replicas at this many active series. */
  activeSeries: 1_000_000,
  /** Planned storage growth per domain: ~10 GB a month. */
  domainBytesPerMonth: 10 * 1000 ** 3,
} as const

export const DAY_MS = 86_400_000
export const WEEK_MS = 7 * DAY_MS
/** A month of growth, as the 10 GB/month plan counts it. */
export const MONTH_DAYS = 30

/** Where a day's event count came from: the monitor's counters, the events stream itself, or nowhere. */
export type CountSource = 'prometheus' | 'stream' | 'none'

export interface DayCount {
  /** Start of the 24 hours (UTC). */
  from: string
  events: number | null
  /** Failed events (`*Failed` types); null where only the stream was read (it cannot match a type's suffix). */
  failed: number | null
  source: CountSource
}

export interface WeekFigures {
  /** Start of the week; weeks are the 7 × 24 hours before the report's end, the last one "this week". */
  from: string
  events: number | null
  /** Mean over the days that have a count. */
  eventsPerDay: number | null
  failed: number | null
  /** failed / events over the days that have both. */
  errorRate: number | null
}

export interface DomainTrend {
  domain: string
  /** Every day of the window, oldest first. */
  days: DayCount[]
  /** Oldest first, the last one this week. */
  weeks: WeekFigures[]
  thisWeek: WeekFigures
  /** The weeks before this one, together. */
  before: WeekFigures
  /** thisWeek.eventsPerDay / before.eventsPerDay - 1; null without both. */
  change: number | null
  /** This week's busiest day, against the seed's 10M/day sharding guideline. */
  peakDayEvents: number | null
  /** peakDayEvents / 10M. */
  ofShardGuideline: number | null
  /** Estimated storage growth of the domain on the events stream (see StorageFigures.domainBasis). */
  storageBytesPerMonth: number | null
}

export interface HourOfDay {
  /** 0-23, UTC. */
  hour: number
  /** Mean events in that hour over this week's days, every domain together. */
  eventsPerHour: number
}

export interface BusiestHours {
  /** All 24 hours, 0 first. */
  hours: HourOfDay[]
  /** The three busiest, busiest first (an earlier hour first among equals). */
  busiest: HourOfDay[]
}

export interface LagWeek {
  from: string
  p50: number
  p95: number
  p99: number
  max: number
}

export interface ProjectionLag {
  domain: string
  projection: string
  /** The weeks that have samples, oldest first. */
  weeks: LagWeek[]
  /** This week's, when it has samples. */
  thisWeek: LagWeek | null
}

export type LimitKind = 'max_bytes' | 'account'

export interface StorageLimit {
  kind: LimitKind
  bytes: number
}

export interface Forecast {
  limit: StorageLimit
  /** When the fitted line reaches the limit (to the minute); null when it does not grow. */
  fullAt: string | null
  /** Days from the report's end to fullAt, one decimal; 0 when already at the limit. */
  daysLeft: number | null
}

export interface StreamStorage {
  stream: string
  /** The newest sample within the last hour. */
  bytes: number | null
  /** Least-squares slope over this week (deriv over 7d), per day. */
  growthBytesPerDay: number | null
  /** Mean bytes per day of the window, oldest first (the chart). */
  daily: Array<number | null>
  /** Against max_bytes (NATS stream info), when the stream has one and NATS could be read. */
  forecast: Forecast | null
}

export interface StorageFigures {
  streams: StreamStorage[]
  /** Every stream together against the account's JetStream storage limit, when it has one. */
  account: {bytes: number; growthBytesPerDay: number; forecast: Forecast | null} | null
  /** How the per-domain figures are derived, in words (there is no per-domain byte metric). */
  domainBasis: string
  /** Why limits are missing, when NATS could not be read. */
  limitsUnavailable?: string
}

export interface SeriesFigures {
  /** prometheus_tsdb_head_series now (the largest where several Prometheus servers are scraped). */
  activeSeries: number | null
  /** Weekly peaks, oldest first. */
  weeks: Array<{from: string; peak: number | null}>
  guideline: number
  /** activeSeries / guideline. */
  ofGuideline: number | null
}

export interface Finding {
  status: Status
  text: string
}

export interface TrendsReport {
  status: Status
  summary: string
  /** End of the window: the report's "now", to the hour. */
  until: string
  from: string
  weeks: number
  prometheus: string
  /** Where Prometheus' event history begins within the window (null: it has none). */
  prometheusHistoryFrom: string | null
  /** Days before prometheusHistoryFrom: counted from the events stream, or not available (with why). */
  streamFallback: {used: boolean; detail: string}
  domains: DomainTrend[]
  /** Every domain together, per day and per week. */
  total: {days: DayCount[]; weeks: WeekFigures[]}
  hours: BusiestHours
  lag: ProjectionLag[]
  storage: StorageFigures
  series: SeriesFigures
  guidelines: typeof GUIDELINES
  findings: Finding[]
  notes: string[]
}
