/**
 * `cimops trends`: weeks of the monitor's metrics in Prometheus folded into the weekly review's figures. Pure over
 * its sources (Prometheus queries, NATS limits, the events stream's counts), so tests feed it a known history.
 *
 * Event counts are differences of the raw counters at hour boundaries, per series, a drop read as a restart from 0
 * (as increase() does), without increase()'s extrapolation: whole numbers, and the same on Prometheus 2 and 3,
 * whose range selectors differ at the left edge.
 */
import type {PrometheusClient} from '../adapters/prometheus/client.js'
import type {QueryData, RangeSeries} from '../adapters/prometheus/schema.js'
import {worstStatus} from '../core/check/status.js'
import {formatBytes, round} from '../core/output/units.js'
import {compact, percent} from './format.js'
import {
  type BusiestHours,
  type DayCount,
  DAY_MS,
  type DomainTrend,
  type Finding,
  type Forecast,
  GUIDELINES,
  type LagWeek,
  MONTH_DAYS,
  type ProjectionLag,
  type SeriesFigures,
  type StorageFigures,
  type StorageLimit,
  type StreamStorage,
  type TrendsReport,
  WEEK_MS,
  type WeekFigures,
} from './model.js'

const HOUR_MS = 3_600_000
const HOURS_PER_DAY = 24
const BUSIEST_SHOWN = 3

export type TrendsPrometheus = Pick<PrometheusClient, 'baseUrl' | 'query' | 'queryRange'>

/** What NATS says the streams may hold: max_bytes by stream (undefined: unlimited) and the account's storage limit. */
export interface StorageLimits {
  maxBytes: ReadonlyMap<string, number | undefined>
  accountMaxBytes?: number
}

/**
 * Per-domain event counts read from the events stream itself, for the days before Prometheus' history begins
 * (its retention is 15 days by default). The command wires it to the NATS adapter's countMatchingSince.
 */
export interface StreamEventCounts {
  stream: string
  /** Messages on the stream whose subject matches `filter` (e.g. `cim.graph.>`) stored in [from, to); rejects when too many to count. */
  countMatching(filter: string, from: Date, to: Date): Promise<number>
}

export interface TrendSources {
  prometheus: TrendsPrometheus
  /** Rejects when NATS cannot be read: the report goes on without limits, saying why. */
  storageLimits(): Promise<StorageLimits>
  streamCounts: StreamEventCounts
}

export interface TrendsOptions {
  weeks: number
  /** The report's end ("now"), taken down to the hour. */
  until: Date
  /** The events stream: its growth is what the domains' storage shares divide. */
  eventsStream: string
  /** A limit reached within this many days: WARNING; within fullCritDays: CRITICAL. */
  fullWarnDays: number
  fullCritDays: number
}

