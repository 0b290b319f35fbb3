/**
 * `alerts history`: neither Alertmanager nor Prometheus keeps alert history, but Prometheus records
 * `ALERTS{alertstate="firing"}` = 1 for every evaluation of a firing rule. A range query over it,
 * folded per series into episodes, says what fired when, to the step. The newest edge is exact: the last
 * two to three steps come from the raw samples (one per evaluation) and "still firing" from what fires now, so
 * a long window's coarse step neither keeps an alert resolved minutes ago firing nor hides a short one.
 */
import {UsageError} from '../core/errors.js'
import {parseServerVersion} from '../core/version.js'
import type {PrometheusClient} from '../adapters/prometheus/client.js'
import {refuseUtf8Names} from './label-names.js'
import {toPromQLMatcher, type Matcher} from './matchers.js'
import type {AlertHistoryResult, Episode} from './model.js'

/** Prometheus refuses a range query with more points per series. */
export const MAX_POINTS = 11_000
export const MIN_DEFAULT_STEP_MS = 15_000

/** The default resolution: 15s, or coarser when the window would need more than 11,000 points. */
export function chooseStepMs(windowMs: number): number {
  return Math.max(MIN_DEFAULT_STEP_MS, Math.ceil(windowMs / MAX_POINTS / 1000) * 1000)
}

/** A step the server accepts for the window, or a usage error that says what would be. */
export function checkStep(windowMs: number, stepMs: number): void {
  if (!(stepMs > 0)) throw new UsageError(`invalid --step ${stepMs}ms`, 'the step must be positive')
  if (windowMs / stepMs > MAX_POINTS) {
    throw new UsageError('--step too small for the window', `${Math.ceil(windowMs / stepMs)} points per series, Prometheus allows at most ${MAX_POINTS}`, {
      hint: `use --step ${Math.ceil(windowMs / MAX_POINTS / 1000)}s or more, or a shorter --since`,
    })
  }
}

/**
 * `max_over_time(ALERTS{alertstate="firing", …}[step])`: a point exists at t when the alert fired at any
 * evaluation in the step before t, so an episode shorter than the step is still seen (plain `ALERTS`
 * sampled every step could fall between its evaluations).
 * The windows must tile the time line, (t-step, t] each: Prometheus 3 reads `[step]` so, but 2.x reads
 * [t-step, t], where an evaluation lying exactly on a step counts at two points (an episode a step longer
 * than on 3). On 2.x the range is a millisecond short, which reads (t-step, t] too: timestamps are in ms.
 */
export function historyQuery(matchers: readonly Matcher[], stepMs: number, rangeIncludesLeftEdge = false): string {
  return `max_over_time(${firingQuery(matchers)}[${Math.round(stepMs) - (rangeIncludesLeftEdge ? 1 : 0)}ms])`
}

/** Before Prometheus 3 a range selector includes its left edge. A server that does not say its version is read as 3. */
async function prometheusVersion(prometheus: PrometheusClient): Promise<string> {
  // Unanswered (a compatible server without buildinfo, or one that is down: the queries then say so).
  return prometheus.buildInfo().then(
    (info) => info.version,
    () => '',
  )
}

function rangeIncludesLeftEdge(version: string): boolean {
  const parsed = parseServerVersion(version)
  return parsed !== undefined && parsed[0] < 3
}

/** The firing alerts: an instant query gives what fires now (a resolved alert's series ends with a stale marker). */
export function firingQuery(matchers: readonly Matcher[]): string {
  return `ALERTS{${['alertstate="firing"', ...matchers.map(toPromQLMatcher)].join(', ')}}`
}

/** Identifies an alert's series across queries (the range query drops `__name__`, the others keep it). */
export function seriesKey(labels: Record<string, string>): string {
  const {__name__: _name, ...rest} = labels
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)))
}

export interface SeriesPoints {
  labels: Record<string, string>
  /** Unix seconds of the points where the series has a value, ascending. */
  times: number[]
}

/**
 * Folds series into firing episodes. Points are at most `step` apart while an alert fires; a gap of
 * more than two steps ends an episode (one missing point is tolerated: a late evaluation). The last
 * episode is still firing when `firingNow` says so, or without it when its last point is the last step
 * of the window. Sorted by start, then alertname. Times in Unix seconds.
 */
