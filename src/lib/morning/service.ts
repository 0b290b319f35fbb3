/**
 * The morning check: every area read concurrently, each within its own deadline, so one slow or dead
 * system makes its area UNKNOWN instead of holding up the report. Never throws for a sick component.
 */
import type {StoredOpsMessage} from '../adapters/nats/ops-events.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {humanSeconds} from '../alerts/model.js'
import {withDeadline} from '../core/check/deadline.js'
import {type CheckResult, sortWorstFirst} from '../core/check/result.js'
import {type Status, worstStatus} from '../core/check/status.js'
import type {ResolvedContext} from '../core/context-types.js'
import {round} from '../core/output/units.js'
import type {RunbookLookup} from './actions.js'
import {recommendActions} from './actions.js'
import {judgeAlerts, judgeBackups, judgeConsumers, judgeDrills, judgeEvents, judgeGpu, judgeHealth, type PendingSnapshot, snapshotOf, unknownArea} from './areas.js'
import type {AlertsArea, Area, ConsumersArea, DomainsArea, EventsArea, GpuArea, HealthArea, MorningReport} from './model.js'
import type {RateResult} from '../domains/rates.js'

export interface MorningOptions {
  /** Window looked back on, ms. */
  sinceMs: number
  backupsDir: string
  backupWarnMs: number
  backupCritMs: number
  drillWarnMs: number
  signal: AbortSignal
  /** The command's session: every area that reads NATS, the health check included, shares its one connection. */
  nats: NatsSession
  /** Where the previous check's backlog is kept; false: no trend, nothing written. */
  snapshotFile: string | false
  /** Runbook directories for the actions (default: the usual ones). */
  runbookDirs?: string[]
  now?: () => Date
}

/** Extra time an area gets beyond the per-call timeout: it may make a few calls in a row. */
const AREA_MARGIN_MS = 1500

export async function runMorningCheck(ctx: ResolvedContext, options: MorningOptions): Promise<MorningReport> {
  const started = performance.now()
  const now = (options.now ?? (() => new Date()))()
  const windowSeconds = options.sinceMs / 1000
  const deadlineMs = ctx.timeoutMs + AREA_MARGIN_MS
  const within = <T>(work: Promise<T>, what: string) =>
    withDeadline(work, deadlineMs, () => new Error(`${what} did not answer within ${humanSeconds(deadlineMs / 1000)}`))

  const [{runHealthCheck}, sources, trend] = await Promise.all([import('../health/service.js'), import('./sources.js'), import('./trend.js')])
  const {nats} = options
  const health = within(runHealthCheck(ctx, {signal: options.signal, now: () => now, nats}), 'the health check')
  const snapshot = options.snapshotFile === false ? Promise.resolve(undefined) : trend.readSnapshot(options.snapshotFile)

  const alertsArea = readAlerts(ctx, options.sinceMs, now, within)
  const eventsArea = within(readEvents(ctx, nats, windowSeconds, now), 'event rates').then(
    (rates): EventsArea => judgeEvents({...rates, windowSeconds}),
    (error): EventsArea => ({...unknownArea(error), source: 'none', domains: [], windowCount: null, ratePerSecond: null}),
  )
  const drillsArea = within(
    readOps(ctx, nats, ctx.streams.ops, 'cim.ops.drill.>').then((messages) => sources.drillsFromOps(messages, now)),
    'the ops log',
  ).then(
    (drills) => judgeDrills(drills, options.drillWarnMs / 1000),
    (error) => ({...unknownArea(error), warnSeconds: options.drillWarnMs / 1000}),
  )
  const fleet = within(readFleet(ctx, nats, now), 'the GPU fleet').then(sources.fleetNodes, (error: unknown) => ({error}))
  const backupsArea = sources.readBackupSets(options.backupsDir, now).then(
    (sets) => judgeBackups(options.backupsDir, sets, [ctx.streams.events, ctx.streams.ops], {warnSeconds: options.backupWarnMs / 1000, critSeconds: options.backupCritMs / 1000}),
    (error) => ({...unknownArea(error), dir: options.backupsDir, sets: 0, streams: [], warnSeconds: options.backupWarnMs / 1000, critSeconds: options.backupCritMs / 1000}),
  )
  const domainsArea = within(readDomains(ctx, nats, now), 'domain health').then(
    (report): DomainsArea => ({status: report.status, summary: report.summary, domains: report.domains.map((d) => ({domain: d.domain, status: d.status, summary: d.summary}))}),
    (error): DomainsArea => ({...unknownArea(error), domains: []}),
  )
  const lookup = runbookLookup(options.runbookDirs)

  const healthReport = await health.catch((error: unknown) => ({error}))
  const previous = await snapshot
  const healthArea: HealthArea = 'error' in healthReport ? {...unknownArea(healthReport.error), checks: []} : judgeHealth(healthReport)
  const checks = 'error' in healthReport ? [] : healthReport.checks
  const consumersArea: ConsumersArea = 'error' in healthReport ? {...unknownArea(healthReport.error), consumers: []} : judgeConsumers(checks, previous)
  const fleetResult = await fleet
  const gpuCheck = checks.find((c) => c.component === 'gpu')
  const gpuArea: GpuArea =
    'error' in fleetResult && !gpuCheck
      ? {...unknownArea(fleetResult.error), nodes: []}
      : judgeGpu(gpuCheck ? {status: gpuCheck.status, summary: gpuCheck.summary} : undefined, 'error' in fleetResult ? [] : fleetResult, 'error' in fleetResult ? unknownArea(fleetResult.error).error : undefined)

  const [alerts, events, drills, backups, domains, runbooks] = await Promise.all([alertsArea, eventsArea, drillsArea, backupsArea, domainsArea, lookup])
  const areas = {alerts, events, consumers: consumersArea, gpu: gpuArea, backups, drills, health: healthArea, domains}
  const checkedAt = now.toISOString()
  const actions = recommendActions({...areas, checkedAt}, runbooks)
  const areaChecks = toChecks(areas, ctx)
  const status = worstStatus(areaChecks.map((c) => c.status))
  const bad = sortWorstFirst(areaChecks).filter((c) => c.status !== 'OK')
  const summary = bad.length === 0 ? `all ${areaChecks.length} areas OK` : bad.slice(0, 4).map((c) => `${c.name}: ${c.summary}`).join('; ') + (bad.length > 4 ? `; and ${bad.length - 4} more` : '')

  if (options.snapshotFile !== false && consumersArea.consumers.length > 0) {
    await trend.writeSnapshot(options.snapshotFile, snapshotOf(consumersArea, checkedAt)).catch(() => {})
  }
  return {
    status,
    summary,
    checks: areaChecks,
    durationSeconds: round((performance.now() - started) / 1000, 3),
    checkedAt,
    ...(ctx.name ? {context: ctx.name} : {}),
    window: {seconds: windowSeconds, from: new Date(now.getTime() - options.sinceMs).toISOString()},
    ...areas,
    actions,
  }
}