export async function buildTrends(sources: TrendSources, options: TrendsOptions): Promise<TrendsReport> {
  const end = Math.floor(options.until.getTime() / HOUR_MS) * HOUR_MS
  const start = end - options.weeks * WEEK_MS
  const {prometheus} = sources
  const at = new Date(end)
  const weekly = (expr: string) => prometheus.queryRange(expr, new Date(end - (options.weeks - 1) * WEEK_MS), at, WEEK_MS / 1000)
  const byStream = (expr: string) => prometheus.query(`max by (stream) (${expr})`, at)
  const [events, failed, lag, storageNow, storageSlope, storageFit, storageDaily, seriesNow, seriesWeekly, limits] = await Promise.all([
    prometheus.queryRange('cim_events_total', new Date(start), at, HOUR_MS / 1000),
    prometheus.queryRange('cim_events_failed_total', new Date(start), at, HOUR_MS / 1000),
    Promise.all(LAG_FIGURES.map(({of}) => weekly(`max by (domain, projection) (${of('cim_projection_lag_seconds[7d]')})`))),
    byStream('last_over_time(cim_nats_jetstream_storage_bytes[1h])'),
    byStream('deriv(cim_nats_jetstream_storage_bytes[7d])'),
    byStream('predict_linear(cim_nats_jetstream_storage_bytes[7d], 0)'),
    prometheus.queryRange('max by (stream) (avg_over_time(cim_nats_jetstream_storage_bytes[1d]))', new Date(start + DAY_MS), at, DAY_MS / 1000),
    prometheus.query('max(last_over_time(prometheus_tsdb_head_series[1h]))', at),
    weekly('max(max_over_time(prometheus_tsdb_head_series[7d]))'),
    sources.storageLimits().then(
      (value) => ({value}),
      (error: unknown) => ({error: error instanceof Error ? error.message : String(error)}),
    ),
  ])
  const notes = [...new Set([events, failed, ...lag, storageNow, storageSlope, storageFit, storageDaily, seriesNow, seriesWeekly].flatMap((answer) => answer.warnings))].map(
    (warning) => `Prometheus warned: ${warning}`,
  )

  const hours = options.weeks * 7 * HOURS_PER_DAY
  const eventHours = hourlyIncrements(events.result, start, hours)
  const failedHours = hourlyIncrements(failed.result, start, hours)
  const historyFrom = eventHours.historyFrom
  const domainNames = [...new Set([...eventHours.byDomain.keys(), ...failedHours.byDomain.keys()])].sort()
  const days = options.weeks * 7
  const covered = (day: number) => historyFrom !== null && start + day * DAY_MS >= historyFrom
  const missingDays = Array.from({length: days}, (_, day) => day).filter((day) => !covered(day))
  const fallback = await countFromStream(sources.streamCounts, domainNames, missingDays.map((day) => start + day * DAY_MS), historyFrom === null)

  const domains: DomainTrend[] = domainNames.map((domain) => {
    const dayCounts = Array.from({length: days}, (_, day): DayCount => {
      const from = new Date(start + day * DAY_MS).toISOString()
      if (covered(day)) return {from, events: sumHours(eventHours.byDomain.get(domain), day), failed: sumHours(failedHours.byDomain.get(domain), day), source: 'prometheus'}
      const streamEvents = fallback.counts.get(domain)?.get(start + day * DAY_MS)
      return streamEvents === undefined ? {from, events: null, failed: null, source: 'none'} : {from, events: streamEvents, failed: null, source: 'stream'}
    })
    return domainTrend(domain, dayCounts, options.weeks)
  })
  const totalDays = Array.from({length: days}, (_, day): DayCount => {
    const each = domains.map((d) => d.days[day])
    const source = each.some((d) => d.source === 'prometheus') ? 'prometheus' : each.some((d) => d.source === 'stream') ? 'stream' : 'none'
    return {from: new Date(start + day * DAY_MS).toISOString(), events: sumKnown(each.map((d) => d.events)), failed: sumKnown(each.map((d) => d.failed)), source}
  })
  const storage = storageFigures({now: storageNow, slope: storageSlope, fit: storageFit, daily: storageDaily}, limits, {start, end, days})
  shareStorage(domains, storage, options.eventsStream)
  const series = seriesFigures(seriesNow, seriesWeekly, end, options.weeks)
  const findings = findingsOf({domains, storage, series, historyFrom}, options)
  if (historyFrom !== null && historyFrom > start) {
    notes.push(`Prometheus holds the monitor's counters from ${new Date(historyFrom).toISOString()} only (its retention, or when the monitor started)`)
  }
  notes.push('Disk free is not read: the NATS server\'s disk is not visible from here; `cimops health-check` reads the disks of the host it runs on.')
  const status = worstStatus(findings.map((f) => f.status))
  return {
    status,
    summary: summaryOf(findings, domains, totalDays, options.weeks),
    until: new Date(end).toISOString(),
    from: new Date(start).toISOString(),
    weeks: options.weeks,
    prometheus: prometheus.baseUrl,
    prometheusHistoryFrom: historyFrom === null ? null : new Date(Math.max(historyFrom, start)).toISOString(),
    streamFallback: {used: fallback.used, detail: fallback.detail},
    domains,
    total: {days: totalDays, weeks: weekFigures(totalDays, options.weeks)},
    hours: busiestHours(domainNames.map((domain) => eventHours.byDomain.get(domain)!).filter(Boolean), start, hours),
    lag: projectionLags(lag, end, options.weeks),
    storage,
    series,
    guidelines: GUIDELINES,
    findings,
    notes,
  }
}

