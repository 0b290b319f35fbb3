import {randomUUID} from 'node:crypto'
import * as z from 'zod'

import type {Actor} from '../core/actor.js'
import {redact} from '../core/redact.js'
import {CHANNELS, type IncidentEvent, type IncidentEventData, type IncidentEventOf, type IncidentEventType, SEVERITIES} from './model.js'

/** A new event in the envelope, secrets masked (events are shared history: nothing secret may go in). */
export function incidentEvent<K extends IncidentEventType>(type: K, incidentId: string, actor: Actor, data: IncidentEventData[K], at: Date): IncidentEventOf<K> {
  return redact({
    id: randomUUID(),
    type,
    domain: 'ops',
    aggregateType: 'incident',
    aggregateId: incidentId,
    occurredAt: at.toISOString(),
    actor,
    data: withoutUndefinedDeep(data),
  }) as unknown as IncidentEventOf<K>
}

const Severity = z.enum(SEVERITIES)
const Channel = z.enum(CHANNELS)
const Action = z.enum(['trigger', 'resolve'])
const ActorSchema = z.object({user: z.string(), host: z.string()})

const Snapshot = z.object({
  takenAt: z.string(),
  health: z
    .object({
      status: z.string(),
      summary: z.string(),
      score: z.number(),
      checks: z.array(z.object({name: z.string(), component: z.string(), status: z.string(), summary: z.string()})),
    })
    .optional(),
  healthError: z.string().optional(),
  firingAlerts: z.array(z.object({alertname: z.string(), severity: z.string().optional(), summary: z.string().optional(), startsAt: z.string()})).optional(),
  alertsError: z.string().optional(),
})

const DATA = {
  IncidentDeclared: z.object({title: z.string(), severity: Severity, summary: z.string().optional(), commander: z.string().optional(), snapshot: Snapshot.optional()}),
  IncidentNoteAdded: z.object({text: z.string()}),
  IncidentSeverityChanged: z.object({from: Severity, to: Severity}),
  IncidentCommanderAssigned: z.object({commander: z.string(), previous: z.string().optional()}),
  IncidentResolved: z.object({note: z.string().optional()}),
  IncidentNotificationSent: z.object({channel: Channel, action: Action, attempts: z.number().int().nonnegative()}),
  IncidentNotificationFailed: z.object({channel: Channel, action: Action, attempts: z.number().int().nonnegative(), error: z.string()}),
} satisfies {[K in IncidentEventType]: z.ZodType<IncidentEventData[K]>}

const Envelope = z.object({
  id: z.string(),
  type: z.enum(Object.keys(DATA) as [IncidentEventType, ...IncidentEventType[]]),
  domain: z.literal('ops'),
  aggregateType: z.literal('incident'),
  aggregateId: z.string(),
  occurredAt: z.string(),
  actor: ActorSchema,
  data: z.unknown(),
})

/**
 * An event read back from the stream, or undefined when the message is not a valid incident event
 * (another tool's message, a newer event type): the fold skips it rather than fail the whole read.
 * The subject must agree with the envelope, so a message cannot claim another incident.
 */
export function parseIncidentEvent(subject: string, body: unknown): IncidentEvent | undefined {
  const envelope = Envelope.safeParse(body)
  if (!envelope.success) return undefined
  const {type, aggregateId} = envelope.data
  if (subject !== `cim.ops.incident.${aggregateId}.${type}`) return undefined
  const data = DATA[type].safeParse(envelope.data.data)
  if (!data.success) return undefined
  return {...envelope.data, data: data.data} as IncidentEvent
}

function withoutUndefinedDeep<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
