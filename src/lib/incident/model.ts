/**
 * Incidents as events (DESIGN.md "CIM conventions"): each event is a message on
 * `cim.ops.incident.<id>.<type>` in the ops log, in CIM's event envelope; an incident is their fold.
 */
import type {Actor} from '../core/actor.js'

export const SEVERITIES = ['critical', 'major', 'minor'] as const
export type Severity = (typeof SEVERITIES)[number]

/**
 * Alertmanager's severities (those of the project's alert rules), as the incident severity of the same
 * rank, so `--severity warning` copied from an alert is understood: the routing pages critical, sends
 * warning to the secondary on-call, and info to chat.
 */
export const ALERT_SEVERITY_ALIASES = {warning: 'major', info: 'minor'} as const satisfies Record<string, Severity>

export const CHANNELS = ['alertmanager', 'pagerduty', 'slack'] as const
export type Channel = (typeof CHANNELS)[number]

/** What a notification asks of its channel: open the page, or close it. */
export type NotificationAction = 'trigger' | 'resolve'

/** A compact health-check result and the alerts firing when the incident was declared. */
export interface IncidentSnapshot {
  /** RFC 3339 */
  takenAt: string
  health?: {
    status: string
    summary: string
    score: number
    checks: Array<{name: string; component: string; status: string; summary: string}>
  }
  /** Why the health check could not run. */
  healthError?: string
  firingAlerts?: Array<{alertname: string; severity?: string; summary?: string; startsAt: string}>
  alertsError?: string
}

export interface IncidentEventData {
  IncidentDeclared: {title: string; severity: Severity; summary?: string; commander?: string; snapshot?: IncidentSnapshot}
  IncidentNoteAdded: {text: string}
  IncidentSeverityChanged: {from: Severity; to: Severity}
  IncidentCommanderAssigned: {commander: string; previous?: string}
  IncidentResolved: {note?: string}
  IncidentNotificationSent: {channel: Channel; action: NotificationAction; attempts: number}
  IncidentNotificationFailed: {channel: Channel; action: NotificationAction; attempts: number; error: string}
}

export type IncidentEventType = keyof IncidentEventData

export const INCIDENT_EVENT_TYPES: readonly IncidentEventType[] = [
  'IncidentDeclared',
  'IncidentNoteAdded',
  'IncidentSeverityChanged',
  'IncidentCommanderAssigned',
  'IncidentResolved',
  'IncidentNotificationSent',
  'IncidentNotificationFailed',
]

/** CIM's event envelope with the ops domain's `actor`. */
export type IncidentEvent = {
  [K in IncidentEventType]: {
    /** UUID; also the message id (deduplication), so a retried publish is stored once. */
    id: string
    type: K
    domain: 'ops'
    aggregateType: 'incident'
    /** The incident id, INC-YYYYMMDD-N. */
    aggregateId: string
    /** RFC 3339 */
    occurredAt: string
    actor: Actor
    data: IncidentEventData[K]
  }
}[IncidentEventType]

export type IncidentEventOf<K extends IncidentEventType> = Extract<IncidentEvent, {type: K}>

export interface NotificationState {
  action: NotificationAction
  outcome: 'sent' | 'failed'
  /** RFC 3339 */
  at: string
  attempts: number
  error?: string
}

export interface TimelineEntry {
  /** RFC 3339 */
  at: string
  /** user@host */
  by: string
  type: IncidentEventType
  text: string
}

export interface Incident {
  id: string
  title: string
  severity: Severity
  status: 'open' | 'resolved'
  summary?: string
  commander?: string
  declaredAt: string
  declaredBy: Actor
  resolvedAt?: string
  resolvedBy?: Actor
  resolution?: string
  /** Time of the latest event. */
  updatedAt: string
  /** Every severity the incident has had, current last: each is an Alertmanager label set to resolve. */
  severities: Severity[]
  notes: Array<{at: string; by: Actor; text: string}>
  /** The latest outcome per channel. */
  notifications: Partial<Record<Channel, NotificationState>>
  snapshot?: IncidentSnapshot
  timeline: TimelineEntry[]
}

export const INCIDENT_SUBJECT_PREFIX = 'cim.ops.incident'
/** Per-day id counters live beside the incidents, outside `cim.ops.incident.>`. */
export const INCIDENT_COUNTER_PREFIX = 'cim.ops.incident-ids'

export function incidentSubject(id: string, type: IncidentEventType): string {
  return `${INCIDENT_SUBJECT_PREFIX}.${id}.${type}`
}

/** All events of one incident, or of all incidents. */
export function incidentFilter(id?: string): string {
  return id ? `${INCIDENT_SUBJECT_PREFIX}.${id}.>` : `${INCIDENT_SUBJECT_PREFIX}.>`
}

const INCIDENT_ID = /^INC-(\d{8})-([1-9]\d*)$/

/** INC-YYYYMMDD-N, the date in UTC. */
export function formatIncidentId(day: string, n: number): string {
  return `INC-${day}-${n}`
}

/** YYYYMMDD in UTC. */
export function incidentDay(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '')
}

/** The canonical form of an id typed by a person (case-insensitive), or undefined when it is not one. */
export function normalizeIncidentId(text: string): string | undefined {
  const upper = text.trim().toUpperCase()
  return INCIDENT_ID.test(upper) ? upper : undefined
}

