/**
 * The incident operations behind `cimops incident ...`. Every one works on the fold of the events in the
 * ops log, appends what happened as new events, and keeps the Alertmanager alerts of open incidents
 * alive. Notification failures never fail the recording: they are retried, reported and recorded.
 */
import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'

import type {PostableAlert} from '../adapters/alertmanager/client.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {DEFAULT_RETRY, type RetryPolicy} from '../adapters/notify/retry.js'
import {type Actor, actorName, resolveActor} from '../core/actor.js'
import type {ResolvedContext} from '../core/context-types.js'
import {InterruptedError, OperationError} from '../core/errors.js'
import {incidentEvent} from './events.js'
import {applyEvent, foldIncident, incidentDurationSeconds} from './fold.js'
import {allocateIncidentId} from './id.js'
import {type Channel, type Incident, type IncidentEvent, type NotificationState, type Severity} from './model.js'
import {
  actionFor,
  ALERT_HOLD_MS,
  alertmanagerOutcomeIsNews,
  configuredChannels,
  incidentAlerts,
  type NotificationOutcome,
  type NotifyDeps,
  pendingDirect,
  postIncidentAlerts,
  sendDirect,
} from './notify.js'
import {type IncidentStore, unknownIncident, withIncidentStore} from './store.js'

export interface IncidentOptions {
  signal: AbortSignal
  /** --actor; default the OS user. */
  actor?: string
  now?: () => Date
  /** Retries of notifier calls (429, 5xx, unreachable), within a total deadline. */
  retry?: RetryPolicy
  /** Called once the declaration is stored, before anyone is notified: from here on the incident exists. */
  onRecorded?: (id: string) => void
  /** The command's session; without one every call opens its own. */
  nats?: NatsSession
}

export interface IncidentView extends Incident {
  /** Declared to resolved, or to now while open. */
  durationSeconds: number
}

export interface IncidentActionResult {
  incident: IncidentView
  /** What this command sent, and how it went. */
  notifications: NotificationOutcome[]
  /** Notification failures and other problems that did not stop the command; also printed on stderr. */
  warnings: string[]
}

export interface IncidentSummary {
  id: string
  title: string
  severity: Severity
  status: Incident['status']
  commander?: string
  declaredAt: string
  declaredBy: Actor
  resolvedAt?: string
  durationSeconds: number
  notifications: Partial<Record<Channel, NotificationState>>
}

export interface IncidentListResult {
  scope: 'open' | 'all'
  incidents: IncidentSummary[]
  warnings: string[]
}

export interface IncidentShowResult {
  incident: IncidentView
  warnings: string[]
}

export interface DeclareInput {
  title: string
  severity: Severity
  summary?: string
  commander?: string
  /** Record the health-check result and firing alerts (default true). */
  snapshot?: boolean
}

export interface NoteInput {
  text: string
  severity?: Severity
  commander?: string
}

/** Reads do not wait for retries: one keep-alive post, a warning if it fails. */
const READ_RETRY: RetryPolicy = {attempts: 1, baseDelayMs: 0, maxDelayMs: 0}

export async function declareIncident(ctx: ResolvedContext, input: DeclareInput, options: IncidentOptions): Promise<IncidentActionResult> {
  const clock = options.now ?? (() => new Date())
  const actor = resolveActor(options.actor)
  const now = clock()
  const deps = await notifyDeps(ctx, options)
  return withIncidentStore(ctx, {create: true, nats: options.nats}, async (store) => {
    const snapshotting = input.snapshot === false ? undefined : import('./snapshot.js').then(({takeSnapshot}) => takeSnapshot(ctx, {signal: options.signal, now, nats: options.nats}))
    const {id} = await allocateIncidentId(store.log, {now, declarationId: randomUUID(), signal: options.signal})
    const snapshot = await snapshotting
    const declared = incidentEvent('IncidentDeclared', id, actor, {title: input.title, severity: input.severity, summary: input.summary, commander: input.commander, snapshot}, now)
    await store.append([declared])
    options.onRecorded?.(id)
    const {incidents} = await store.incidents()
    const target = incidents.find((incident) => incident.id === id) ?? foldIncident([declared])!
    return finish(store, deps, target, incidents, actor, clock, 'always')
  })
}

