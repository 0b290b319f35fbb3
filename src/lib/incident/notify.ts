/**
 * Telling people: the `IncidentDeclared` alert in Alertmanager (so the team's existing routes page the
 * on-call), and optionally PagerDuty Events v2 and a Slack webhook straight from the context.
 * Payloads and what is still owed are pure functions; delivery retries with backoff and never throws:
 * every attempt ends as an outcome the caller records as an event.
 */
import type {AlertmanagerClient, PostableAlert} from '../adapters/alertmanager/client.js'
import type {PagerDutyClient, PagerDutyEvent, PagerDutySeverity} from '../adapters/notify/pagerduty.js'
import {type RetryPolicy, withRetry} from '../adapters/notify/retry.js'
import {type SlackClient, type SlackMessage, slackEscape} from '../adapters/notify/slack.js'
import {actorName} from '../core/actor.js'
import {redactString} from '../core/redact.js'
import {formatAge, incidentDurationSeconds} from './fold.js'
import {type Channel, type Incident, type NotificationAction, type Severity} from './model.js'

export const INCIDENT_ALERTNAME = 'IncidentDeclared'
/**
 * endsAt of an open incident's alert: explicit, so Alertmanager's resolve_timeout does not close it, and
 * far enough ahead that the alert stays firing between incident commands (each re-posts it).
 */
export const ALERT_HOLD_MS = 12 * 60 * 60 * 1000

export const PAGERDUTY_SEVERITY: Record<Severity, PagerDutySeverity> = {critical: 'critical', major: 'error', minor: 'warning'}

export interface NotificationOutcome {
  channel: Channel
  action: NotificationAction
  outcome: 'sent' | 'failed'
  attempts: number
  error?: string
}

export function actionFor(incident: Incident): NotificationAction {
  return incident.status === 'open' ? 'trigger' : 'resolve'
}

/**
 * The incident's alerts: its current label set firing until now + hold (or resolved, endsAt now), and
 * the label sets of its earlier severities resolved (a severity change makes a new alert in Alertmanager).
 */
export function incidentAlerts(incident: Incident, now: Date, holdMs = ALERT_HOLD_MS): PostableAlert[] {
  const annotations: Record<string, string> = {title: incident.title, summary: incident.summary ?? incident.title}
  if (incident.commander) annotations.commander = incident.commander
  const startsAt = incident.declaredAt
  // endsAt may not be before startsAt; a clock behind the declarer's must not make the post invalid.
  const nowIso = new Date(Math.max(now.getTime(), Date.parse(startsAt))).toISOString()
  const endsOpen = new Date(Math.max(now.getTime(), Date.parse(startsAt)) + holdMs).toISOString()
  return incident.severities.map((severity) => ({
    labels: {alertname: INCIDENT_ALERTNAME, incident: incident.id, severity},
    annotations,
    startsAt,
    endsAt: incident.status === 'open' && severity === incident.severity ? endsOpen : nowIso,
  }))
}

export function pagerDutyEvent(incident: Incident, action: NotificationAction, origin: {source: string; group?: string}): PagerDutyEvent {
  if (action === 'resolve') return {action: 'resolve', dedupKey: incident.id}
  return {
    action: 'trigger',
    dedupKey: incident.id,
    summary: `[${incident.id}] ${incident.title}`,
    source: origin.source,
    severity: PAGERDUTY_SEVERITY[incident.severity],
    timestamp: incident.declaredAt,
    component: 'cim',
    ...(origin.group ? {group: origin.group} : {}),
    class: 'incident',
    customDetails: {
      incident: incident.id,
      severity: incident.severity,
      ...(incident.summary ? {summary: incident.summary} : {}),
      ...(incident.commander ? {commander: incident.commander} : {}),
      declaredBy: actorName(incident.declaredBy),
    },
  }
}

