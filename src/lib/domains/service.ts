/**
 * `domain health`: reads the events stream (per-subject counts, exact window counts, the newest and oldest
 * event of each domain, the projections as `consumer report` measures them), Prometheus (the monitor's
 * counters) and Alertmanager (alerts labelled domain=<d>) at once, and judges each domain (judge.ts).
 * NATS is required; Prometheus and Alertmanager are not: what they could not tell is a note, or an UNKNOWN.
 */
import type {NatsSession} from '../adapters/nats/session.js'
import {alertmanagerFor, prometheusFor} from '../alerts/clients.js'
import {type CheckResult} from '../core/check/result.js'
import {worstStatus} from '../core/check/status.js'
import type {ResolvedContext} from '../core/context-types.js'
import {UsageError} from '../core/errors.js'
import {round} from '../core/output/units.js'
import {parseCimSubject} from '../monitor/subject.js'
import {mapLimit} from '../streams/concurrency.js'
import {consumerReport} from '../streams/consumer-report.js'
import {streamNotFound} from '../streams/errors.js'
import type {ConsumerThresholdSet} from '../streams/thresholds.js'
import {knownDomains, MAX_SUBJECTS_LISTED} from './discover.js'
import {failedShare, judgeDomain, judgeSilence, summarizeDomains, toProjection} from './judge.js'
import type {DomainAlert, DomainHealth, DomainHealthReport, DomainThresholds, PrometheusFigures, StreamWindow} from './model.js'
import {domainConsumers, domainFilter, isValidDomain} from './names.js'
import {failuresFromPrometheus, ratesFromPrometheus} from './rates.js'

export interface DomainHealthOptions {
  /** Only these domains; every known one when empty. */
  domains: string[]
  consumerThresholds: ConsumerThresholdSet
  thresholds: DomainThresholds
  /** Most events counted per window and domain (the count reads each one): past it, "more than". */
  countLimit: number
  nats: NatsSession
  signal?: AbortSignal
  now?: () => Date
}

const FIVE_MINUTES = 300
const HOUR = 3600
/** Domains read at once: each costs a few requests and two counting reads. */
const DOMAINS_IN_FLIGHT = 4
const SUFFIX_FAILED = 'Failed'

