/**
 * An incident is the fold of its events, in stream order (pure: no clock, no I/O). Events before the
 * declaration, or for another incident, are ignored; so is a second declaration.
 */
import {type Actor, actorName} from '../core/actor.js'
import {formatDuration} from '../core/duration.js'
import {type Incident, type IncidentEvent, type TimelineEntry} from './model.js'

export function foldIncident(events: readonly IncidentEvent[]): Incident | undefined {
  let incident: Incident | undefined
  for (const event of events) incident = applyEvent(incident, event)
  return incident
}

/** Every incident in the events, in order of declaration. */
export function foldIncidents(events: readonly IncidentEvent[]): Incident[] {
  const byId = new Map<string, Incident | undefined>()
  for (const event of events) {
    const next = applyEvent(byId.get(event.aggregateId), event)
    if (next) byId.set(event.aggregateId, next)
  }
  return [...byId.values()].filter((incident): incident is Incident => incident !== undefined)
}

export function applyEvent(incident: Incident | undefined, event: IncidentEvent): Incident | undefined {
  if (event.type === 'IncidentDeclared') {
    if (incident) return incident
    const {title, severity, summary, commander, snapshot} = event.data
    return {
      id: event.aggregateId,
      title,
      severity,
      status: 'open',
      ...(summary ? {summary} : {}),
      ...(commander ? {commander} : {}),
      declaredAt: event.occurredAt,
      declaredBy: event.actor,
      updatedAt: event.occurredAt,
      severities: [severity],
      notes: [],
      notifications: {},
      ...(snapshot ? {snapshot} : {}),
      timeline: [entry(event, `declared ${severity}: ${title}${commander ? ` (commander ${commander})` : ''}`)],
    }
  }
  if (!incident || incident.id !== event.aggregateId) return incident
  const next: Incident = {...incident, updatedAt: event.occurredAt, timeline: incident.timeline}
  switch (event.type) {
    case 'IncidentNoteAdded': {
      next.notes = [...incident.notes, {at: event.occurredAt, by: event.actor, text: event.data.text}]
      return withEntry(next, event, event.data.text)
    }
    case 'IncidentSeverityChanged': {
      next.severity = event.data.to
      next.severities = [...incident.severities.filter((s) => s !== event.data.to), event.data.to]
      return withEntry(next, event, `severity ${event.data.from} -> ${event.data.to}`)
    }
    case 'IncidentCommanderAssigned': {
      next.commander = event.data.commander
      return withEntry(next, event, `commander ${event.data.commander}${event.data.previous ? ` (was ${event.data.previous})` : ''}`)
    }
    case 'IncidentResolved': {
      if (incident.status === 'resolved') return incident
      next.status = 'resolved'
      next.resolvedAt = event.occurredAt
      next.resolvedBy = event.actor
      if (event.data.note) next.resolution = event.data.note
      return withEntry(next, event, `resolved${event.data.note ? `: ${event.data.note}` : ''}`)
    }
    case 'IncidentNotificationSent': {
      const {channel, action, attempts} = event.data
      next.notifications = {...incident.notifications, [channel]: {action, outcome: 'sent', at: event.occurredAt, attempts}}
      return withEntry(next, event, `${channel} ${action} sent${attempts > 1 ? ` after ${attempts} attempts` : ''}`)
    }
    case 'IncidentNotificationFailed': {
      const {channel, action, attempts, error} = event.data
      next.notifications = {...incident.notifications, [channel]: {action, outcome: 'failed', at: event.occurredAt, attempts, error}}
      return withEntry(next, event, `${channel} ${action} FAILED after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${error}`)
    }
    default: {
      return incident
    }
  }
}

/** Seconds from declaration to resolution, or to `now` while open. */
export function incidentDurationSeconds(incident: Incident, now: Date): number {
  const end = incident.resolvedAt ? Date.parse(incident.resolvedAt) : now.getTime()
  return Math.max(0, Math.round((end - Date.parse(incident.declaredAt)) / 1000))
}

/** Whole seconds for people: 42s, 3m20s, 2h5m. */
export function formatAge(seconds: number): string {
  return seconds < 60 ? `${Math.max(0, Math.round(seconds))}s` : formatDuration(Math.round(seconds) * 1000)
}

function withEntry(incident: Incident, event: IncidentEvent, text: string): Incident {
  return {...incident, timeline: [...incident.timeline, entry(event, text)]}
}

function entry(event: IncidentEvent, text: string): TimelineEntry {
  return {at: event.occurredAt, by: actorName(event.actor as Actor), type: event.type, text}
}