type Within = <T>(work: Promise<T>, what: string) => Promise<T>

/** Most events counted per domain and window: the morning check wants a verdict quickly, not exact large counts. */
const MORNING_COUNT_LIMIT = 5000

/** `cimops domain health` with the context's thresholds and the default domain thresholds, every domain. */
async function readDomains(ctx: ResolvedContext, nats: NatsSession, now: Date) {
  const [{domainHealth}, {DEFAULT_DOMAIN_THRESHOLDS}, {consumerThresholds}] = await Promise.all([import('../domains/service.js'), import('../domains/model.js'), import('../streams/thresholds.js')])
  return domainHealth(ctx, {domains: [], consumerThresholds: consumerThresholds(ctx, {}), thresholds: DEFAULT_DOMAIN_THRESHOLDS, countLimit: MORNING_COUNT_LIMIT, nats, now: () => now})
}

/** The fleet as `cimops gpu nodes` sees it, on the shared connection; buckets that do not exist read as empty. */
async function readFleet(ctx: ResolvedContext, nats: NatsSession, now: Date) {
  const [{nc}, jsm, {openGpuFleet}, {listFleet}, {resolveGpuThresholds}] = await Promise.all([
    nats.connection(),
    nats.jsm(),
    import('../adapters/nats/gpu-kv.js'),
    import('../gpu/nodes.js'),
    import('../gpu/thresholds.js'),
  ])
  const store = await openGpuFleet(nc, jsm, ctx.nats, ctx.timeoutMs)
  const readOnly = {
    store,
    notes: [],
    publish: () => Promise.reject(new Error('the morning check publishes nothing')),
  }
  return listFleet(readOnly, {staleAfterSeconds: resolveGpuThresholds(ctx.gpu).healthStaleAfter, now})
}

async function readAlerts(ctx: ResolvedContext, sinceMs: number, now: Date, within: Within): Promise<AlertsArea> {
  const [{alertmanagerFor, prometheusFor}, {listAlerts}, {alertHistory}] = await Promise.all([import('../alerts/clients.js'), import('../alerts/list.js'), import('../alerts/history.js')])
  const history = within(
    prometheusFor(ctx).then((prometheus) => alertHistory(prometheus, {matchers: [], sinceMs, now})),
    'the alert history',
  ).then(
    (result) => result.episodes,
    (error: unknown) => ({error: unknownArea(error).error}),
  )
  try {
    const list = await within(alertmanagerFor(ctx).then((am) => listAlerts(am, {matchers: [], silenced: true, inhibited: true})), 'Alertmanager')
    return judgeAlerts(list.alerts, await history)
  } catch (error) {
    await history
    return {...unknownArea(error), active: [], suppressed: 0, overnight: []}
  }
}

