/**
 * The trends report as tables, each row with its series for a chart: one layout that the text (sparklines),
 * Markdown (sparklines inline) and HTML (inline SVG) views each draw their own way.
 */
import {formatBytes} from '../core/output/units.js'
import {bytes, compact, count, dayLabel, hourLabel, percent, rate, seconds} from './format.js'
import {GUIDELINES, type TrendsReport} from './model.js'

export interface Section {
  /** Stable: the HTML charts' ids are `chart-<id>-<row>`. */
  id: string
  title: string
  headers: string[]
  /** Columns that hold numbers (right-aligned). */
  numeric: boolean[]
  rows: string[][]
  /** Per row, the series its chart draws (none: no chart column). */
  charts?: Array<Array<number | null>>
  /** What the chart shows, for its column header. */
  chartTitle?: string
  /** A line under the table. */
  note?: string
}

export function sectionsOf(report: TrendsReport): Section[] {
  const days = report.total.days
  const sections: Section[] = [
    {
      id: 'events',
      title: 'Events per day',
      headers: ['DOMAIN', 'THIS WEEK /DAY', 'BEFORE /DAY', 'CHANGE', 'BUSIEST DAY', 'OF 10M/DAY'],
      numeric: [false, true, true, true, true, true],
      rows: [
        ...report.domains.map((d) => [d.domain, count(d.thisWeek.eventsPerDay), count(d.before.eventsPerDay), d.change === null ? '-' : percent(d.change), count(d.peakDayEvents), d.ofShardGuideline === null ? '-' : `${+(d.ofShardGuideline * 100).toFixed(1)}%`]),
      ],
      charts: report.domains.map((d) => d.days.map((day) => day.events)),
      chartTitle: `${days.length} DAYS`,
      note: `Days of 24 h to ${report.until.slice(11, 16)} UTC, ${dayLabel(days[0].from)} to ${dayLabel(days.at(-1)!.from)}; shard a domain at ${compact(GUIDELINES.shardEventsPerDay)} events/day.`,
    },
    {
      id: 'errors',
      title: 'Error rate (cim_events_failed_total / cim_events_total)',
      headers: ['DOMAIN', 'THIS WEEK', 'BEFORE', 'FAILED THIS WEEK'],
      numeric: [false, true, true, true],
      rows: report.domains.map((d) => [d.domain, rate(d.thisWeek.errorRate), rate(d.before.errorRate), count(d.thisWeek.failed)]),
      charts: report.domains.map((d) => d.days.map((day) => (day.events && day.failed !== null ? day.failed / day.events : null))),
      chartTitle: 'PER DAY',
    },
    {
      id: 'hours',
      title: 'Busiest hours this week (UTC, every domain)',
      headers: ['BUSIEST', 'EVENTS/HOUR'],
      numeric: [false, true],
      rows: report.hours.busiest.map((h) => [hourLabel(h.hour), compact(h.eventsPerHour)]),
      charts: report.hours.busiest.map(() => report.hours.hours.map((h) => h.eventsPerHour)),
      chartTitle: '00-23 UTC',
    },
    {
      id: 'lag',
      title: 'Projection lag this week (cim_projection_lag_seconds)',
      headers: ['DOMAIN', 'PROJECTION', 'P50', 'P95', 'P99', 'MAX'],
      numeric: [false, false, true, true, true, true],
      rows: report.lag.map((p) => [p.domain, p.projection, seconds(p.thisWeek?.p50), seconds(p.thisWeek?.p95), seconds(p.thisWeek?.p99), seconds(p.thisWeek?.max)]),
      charts: report.lag.map((p) => p.weeks.map((w) => w.p95)),
      chartTitle: 'P95 BY WEEK',
    },
    {
      id: 'storage',
      title: 'JetStream storage (cim_nats_jetstream_storage_bytes)',
      headers: ['STREAM', 'NOW', 'GROWTH/DAY', 'LIMIT', 'FULL ON', 'DAYS LEFT'],
      numeric: [false, true, true, true, false, true],
      rows: [
        ...report.storage.streams.map((s) => [s.stream, bytes(s.bytes), growth(s.growthBytesPerDay), s.forecast ? formatBytes(s.forecast.limit.bytes) : '-', s.forecast?.fullAt?.slice(0, 10) ?? '-', daysLeft(s.forecast?.daysLeft)]),
        ...(report.storage.account
          ? [['all (account)', bytes(report.storage.account.bytes), growth(report.storage.account.growthBytesPerDay), report.storage.account.forecast ? formatBytes(report.storage.account.forecast.limit.bytes) : '-', report.storage.account.forecast?.fullAt?.slice(0, 10) ?? '-', daysLeft(report.storage.account.forecast?.daysLeft)]]
          : []),
      ],
      charts: [...report.storage.streams.map((s) => s.daily), ...(report.storage.account ? [[]] : [])],
      chartTitle: 'PER DAY',
      note: `Growth: least squares over the last 7 days; the date is when that line reaches the stream's max_bytes or the account's limit.${report.storage.limitsUnavailable ? ` No limits from NATS, so no dates: ${report.storage.limitsUnavailable}` : ''}`,
    },
    {
      id: 'domain-storage',
      title: `Storage per domain against the plan (~${GUIDELINES.domainBytesPerMonth / 1e9} GB/month each)`,
      headers: ['DOMAIN', 'GROWTH/MONTH', 'OF PLAN'],
      numeric: [false, true, true],
      rows: report.domains.map((d) => [d.domain, d.storageBytesPerMonth === null ? '-' : `${+(d.storageBytesPerMonth / 1e9).toFixed(2)} GB`, d.storageBytesPerMonth === null ? '-' : `${+((d.storageBytesPerMonth / GUIDELINES.domainBytesPerMonth) * 100).toFixed(1)}%`]),
      note: report.storage.domainBasis,
    },
    {
      id: 'series',
      title: 'Prometheus active series (prometheus_tsdb_head_series)',
      headers: ['NOW', 'OF 1M'],
      numeric: [true, true],
      rows: [[count(report.series.activeSeries), report.series.ofGuideline === null ? '-' : `${+(report.series.ofGuideline * 100).toFixed(1)}%`]],
      charts: [report.series.weeks.map((w) => w.peak)],
      chartTitle: 'PEAK BY WEEK',
      note: `Add Prometheus replicas at ${compact(GUIDELINES.activeSeries)} active series.`,
    },
  ]
  return sections.filter((section) => section.rows.length > 0)
}

function growth(perDay: number | null): string {
  return perDay === null ? '-' : `${perDay >= 0 ? '+' : '-'}${formatBytes(Math.abs(perDay))}`
}

function daysLeft(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : String(value)
}