// ---------------------------------------------------------------------------------------------
// Counters

interface HourlyCounts {
  /** Per domain, the events of each hour of the window (hour k covers start + k h to start + (k+1) h), every series summed. */
  byDomain: Map<string, number[]>
  /** The first sample of any series (ms), null when there is none: hours before it are unknown. */
  historyFrom: number | null
}

function hourlyIncrements(result: readonly RangeSeries[], start: number, hours: number): HourlyCounts {
  const firsts = result.map((series) => series.values[0].time * 1000)
  const historyFrom = firsts.length === 0 ? null : Math.min(...firsts)
  const byDomain = new Map<string, number[]>()
  for (const series of result) {
    const domain = series.metric.domain
    if (!domain) continue
    const at = new Map(series.values.map((sample) => [Math.round(sample.time * 1000), sample.value]))
    const counts = byDomain.get(domain) ?? new Array<number>(hours).fill(0)
    byDomain.set(domain, counts)
    for (let hour = 0; hour < hours; hour++) {
      const before = start + hour * HOUR_MS
      const after = at.get(before + HOUR_MS)
      if (after === undefined) continue
      const previous = at.get(before)
      // A series born within the history counted from 0; one at its very start has no known beginning.
      if (previous === undefined) counts[hour] += historyFrom !== null && before >= historyFrom ? after : 0
      else counts[hour] += after >= previous ? after - previous : after
    }
  }
  return {byDomain, historyFrom}
}

function sumHours(hours: number[] | undefined, day: number): number {
  return hours ? hours.slice(day * HOURS_PER_DAY, (day + 1) * HOURS_PER_DAY).reduce((sum, n) => sum + n, 0) : 0
}

function sumKnown(values: Array<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null)
  return known.length === 0 ? null : known.reduce((sum, v) => sum + v, 0)
}

interface Fallback {
  used: boolean
  detail: string
  /** Per domain, events by day start (ms). */
  counts: Map<string, Map<number, number>>
}

/** The events of each day before Prometheus' history, per domain, counted on the stream day by day. */
async function countFromStream(source: StreamEventCounts, domains: string[], dayStarts: number[], noHistory: boolean): Promise<Fallback> {
  const counts = new Map<string, Map<number, number>>()
  if (dayStarts.length === 0) return {used: false, detail: 'not needed: Prometheus holds the whole window', counts}
  if (noHistory) return {used: false, detail: 'not available: without Prometheus\' counters the domains are not known', counts}
  try {
    for (const domain of domains) {
      const filter = `cim.${domain}.>`
      const perDay = await Promise.all(dayStarts.map((ms) => source.countMatching(filter, new Date(ms), new Date(ms + DAY_MS))))
      counts.set(domain, new Map(dayStarts.map((ms, i) => [ms, perDay[i]])))
    }
    return {used: true, detail: `${dayStarts.length} day(s) before Prometheus' history counted on stream ${source.stream} (events only: failures are not told apart there)`, counts}
  } catch (error) {
    return {used: false, detail: `not available: ${dayStarts.length} day(s) before Prometheus' history could not be counted on stream ${source.stream}: ${error instanceof Error ? error.message : String(error)}`, counts: new Map()}
  }
}

function domainTrend(domain: string, days: DayCount[], weeks: number): DomainTrend {
  const weekList = weekFigures(days, weeks)
  const thisWeek = weekList.at(-1)!
  const before = figuresOf(days.slice(0, (weeks - 1) * 7), new Date(Date.parse(days[0].from)).toISOString())
  const peak = days.slice(-7).map((d) => d.events).filter((n): n is number => n !== null)
  const peakDayEvents = peak.length === 0 ? null : Math.max(...peak)
  return {
    domain,
    days,
    weeks: weekList,
    thisWeek,
    before,
    change: thisWeek.eventsPerDay !== null && before.eventsPerDay ? round(thisWeek.eventsPerDay / before.eventsPerDay - 1, 4) : null,
    peakDayEvents,
    ofShardGuideline: peakDayEvents === null ? null : round(peakDayEvents / GUIDELINES.shardEventsPerDay, 4),
    storageBytesPerMonth: null,
  }
}