async function readEvents(ctx: ResolvedContext, nats: NatsSession, windowSeconds: number, now: Date): Promise<RateResult & {source: EventsArea['source']; stream?: string}> {
  const [{prometheusFor}, {ratesFromPrometheus}, {ratesFromJetStream}] = await Promise.all([import('../alerts/clients.js'), import('../domains/rates.js'), import('./sources.js')])
  // Both at once: a Prometheus that does not answer must not delay the stream's figures past the deadline.
  const [fromPrometheus, fromStream] = await Promise.allSettled([
    prometheusFor(ctx).then((prometheus) => ratesFromPrometheus(prometheus, windowSeconds, now)),
    Promise.all([nats.connection(), nats.jsm()]).then(([{nc}, jsm]) => ratesFromJetStream(ctx, {nc, jsm}, windowSeconds, now)),
  ])
  const prometheus = fromPrometheus.status === 'fulfilled' ? fromPrometheus.value : undefined
  // The stream is the server's own count of what was stored; the monitor's counters only count since it
  // started (a window longer than its uptime undercounts), so they lend only the per-domain rate now.
  if (fromStream.status === 'fulfilled' && fromStream.value) return {...withRatesNow(fromStream.value, prometheus), source: 'jetstream'}
  if (prometheus) return {...prometheus, source: 'prometheus'}
  if (fromStream.status === 'rejected') throw fromStream.reason
  return {domains: [], windowCount: null, ratePerSecond: null, source: 'none'}
}

/** The stream's figures, each domain with Prometheus' rate now where it has one. */
function withRatesNow<T extends RateResult>(stream: T, prometheus: RateResult | undefined): T {
  if (!prometheus) return stream
  const now = new Map(prometheus.domains.map((domain) => [domain.domain, domain.ratePerSecond]))
  return {...stream, domains: stream.domains.map((domain) => ({...domain, ratePerSecond: now.get(domain.domain) ?? domain.ratePerSecond}))}
}

function toChecks(areas: Record<Area, {status: Status; summary: string}> & Pick<MorningReport, 'alerts' | 'events' | 'consumers' | 'backups' | 'drills' | 'health' | 'gpu' | 'domains'>, ctx: ResolvedContext): CheckResult[] {
  const {alerts, events, consumers, backups, drills, health, gpu, domains} = areas
  const maxLag = Math.max(0, ...consumers.consumers.map((c) => c.lagSeconds))
  const check = (name: Area, metrics: CheckResult['metrics']): CheckResult => ({name, component: 'morning', status: areas[name].status, summary: areas[name].summary, metrics})
  return [
    check('alerts', [
      {name: 'firing', value: alerts.active.length},
      {name: 'firing_critical', value: alerts.active.filter((a) => a.severity === 'critical').length, crit: 1},
      {name: 'episodes', value: alerts.overnight.length},
    ]),
    check('events', [...(events.windowCount === null ? [] : [{name: 'window', value: events.windowCount}]), ...(events.ratePerSecond === null ? [] : [{name: 'rate', value: round(events.ratePerSecond, 3)}])]),
    check('consumers', [
      {name: 'max_lag', value: round(maxLag, 3), unit: 's', warn: ctx.thresholds.lagWarn, crit: ctx.thresholds.lagCrit},
      {name: 'pending', value: consumers.consumers.reduce((sum, c) => sum + c.pending, 0)},
    ]),
    check('gpu', [{name: 'nodes_not_active', value: gpu.nodes.filter((n) => n.state !== 'active').length}]),
    check('backups', backups.newest ? [{name: 'backup_age', value: backups.newest.ageSeconds, unit: 's', warn: backups.warnSeconds, crit: backups.critSeconds}] : []),
    check('drills', drills.lastSuccessful ? [{name: 'drill_age', value: drills.lastSuccessful.ageSeconds, unit: 's', warn: drills.warnSeconds}] : []),
    check('health', health.score === undefined ? [] : [{name: 'score', value: health.score}]),
    check('domains', [{name: 'domains_not_ok', value: domains.domains.filter((d) => d.status !== 'OK').length}]),
  ]
}

/** Every message of `filter` on `stream`; a missing stream reads as empty. */
async function readOps(ctx: ResolvedContext, nats: NatsSession, stream: string, filter: string): Promise<StoredOpsMessage[]> {
  const [{nc}, jsm, {openOpsLog}] = await Promise.all([nats.connection(), nats.jsm(), import('../adapters/nats/ops-events.js')])
  return (await openOpsLog(nc, jsm, ctx.nats, stream, ctx.timeoutMs)).read(filter)
}

/** The runbooks the actions link to, by alert and by id; no runbooks is no links, not an error. */
async function runbookLookup(dirs?: string[]): Promise<RunbookLookup> {
  const {loadRunbooks, runbookDirs, runbooksForAlert} = await import('../runbooks/load.js')
  const library = await loadRunbooks(dirs ?? runbookDirs()).catch(() => undefined)
  const ref = (runbook: {id: string; params: Array<{name: string}>}) => ({id: runbook.id, params: runbook.params.map((p) => p.name)})
  return {
    forAlert: (alertname) => {
      const found = library ? runbooksForAlert(library, alertname)[0] : undefined
      return found ? ref(found) : undefined
    },
    byId: (id) => {
      const found = library?.runbooks.find((r) => r.id === id)
      return found ? ref(found) : undefined
    },
  }
}

export type {PendingSnapshot}