export async function addNote(ctx: ResolvedContext, id: string, input: NoteInput, options: IncidentOptions): Promise<IncidentActionResult> {
  const clock = options.now ?? (() => new Date())
  const actor = resolveActor(options.actor)
  const deps = await notifyDeps(ctx, options)
  return withIncidentStore(ctx, {create: true, nats: options.nats}, async (store) => {
    const {incidents} = await store.incidents()
    const target = find(incidents, id)
    const now = clock()
    const events: IncidentEvent[] = [incidentEvent('IncidentNoteAdded', id, actor, {text: input.text}, now)]
    const severityChanged = input.severity !== undefined && input.severity !== target.severity
    if (severityChanged) events.push(incidentEvent('IncidentSeverityChanged', id, actor, {from: target.severity, to: input.severity!}, now))
    if (input.commander !== undefined && input.commander !== target.commander) {
      events.push(incidentEvent('IncidentCommanderAssigned', id, actor, {commander: input.commander, previous: target.commander}, now))
    }
    await store.append(events)
    return finish(store, deps, fold(target, events), incidents, actor, clock, severityChanged ? 'always' : 'if-news')
  })
}

export async function resolveIncident(ctx: ResolvedContext, id: string, input: {note?: string}, options: IncidentOptions): Promise<IncidentActionResult> {
  const clock = options.now ?? (() => new Date())
  const actor = resolveActor(options.actor)
  const deps = await notifyDeps(ctx, options)
  return withIncidentStore(ctx, {create: true, nats: options.nats}, async (store) => {
    const {incidents} = await store.incidents()
    const target = find(incidents, id)
    if (target.status === 'resolved') {
      throw new OperationError(`${id} is already resolved`, `resolved at ${target.resolvedAt} by ${actorName(target.resolvedBy!)}`, {
        hint: `add to it with \`cimops incident note ${id} TEXT\`; \`cimops incident notify ${id}\` retries failed notifications`,
      })
    }
    const resolved = incidentEvent('IncidentResolved', id, actor, {note: input.note}, clock())
    await store.append([resolved])
    return finish(store, deps, fold(target, [resolved]), incidents, actor, clock, 'always')
  })
}

/** Re-posts the Alertmanager alert and retries the direct notifications not yet delivered. */
export async function notifyIncident(ctx: ResolvedContext, id: string, options: IncidentOptions): Promise<IncidentActionResult> {
  const clock = options.now ?? (() => new Date())
  const actor = resolveActor(options.actor)
  const deps = await notifyDeps(ctx, options)
  return withIncidentStore(ctx, {create: true, nats: options.nats}, async (store) => {
    const {incidents} = await store.incidents()
    return finish(store, deps, find(incidents, id), incidents, actor, clock, 'always')
  })
}

export async function listIncidents(ctx: ResolvedContext, {all}: {all: boolean}, options: IncidentOptions): Promise<IncidentListResult> {
  const now = (options.now ?? (() => new Date()))()
  const deps = await notifyDeps(ctx, options)
  const {incidents, skipped} = await withIncidentStore(ctx, {create: false, nats: options.nats}, (store) => store.incidents())
  const open = incidents.filter((incident) => incident.status === 'open')
  const warnings = skippedWarning(skipped)
  warnings.push(...(await keepAlive(deps, open, now)))
  const shown = (all ? incidents : open).toReversed().map((incident) => summarize(incident, now))
  return {scope: all ? 'all' : 'open', incidents: shown, warnings}
}

export async function showIncident(ctx: ResolvedContext, id: string, options: IncidentOptions): Promise<IncidentShowResult> {
  const now = (options.now ?? (() => new Date()))()
  const deps = await notifyDeps(ctx, options)
  const {events, skipped} = await withIncidentStore(ctx, {create: false, nats: options.nats}, (store) => store.events(id))
  const incident = foldIncident(events)
  if (!incident) throw unknownIncident(id)
  const warnings = skippedWarning(skipped)
  if (incident.status === 'open') warnings.push(...(await keepAlive(deps, [incident], now)))
  return {incident: view(incident, now), warnings}
}

/**
 * Sends what the target incident is owed (its Alertmanager alert together with the keep-alive of the
 * other open incidents; PagerDuty and Slack where not yet delivered), records the outcomes as events,
 * and returns the incident as it stands.
 */