function weekFigures(days: DayCount[], weeks: number): WeekFigures[] {
  return Array.from({length: weeks}, (_, week) => figuresOf(days.slice(week * 7, (week + 1) * 7), days[week * 7].from))
}

function figuresOf(days: DayCount[], from: string): WeekFigures {
  const counted = days.filter((d) => d.events !== null)
  const events = sumKnown(counted.map((d) => d.events))
  const both = counted.filter((d) => d.failed !== null)
  const failed = sumKnown(both.map((d) => d.failed))
  const bothEvents = sumKnown(both.map((d) => d.events))
  return {
    from,
    events,
    eventsPerDay: events === null ? null : round(events / counted.length, 2),
    failed,
    errorRate: failed !== null && bothEvents ? round(failed / bothEvents, 6) : null,
  }
}

function busiestHours(domainHours: number[][], start: number, hours: number): BusiestHours {
  const sums = new Array<number>(HOURS_PER_DAY).fill(0)
  // This week: the last 168 hours of the window.
  for (let hour = hours - 7 * HOURS_PER_DAY; hour < hours; hour++) {
    const hourOfDay = new Date(start + hour * HOUR_MS).getUTCHours()
    for (const counts of domainHours) sums[hourOfDay] += counts[hour]
  }
  const all = sums.map((sum, hour) => ({hour, eventsPerHour: round(sum / 7, 2)}))
  const busiest = [...all].sort((a, b) => b.eventsPerHour - a.eventsPerHour || a.hour - b.hour).slice(0, BUSIEST_SHOWN)
  return {hours: all, busiest: busiest.filter((h) => h.eventsPerHour > 0)}
}

// ---------------------------------------------------------------------------------------------
// Lag

const LAG_FIGURES: Array<{key: keyof Omit<LagWeek, 'from'>; of: (range: string) => string}> = [
  {key: 'p50', of: (range) => `quantile_over_time(0.5, ${range})`},
  {key: 'p95', of: (range) => `quantile_over_time(0.95, ${range})`},
  {key: 'p99', of: (range) => `quantile_over_time(0.99, ${range})`},
  {key: 'max', of: (range) => `max_over_time(${range})`},
]

function projectionLags(answers: ReadonlyArray<{result: RangeSeries[]}>, end: number, weeks: number): ProjectionLag[] {
  const byProjection = new Map<string, {domain: string; projection: string; weeks: Map<number, Partial<LagWeek>>}>()
  answers.forEach((answer, i) => {
    const key = LAG_FIGURES[i].key
    for (const series of answer.result) {
      const {domain = '', projection = ''} = series.metric
      const id = `${domain}\u0000${projection}`
      const entry = byProjection.get(id) ?? {domain, projection, weeks: new Map()}
      byProjection.set(id, entry)
      for (const sample of series.values) {
        const weekEnd = Math.round(sample.time * 1000)
        const week = entry.weeks.get(weekEnd) ?? {from: new Date(weekEnd - WEEK_MS).toISOString()}
        week[key] = round(sample.value, 3)
        entry.weeks.set(weekEnd, week)
      }
    }
  })
  const firstWeekEnd = end - (weeks - 1) * WEEK_MS
  return [...byProjection.values()]
    .map(({domain, projection, weeks: byEnd}) => {
      const list = [...byEnd.entries()].filter(([weekEnd]) => weekEnd >= firstWeekEnd).sort(([a], [b]) => a - b)
      const complete = list.filter((entry): entry is [number, LagWeek] => LAG_FIGURES.every(({key}) => entry[1][key] !== undefined))
      const thisWeek = complete.find(([weekEnd]) => weekEnd === end)?.[1] ?? null
      return {domain, projection, weeks: complete.map(([, week]) => week), thisWeek}
    })
    .sort((a, b) => a.domain.localeCompare(b.domain) || a.projection.localeCompare(b.projection))
}

// ---------------------------------------------------------------------------------------------
// Storage