export function slackMessage(incident: Incident, action: NotificationAction, now: Date): SlackMessage {
  const e = slackEscape
  if (action === 'resolve') {
    const took = formatAge(incidentDurationSeconds(incident, now))
    const lines = [`:white_check_mark: *${incident.id}* resolved after ${took}: ${e(incident.title)}`]
    if (incident.resolution) lines.push(`Resolution: ${e(incident.resolution)}`)
    if (incident.resolvedBy) lines.push(`Resolved by ${e(actorName(incident.resolvedBy))}`)
    return {text: lines.join('\n')}
  }
  const lines = [`:rotating_light: *${incident.id}* declared, *${incident.severity}*: ${e(incident.title)}`]
  lines.push(`Commander: ${e(incident.commander ?? 'unassigned')} · declared by ${e(actorName(incident.declaredBy))}`)
  if (incident.summary) lines.push(`> ${e(incident.summary)}`)
  return {text: lines.join('\n')}
}

/** Direct channels (PagerDuty, Slack) still owed the action the incident's status calls for: never sent, or failed. */
export type DirectChannel = Exclude<Channel, 'alertmanager'>

export function pendingDirect(incident: Incident, configured: readonly Channel[]): Array<{channel: DirectChannel; action: NotificationAction}> {
  const action = actionFor(incident)
  return configured
    .filter((channel): channel is DirectChannel => channel !== 'alertmanager')
    .filter((channel) => {
      const state = incident.notifications[channel]
      return !state || state.action !== action || state.outcome !== 'sent'
    })
    .map((channel) => ({channel, action}))
}

/** Whether an Alertmanager outcome is news for the incident (keep-alive posts that change nothing are not recorded). */
export function alertmanagerOutcomeIsNews(incident: Incident, outcome: NotificationOutcome): boolean {
  const state = incident.notifications.alertmanager
  return !state || state.action !== outcome.action || state.outcome !== outcome.outcome
}

export interface NotifyDeps {
  alertmanager: Pick<AlertmanagerClient, 'postAlerts'>
  /** Created on first use; a configuration error (unreadable key file) becomes a failed outcome. */
  pagerduty?: () => Promise<PagerDutyClient>
  slack?: () => Promise<SlackClient>
  retry: RetryPolicy
  signal: AbortSignal
  origin: {source: string; group?: string}
}

export function configuredChannels(deps: NotifyDeps): Channel[] {
  return ['alertmanager', ...(deps.pagerduty ? (['pagerduty'] as const) : []), ...(deps.slack ? (['slack'] as const) : [])]
}

/** One POST of the given alerts, retried within the policy's deadline; the outcome is reported for `action`. */
export async function postIncidentAlerts(deps: NotifyDeps, alerts: PostableAlert[], action: NotificationAction, retry = deps.retry): Promise<NotificationOutcome> {
  if (alerts.length === 0) return {channel: 'alertmanager', action, outcome: 'sent', attempts: 0}
  const result = await withRetry((_attempt, budgetMs) => deps.alertmanager.postAlerts(alerts, budgetMs), retry, {signal: deps.signal})
  return toOutcome('alertmanager', action, result)
}

export async function sendDirect(deps: NotifyDeps, incident: Incident, channel: DirectChannel, action: NotificationAction, now: Date): Promise<NotificationOutcome> {
  let call: (attempt: number, budgetMs: number) => Promise<void>
  try {
    if (channel === 'pagerduty') {
      const client = await deps.pagerduty!()
      const event = pagerDutyEvent(incident, action, deps.origin)
      call = (_attempt, budgetMs) => client.send(event, budgetMs)
    } else {
      const client = await deps.slack!()
      const message = slackMessage(incident, action, now)
      call = (_attempt, budgetMs) => client.post(message, budgetMs)
    }
  } catch (error) {
    return {channel, action, outcome: 'failed', attempts: 0, error: describeError(error)}
  }
  return toOutcome(channel, action, await withRetry(call, deps.retry, {signal: deps.signal}))
}

function toOutcome(channel: Channel, action: NotificationAction, result: Awaited<ReturnType<typeof withRetry<unknown>>>): NotificationOutcome {
  return result.ok
    ? {channel, action, outcome: 'sent', attempts: result.attempts}
    : {channel, action, outcome: 'failed', attempts: result.attempts, error: describeError(result.error)}
}

export function describeError(error: unknown): string {
  // What failed and why, without the hint: it is stored in events and shown in tables.
  const text = error instanceof Error ? error.message : String(error)
  return redactString(text)
}