export async function domainHealth(ctx: ResolvedContext, options: DomainHealthOptions): Promise<DomainHealthReport> {
  const started = performance.now()
  for (const domain of options.domains) {
    if (!isValidDomain(domain)) throw new UsageError(`invalid domain "${domain}"`, 'expected one subject token: letters, digits, "-" and "_"')
  }
  const now = (options.now ?? (() => new Date()))()
  const [adapter, {sessionReader}, {countMatchingSince}] = await Promise.all([
    import('../adapters/nats/jetstream.js'),
    import('../streams/reader.js'),
    import('../adapters/nats/window-counts.js'),
  ])
  const session = await options.nats.jetstream()
  const {jsm, nc, address, timeoutMs, jsApiPrefix} = session
  const stream = ctx.streams.events
  // The monitor's figures and the alerts are asked for at once with the stream's, and wait for nothing.
  const prometheus = readPrometheus(ctx, now)
  const alerts = readAlerts(ctx)

  const summary = await adapter.findStream(jsm, stream, address, timeoutMs)
  if (!summary) throw streamNotFound(stream, await adapter.listStreamNames(jsm, address, timeoutMs))
  const reader = await sessionReader(session)
  const consumers = await consumerReport(reader, {stream, thresholds: options.consumerThresholds, sort: 'name', signal: options.signal})
  // One entry per subject (aggregate and event type): only for streams with few enough to list.
  const perSubject = (summary.subjectCount ?? 0) <= MAX_SUBJECTS_LISTED ? (await adapter.streamSubjects(jsm, stream, 'cim.*.>', address, timeoutMs))?.subjects : undefined
  const known = await knownDomains(summary, consumers.consumers, async () => (perSubject ? {subjects: perSubject} : undefined))
  const unknown = options.domains.filter((d) => !known.includes(d))
  if (unknown.length > 0) {
    throw new UsageError(`unknown domain${unknown.length > 1 ? 's' : ''} ${unknown.map((d) => `"${d}"`).join(', ')}`, known.length === 0 ? `${stream} holds no cim.<domain>.> events and has no <domain>-<projection> consumers` : `known domains on ${stream}: ${known.join(', ')}`)
  }
  const selected = options.domains.length > 0 ? [...new Set(options.domains)].sort() : known

  const metaOptions = {jsApiPrefix, timeoutMs}
  const window = async (filter: string, seconds: number): Promise<StreamWindow> => {
    const count = await countMatchingSince(session, stream, filter, new Date(now.getTime() - seconds * 1000), {limit: options.countLimit, signal: options.signal})
    const overLimit = count > options.countLimit
    return {seconds, count: overLimit ? null : count, overLimit, limit: options.countLimit, ratePerSecond: overLimit ? null : round(count / seconds, 4)}
  }
  const readDomain = async (domain: string) => {
    const filter = domainFilter(domain)
    const [newest, oldest, lastFiveMinutes, lastHour] = await Promise.all([
      adapter.lastMessageMeta(nc, stream, filter, metaOptions),
      adapter.nextMessageMeta(nc, stream, summary.firstSeq, filter, metaOptions),
      window(filter, FIVE_MINUTES),
      window(filter, HOUR),
    ])
    return {domain, newest, oldest, lastFiveMinutes, lastHour}
  }
  const read = await mapLimit(selected, DOMAINS_IN_FLIGHT, readDomain, options.signal)
  const [monitor, firing] = await Promise.all([prometheus, alerts])
  const checkedAt = options.now?.() ?? new Date()

  const domains: DomainHealth[] = read.map(({domain, newest, oldest, lastFiveMinutes, lastHour}) => {
    const counts = perSubject ? countsOf(perSubject, domain) : undefined
    const stored = counts?.stored ?? null
    const figures: PrometheusFigures = {
      ratePerSecond: monitor.rates?.domains.find((d) => d.domain === domain)?.ratePerSecond ?? null,
      lastHour: monitor.rates?.domains.find((d) => d.domain === domain)?.windowCount ?? null,
      failedLastHour: monitor.rates ? (monitor.failed?.get(domain) ?? (monitor.rates.domains.some((d) => d.domain === domain) ? 0 : null)) : null,
    }
    const newestAgeSeconds = newest ? Math.max(0, (checkedAt.getTime() - newest.time.getTime()) / 1000) : null
    return judgeDomain(
      {
        domain,
        events: {
          stored,
          lastFiveMinutes,
          lastHour,
          prometheus: figures,
          oldestAt: oldest?.time.toISOString() ?? null,
          newestAt: newest?.time.toISOString() ?? null,
          newestAgeSeconds: newestAgeSeconds === null ? null : round(newestAgeSeconds, 3),
        },
        silence: judgeSilence({stored, oldestAt: oldest?.time, newestAt: newest?.time}, checkedAt, options.thresholds),
        failed: {stored: counts?.failed ?? null, byType: counts?.failedByType ?? {}, lastHour: figures.failedLastHour, shareLastHour: failedShare(figures.failedLastHour, figures.lastHour)},
        projections: domainConsumers(consumers.consumers, domain).map((row) => toProjection(domain, row)),
        storage: {
          bytes: stored === null || summary.messages === 0 ? null : Math.round((summary.bytes * stored) / summary.messages),
          estimated: true,
          share: stored === null || summary.messages === 0 ? null : round(stored / summary.messages, 4),
        },
        alerts: 'error' in firing ? [] : firing.alerts.filter((a) => a.domain === domain).map(({domain: _, ...alert}) => alert),
        ...('error' in firing ? {alertsError: firing.error} : {}),
      },
      options.thresholds,
    )
  })
  const checks = domains.map(toCheck)
  return {
    status: worstStatus(domains.map((d) => d.status)),
    summary: summarizeDomains(domains, stream),
    checks,
    durationSeconds: round((performance.now() - started) / 1000, 3),
    checkedAt: checkedAt.toISOString(),
    ...(ctx.name ? {context: ctx.name} : {}),
    stream,
    serverVersion: consumers.serverVersion,
    thresholds: {...options.thresholds, lagWarn: options.consumerThresholds.values.lagWarn, lagCrit: options.consumerThresholds.values.lagCrit, stallAfter: options.consumerThresholds.values.stallAfter},
    notes: [...monitor.notes, ...(perSubject ? [] : [`${stream} has more than ${MAX_SUBJECTS_LISTED} subjects: stored and failed counts and storage are not read`]), ...('error' in firing ? [`Alertmanager: ${firing.error}`] : [])],
    domains,
  }
}