type Answer = Awaited<ReturnType<TrendsPrometheus['query']>>

function vectorOf(answer: Answer): Map<string, number> {
  const values = new Map<string, number>()
  if (answer.resultType === 'vector') for (const sample of answer.result) if (Number.isFinite(sample.value)) values.set(sample.metric.stream ?? '', sample.value)
  return values
}

function scalarOf(answer: QueryData): number | null {
  if (answer.resultType !== 'vector' || answer.result.length === 0) return null
  return Number.isFinite(answer.result[0].value) ? answer.result[0].value : null
}

function storageFigures(
  answers: {now: Answer; slope: Answer; fit: Answer; daily: {result: RangeSeries[]}},
  limits: {value: StorageLimits} | {error: string},
  window: {start: number; end: number; days: number},
): StorageFigures {
  const [now, slope, fit] = [vectorOf(answers.now), vectorOf(answers.slope), vectorOf(answers.fit)]
  const daily = new Map(answers.daily.result.map((series) => [series.metric.stream ?? '', series.values]))
  const names = [...new Set([...now.keys(), ...slope.keys(), ...daily.keys()])].filter(Boolean).sort()
  const known = 'value' in limits ? limits.value : undefined
  const streams = names.map((stream): StreamStorage => {
    const perSecond = slope.get(stream)
    const maxBytes = known?.maxBytes.get(stream)
    const fitted = fit.get(stream)
    const days = new Array<number | null>(window.days).fill(null)
    for (const sample of daily.get(stream) ?? []) {
      const day = Math.round((sample.time * 1000 - window.start) / DAY_MS) - 1
      if (day >= 0 && day < window.days) days[day] = round(sample.value, 0)
    }
    return {
      stream,
      bytes: now.get(stream) ?? null,
      growthBytesPerDay: perSecond === undefined ? null : round(perSecond * 86_400, 0),
      daily: days,
      forecast: maxBytes !== undefined && fitted !== undefined && perSecond !== undefined ? forecast({kind: 'max_bytes', bytes: maxBytes}, fitted, perSecond, window.end) : null,
    }
  })
  const accountMax = known?.accountMaxBytes
  const fittedAll = [...fit.values()].reduce((sum, v) => sum + v, 0)
  const slopeAll = [...slope.values()].reduce((sum, v) => sum + v, 0)
  const account =
    names.length === 0
      ? null
      : {
          bytes: [...now.values()].reduce((sum, v) => sum + v, 0),
          growthBytesPerDay: round(slopeAll * 86_400, 0),
          forecast: accountMax === undefined ? null : forecast({kind: 'account', bytes: accountMax}, fittedAll, slopeAll, window.end),
        }
  return {
    streams,
    account,
    domainBasis: 'estimated: there is no per-domain byte metric, so each domain gets the events stream\'s growth (deriv over 7 days) in proportion to its share of this week\'s events (assumes events of similar size)',
    ...('error' in limits ? {limitsUnavailable: limits.error} : {}),
  }
}

/** When the least-squares line through the last 7 days, `fitted` now and rising `perSecond`, reaches the limit. */
function forecast(limit: StorageLimit, fitted: number, perSecond: number, end: number): Forecast {
  if (fitted >= limit.bytes) return {limit, fullAt: new Date(end).toISOString(), daysLeft: 0}
  if (perSecond <= 0) return {limit, fullAt: null, daysLeft: null}
  const ms = ((limit.bytes - fitted) / perSecond) * 1000
  return {limit, fullAt: new Date(Math.round((end + ms) / 60_000) * 60_000).toISOString(), daysLeft: round(ms / DAY_MS, 1)}
}

function shareStorage(domains: DomainTrend[], storage: StorageFigures, eventsStream: string): void {
  const growth = storage.streams.find((s) => s.stream === eventsStream)?.growthBytesPerDay
  const total = domains.reduce((sum, d) => sum + (d.thisWeek.events ?? 0), 0)
  if (growth === undefined || growth === null || total === 0) return
  for (const domain of domains) domain.storageBytesPerMonth = round((growth * MONTH_DAYS * (domain.thisWeek.events ?? 0)) / total, 0)
}