export function foldEpisodes(
  series: readonly SeriesPoints[],
  {stepSeconds, end, firingNow}: {stepSeconds: number; end: number; firingNow?: (labels: Record<string, string>) => boolean},
): Episode[] {
  const episodes: Episode[] = []
  const iso = (seconds: number) => new Date(Math.round(seconds * 1000)).toISOString()
  for (const {labels, times} of series) {
    if (times.length === 0) continue
    const {alertname = '', alertstate: _state, __name__: _name, ...rest} = labels
    let first = times[0]
    let last = times[0]
    const close = (stillFiring: boolean) => {
      episodes.push({
        alertname,
        // A copy per episode: the --json output passes through redact(), which shows a shared object as "[circular]".
        labels: {...rest},
        from: iso(first),
        to: stillFiring ? null : iso(last),
        stillFiring,
        durationSeconds: round3((stillFiring ? end : last) - first),
      })
    }
    for (const time of times.slice(1)) {
      if (time - last > 2 * stepSeconds + 1e-6) {
        close(false)
        first = time
      }
      last = time
    }
    close(firingNow ? firingNow(labels) : end - last < stepSeconds - 1e-6)
  }
  return episodes.sort(
    (a, b) => Date.parse(a.from) - Date.parse(b.from) || a.alertname.localeCompare(b.alertname) || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)),
  )
}

function settled<T>(answer: PromiseSettledResult<T>): T {
  if (answer.status === 'rejected') throw answer.reason
  return answer.value
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000
}

export interface AlertHistoryOptions {
  matchers: Matcher[]
  /** Window length in ms, ending now. */
  sinceMs: number
  /** Resolution in ms; default chooseStepMs(sinceMs). */
  stepMs?: number
  now?: Date
}

export async function alertHistory(prometheus: PrometheusClient, options: AlertHistoryOptions): Promise<AlertHistoryResult> {
  if (!(options.sinceMs > 0)) throw new UsageError(`invalid --since ${options.sinceMs}ms`, 'the window must be positive')
  const stepMs = options.stepMs ?? chooseStepMs(options.sinceMs)
  checkStep(options.sinceMs, stepMs)
  const end = options.now ?? new Date()
  const start = new Date(end.getTime() - options.sinceMs)
  const version = await prometheusVersion(prometheus)
  if (version) refuseUtf8Names({kind: 'Prometheus', baseUrl: prometheus.baseUrl}, version, options.matchers)
  const query = historyQuery(options.matchers, stepMs, rangeIncludesLeftEdge(version))
  // The raw samples take over after the last step point at least two steps before the end (the window's
  // start when it is shorter): from a point, so that no evaluation falls between the two answers.
  const recentFromMs = start.getTime() + Math.max(0, Math.floor((options.sinceMs - 2 * stepMs) / stepMs)) * stepMs
  const recentMs = end.getTime() - recentFromMs
  const [rangeAnswer, recentAnswer, currentAnswer] = await Promise.allSettled([
    prometheus.queryRange(query, start, end, stepMs / 1000),
    prometheus.query(`${firingQuery(options.matchers)}[${Math.round(recentMs)}ms]`, end),
    prometheus.query(firingQuery(options.matchers), end),
  ])
  // In this order: when Prometheus is down, the range query (the history itself) is the one named.
  const range = settled(rangeAnswer)
  const recent = settled(recentAnswer)
  const current = settled(currentAnswer)
  // A step point says "fired within the step before"; over the last two steps or so the raw samples say when.
  const recentFrom = recentFromMs / 1000
  const series = new Map<string, SeriesPoints>()
  for (const {metric, values} of range.result) {
    const times = values.filter((sample) => !Number.isNaN(sample.value) && sample.time <= recentFrom).map((sample) => sample.time)
    series.set(seriesKey(metric), {labels: metric, times})
  }
  for (const {metric, values} of recent.resultType === 'matrix' ? recent.result : []) {
    const entry = series.get(seriesKey(metric)) ?? {labels: metric, times: []}
    entry.times.push(...values.filter((sample) => sample.time > recentFrom).map((sample) => sample.time))
    series.set(seriesKey(metric), entry)
  }
  const firing = new Set(current.resultType === 'vector' ? current.result.map((sample) => seriesKey(sample.metric)) : [])
  const answers = [range, recent, current]
  return {
    from: start.toISOString(),
    to: end.toISOString(),
    stepSeconds: stepMs / 1000,
    query,
    episodes: foldEpisodes([...series.values()], {stepSeconds: stepMs / 1000, end: end.getTime() / 1000, firingNow: (labels) => firing.has(seriesKey(labels))}),
    warnings: [...new Set(answers.flatMap((answer) => answer.warnings))],
    infos: [...new Set(answers.flatMap((answer) => answer.infos))],
  }
}