async function finish(
  store: IncidentStore,
  deps: NotifyDeps,
  target: Incident,
  incidents: Incident[],
  actor: Actor,
  clock: () => Date,
  recordAlertmanager: 'always' | 'if-news',
): Promise<IncidentActionResult> {
  const now = clock()
  const others = incidents.filter((incident) => incident.status === 'open' && incident.id !== target.id)
  const alerts: PostableAlert[] = [...incidentAlerts(target, now), ...others.flatMap((incident) => incidentAlerts(incident, now))]
  let outcomes: NotificationOutcome[]
  try {
    outcomes = await Promise.all([
      postIncidentAlerts(deps, alerts, actionFor(target)),
      ...pendingDirect(target, configuredChannels(deps)).map(({channel, action}) => sendDirect(deps, target, channel, action, now)),
    ])
  } catch (error) {
    // What this command recorded stays recorded: running it again would record it twice.
    if (deps.signal.aborted) {
      throw new InterruptedError(`interrupted while notifying for ${target.id}`, {
        hint: `${target.id} is recorded; send its notifications with \`cimops incident notify ${target.id}\``,
      })
    }
    throw error
  }
  const recorded = outcomes.filter((outcome) => outcome.channel !== 'alertmanager' || recordAlertmanager === 'always' || alertmanagerOutcomeIsNews(target, outcome))
  const at = clock()
  const events = recorded.map((o) =>
    o.outcome === 'sent'
      ? incidentEvent('IncidentNotificationSent', target.id, actor, {channel: o.channel, action: o.action, attempts: o.attempts}, at)
      : incidentEvent('IncidentNotificationFailed', target.id, actor, {channel: o.channel, action: o.action, attempts: o.attempts, error: o.error ?? 'unknown error'}, at),
  )
  await store.append(events)
  const warnings = outcomes
    .filter((o) => o.outcome === 'failed')
    .map((o) => `${o.channel} ${o.action} failed${o.attempts > 0 ? ` after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}` : ''}: ${o.error} (the incident is recorded; retry with \`cimops incident notify ${target.id}\`)`)
  return {incident: view(fold(target, events), at), notifications: outcomes, warnings}
}

async function keepAlive(deps: NotifyDeps, open: Incident[], now: Date): Promise<string[]> {
  if (open.length === 0) return []
  const outcome = await postIncidentAlerts(deps, open.flatMap((incident) => incidentAlerts(incident, now)), 'trigger', READ_RETRY)
  if (outcome.outcome === 'sent') return []
  const hours = ALERT_HOLD_MS / 3_600_000
  return [`could not re-post the alerts of ${open.length} open incident${open.length === 1 ? '' : 's'} to Alertmanager: ${outcome.error} (each stays firing until ${hours}h after its last successful post)`]
}

async function notifyDeps(ctx: ResolvedContext, options: IncidentOptions): Promise<NotifyDeps> {
  const {createAlertmanagerClient} = await import('../adapters/alertmanager/client.js')
  const {pagerduty, slack} = ctx.notifiers ?? {}
  return {
    alertmanager: createAlertmanagerClient(ctx.alertmanager, ctx.timeoutMs),
    pagerduty: pagerduty ? once(async () => (await import('../adapters/notify/pagerduty.js')).createPagerDutyClient(pagerduty, ctx.timeoutMs)) : undefined,
    slack: slack ? once(async () => (await import('../adapters/notify/slack.js')).createSlackClient(slack, ctx.timeoutMs)) : undefined,
    // The deadline leaves room for at least one attempt with the whole --timeout.
    retry: options.retry ?? {...DEFAULT_RETRY, totalMs: Math.max(DEFAULT_RETRY.totalMs ?? 0, ctx.timeoutMs)},
    signal: options.signal,
    origin: {source: ctx.name ? `cimops/${ctx.name}` : `cimops@${hostname()}`, ...(ctx.name ? {group: ctx.name} : {})},
  }
}

function find(incidents: Incident[], id: string): Incident {
  const incident = incidents.find((candidate) => candidate.id === id)
  if (!incident) throw unknownIncident(id)
  return incident
}

function fold(incident: Incident, events: IncidentEvent[]): Incident {
  return events.reduce<Incident>((state, event) => applyEvent(state, event) ?? state, incident)
}

function view(incident: Incident, now: Date): IncidentView {
  return {...incident, durationSeconds: incidentDurationSeconds(incident, now)}
}

function summarize(incident: Incident, now: Date): IncidentSummary {
  return {
    id: incident.id,
    title: incident.title,
    severity: incident.severity,
    status: incident.status,
    ...(incident.commander ? {commander: incident.commander} : {}),
    declaredAt: incident.declaredAt,
    declaredBy: incident.declaredBy,
    ...(incident.resolvedAt ? {resolvedAt: incident.resolvedAt} : {}),
    durationSeconds: incidentDurationSeconds(incident, now),
    notifications: incident.notifications,
  }
}

function skippedWarning(skipped: number): string[] {
  return skipped > 0 ? [`${skipped} message${skipped === 1 ? '' : 's'} on cim.ops.incident.> ${skipped === 1 ? 'is' : 'are'} not valid incident events and were skipped`] : []
}

function once<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined
  return () => (value ??= create())
}