function seriesFigures(now: Answer, weekly: {result: RangeSeries[]}, end: number, weeks: number): SeriesFigures {
  const activeSeries = scalarOf(now)
  const peaks = new Map((weekly.result[0]?.values ?? []).map((sample) => [Math.round(sample.time * 1000), sample.value]))
  return {
    activeSeries,
    weeks: Array.from({length: weeks}, (_, i) => {
      const weekEnd = end - (weeks - 1 - i) * WEEK_MS
      return {from: new Date(weekEnd - WEEK_MS).toISOString(), peak: peaks.get(weekEnd) ?? null}
    }),
    guideline: GUIDELINES.activeSeries,
    ofGuideline: activeSeries === null ? null : round(activeSeries / GUIDELINES.activeSeries, 4),
  }
}

// ---------------------------------------------------------------------------------------------
// Verdict

function findingsOf(
  {domains, storage, series, historyFrom}: {domains: DomainTrend[]; storage: StorageFigures; series: SeriesFigures; historyFrom: number | null},
  options: TrendsOptions,
): Finding[] {
  const findings: Finding[] = []
  if (historyFrom === null) findings.push({status: 'UNKNOWN', text: 'Prometheus has no cim_events_total in the window: does it scrape `cimops monitor`?'})
  const limitFinding = (what: string, growthPerDay: number | null, f: Forecast | null) => {
    if (!f || f.daysLeft === null) return
    const status = f.daysLeft <= options.fullCritDays ? 'CRITICAL' : f.daysLeft <= options.fullWarnDays ? 'WARNING' : 'OK'
    if (status === 'OK') return
    const limit = f.limit.kind === 'max_bytes' ? `its max_bytes (${formatBytes(f.limit.bytes)})` : `the account's storage limit (${formatBytes(f.limit.bytes)})`
    const text = f.daysLeft === 0 ? `${what} is at ${limit}` : `${what} reaches ${limit} on ${f.fullAt!.slice(0, 10)}, in ${f.daysLeft} days at +${formatBytes(growthPerDay ?? 0)}/day`
    findings.push({status, text})
  }
  for (const stream of storage.streams) limitFinding(`stream ${stream.stream}`, stream.growthBytesPerDay, stream.forecast)
  if (storage.account) limitFinding('all streams together', storage.account.growthBytesPerDay, storage.account.forecast)
  for (const domain of domains) {
    if (domain.peakDayEvents !== null && domain.peakDayEvents >= GUIDELINES.shardEventsPerDay) {
      findings.push({status: 'WARNING', text: `domain ${domain.domain}: ${compact(domain.peakDayEvents)} events on its busiest day this week, past the ${compact(GUIDELINES.shardEventsPerDay)}/day guideline: shard by domain`})
    }
  }
  if (series.activeSeries !== null && series.activeSeries >= GUIDELINES.activeSeries) {
    findings.push({status: 'WARNING', text: `Prometheus holds ${compact(series.activeSeries)} active series, past the ${compact(GUIDELINES.activeSeries)} guideline: add replicas`})
  }
  const order = {CRITICAL: 0, UNKNOWN: 1, WARNING: 2, OK: 3}
  return findings.sort((a, b) => order[a.status] - order[b.status])
}

function summaryOf(findings: Finding[], domains: DomainTrend[], total: DayCount[], weeks: number): string {
  if (findings.length > 0) return findings.length === 1 ? findings[0].text : `${findings[0].text} (and ${findings.length - 1} more)`
  const thisWeek = figuresOf(total.slice(-7), total.at(-7)!.from)
  const before = figuresOf(total.slice(0, -7), total[0].from)
  const change = weeks > 1 && thisWeek.eventsPerDay !== null && before.eventsPerDay ? `, ${percent(thisWeek.eventsPerDay / before.eventsPerDay - 1)} on the weeks before` : ''
  return `No guideline or limit crossed: ${domains.length} domain(s), ${thisWeek.eventsPerDay === null ? 'no' : compact(thisWeek.eventsPerDay)} events/day this week${change}`
}
