/** Incidents in the ops log: on the command's NATS session, events read, folded and appended. */
import type {OpsLog} from '../adapters/nats/ops-events.js'
import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import {NotFoundError, UsageError} from '../core/errors.js'
import {parseIncidentEvent} from './events.js'
import {foldIncidents} from './fold.js'
import {type Incident, type IncidentEvent, incidentFilter, incidentSubject, normalizeIncidentId} from './model.js'

export interface IncidentStore {
  log: OpsLog
  /** Every incident event in the stream, in order; messages that are not valid incident events are counted, not fatal. */
  events(id?: string): Promise<{events: IncidentEvent[]; skipped: number}>
  incidents(): Promise<{incidents: Incident[]; skipped: number}>
  /** Publishes in order, each with its event id as the message id (deduplication). */
  append(events: IncidentEvent[]): Promise<void>
}

export interface StoreOptions {
  /** Create the ops log's stream when no stream captures cim.ops.> (commands that write); readers see an empty log instead. */
  create: boolean
  /** The command's session; without one (a test, a library caller) the store opens its own and closes it after. */
  nats?: NatsSession
}

export async function withIncidentStore<T>(ctx: ResolvedContext, options: StoreOptions, work: (store: IncidentStore) => Promise<T>): Promise<T> {
  const [{withNatsSession}, {contextOpsLog}] = await Promise.all([import('../adapters/nats/session.js'), import('../audit/ops-log.js')])
  return withNatsSession(options.nats, ctx.nats, {timeoutMs: ctx.timeoutMs, name: 'cimops-incident'}, async (nats) => {
    const [{nc}, jsm] = await Promise.all([nats.connection(), nats.jsm()])
    const log = await contextOpsLog(nc, jsm, ctx, {create: options.create})
    const events = async (id?: string) => {
      const messages = await log.read(incidentFilter(id))
      const parsed: IncidentEvent[] = []
      for (const message of messages) {
        const event = parseIncidentEvent(message.subject, message.data)
        if (event) parsed.push(event)
      }
      return {events: parsed, skipped: messages.length - parsed.length}
    }
    return work({
      log,
      events,
      async incidents() {
        const {events: all, skipped} = await events()
        return {incidents: foldIncidents(all), skipped}
      },
      async append(list) {
        for (const event of list) await log.publish(incidentSubject(event.aggregateId, event.type), event, {msgID: event.id})
      },
    })
  })
}

/** The canonical id, or a usage error (exit 64) for text that is not an incident id at all. */
export function parseIncidentIdArg(text: string): string {
  const id = normalizeIncidentId(text)
  if (!id) {
    throw new UsageError(`invalid incident id "${text}"`, 'expected INC-YYYYMMDD-N, e.g. INC-20261122-1', {hint: 'see `cimops incident list --all`'})
  }
  return id
}

/** An unknown incident: not found (exit 2), naming the id. */
export function unknownIncident(id: string): NotFoundError {
  return new NotFoundError(`unknown incident ${id}`, `no events on cim.ops.incident.${id}.>`, {hint: 'see `cimops incident list --all`'})
}