/** Stored events of the domain and those whose type ends in `Failed`, from the server's per-subject counts. */
export function countsOf(perSubject: Record<string, number>, domain: string): {stored: number; failed: number; failedByType: Record<string, number>} {
  let stored = 0
  let failed = 0
  const failedByType: Record<string, number> = {}
  for (const [subject, count] of Object.entries(perSubject)) {
    if (!subject.startsWith(`cim.${domain}.`)) continue
    stored += count
    const eventType = parseCimSubject(subject)?.eventType
    if (eventType?.endsWith(SUFFIX_FAILED)) {
      failed += count
      failedByType[eventType] = (failedByType[eventType] ?? 0) + count
    }
  }
  return {stored, failed, failedByType}
}

function toCheck(domain: DomainHealth): CheckResult {
  const {events, projections} = domain
  const lags = projections.map((p) => p.lagSeconds).filter((lag): lag is number => lag !== null)
  return {
    name: `domain:${domain.domain}`,
    component: 'domains',
    status: domain.status,
    summary: domain.summary,
    metrics: [
      ...(events.lastFiveMinutes.count === null ? [] : [{name: 'events_5m', value: events.lastFiveMinutes.count}]),
      ...(events.lastHour.count === null ? [] : [{name: 'events_1h', value: events.lastHour.count}]),
      ...(events.newestAgeSeconds === null ? [] : [{name: 'newest_age', value: events.newestAgeSeconds, unit: 's' as const}]),
      ...(lags.length === 0 ? [] : [{name: 'max_lag', value: round(Math.max(...lags), 3), unit: 's' as const}]),
      ...(domain.failed.stored === null ? [] : [{name: 'failed_stored', value: domain.failed.stored}]),
      {name: 'alerts_firing', value: domain.alerts.length},
    ],
  }
}

interface MonitorFigures {
  rates?: Awaited<ReturnType<typeof ratesFromPrometheus>>
  failed?: Map<string, number>
  notes: string[]
}

async function readPrometheus(ctx: ResolvedContext, now: Date): Promise<MonitorFigures> {
  try {
    const prometheus = await prometheusFor(ctx)
    const [rates, failed] = await Promise.all([ratesFromPrometheus(prometheus, HOUR, now), failuresFromPrometheus(prometheus, HOUR, now)])
    return {rates, failed, notes: rates ? [] : ['Prometheus has no cim_events_total (is the event monitor running?): rates from the stream only']}
  } catch (error) {
    return {notes: [`Prometheus: ${errorLine(error)}; rates from the stream only`]}
  }
}

async function readAlerts(ctx: ResolvedContext): Promise<{alerts: Array<DomainAlert & {domain: string}>} | {error: string}> {
  try {
    const {listAlerts} = await import('../alerts/list.js')
    const list = await listAlerts(await alertmanagerFor(ctx), {matchers: []})
    const alerts = list.alerts
      .filter((a) => a.state === 'active' && a.labels.domain !== undefined)
      .map((a) => ({
        domain: a.labels.domain,
        alertname: a.alertname,
        severity: a.severity,
        startsAt: a.startsAt,
        ...(a.annotations.summary ? {summary: a.annotations.summary} : {}),
      }))
    return {alerts}
  } catch (error) {
    return {error: errorLine(error)}
  }
}

function errorLine(error: unknown): string {
  return error instanceof Error && 'line' in error ? String((error as {line: string}).line) : error instanceof Error ? error.message : String(error)
}
