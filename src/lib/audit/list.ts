import * as z from 'zod'

import type {NatsSession} from '../adapters/nats/session.js'
import type {ResolvedContext} from '../core/context-types.js'
import {type AuditEvent, auditSubject} from './event.js'
import {spooledEventsFor} from './recorder.js'

export interface AuditQuery {
  since: Date
  /** Command words, e.g. `alerts silence add` (or `alerts:silence:add`). */
  command?: string
  actor?: string
}

export interface AuditListResult {
  since: string
  events: Array<AuditEvent & {spooled: boolean}>
  /** Messages on cim.ops.audit.> that are not audit events. */
  skipped: number
}

const StoredAuditEvent = z.looseObject({
  id: z.string(),
  type: z.literal('OperatorActionRecorded'),
  command: z.string(),
  actor: z.object({user: z.string(), host: z.string()}),
  at: z.string(),
  args: z.array(z.string()),
  outcome: z.enum(['success', 'failure', 'interrupted']),
  exitCode: z.number(),
  durationSeconds: z.number(),
})

/** Audit events from the ops log, plus those still waiting in the local spool, oldest first. */
export async function listAuditEvents(ctx: ResolvedContext, nats: NatsSession, query: AuditQuery): Promise<AuditListResult> {
  const {contextOpsLog} = await import('./ops-log.js')
  const filter = query.command ? auditSubject(query.command) : 'cim.ops.audit.>'
  const [{nc}, jsm] = await Promise.all([nats.connection(), nats.jsm()])
  const messages = await (await contextOpsLog(nc, jsm, ctx, {create: false})).read(filter)
  const stored = messages.map((m) => StoredAuditEvent.safeParse(m.data))
  const published = stored.filter((r) => r.success).map((r) => ({...(r.data as AuditEvent), spooled: false}))
  const waiting = (await spooledEventsFor(ctx)).map(({event}) => ({...event, spooled: true}))
  const wanted = (event: AuditEvent) =>
    new Date(event.at) >= query.since &&
    (!query.command || auditSubject(event.command) === filter) &&
    (!query.actor || event.actor.user === query.actor || `${event.actor.user}@${event.actor.host}` === query.actor)
  const seen = new Set(published.map((e) => e.id))
  const events = [...published, ...waiting.filter((e) => !seen.has(e.id))].filter(wanted).sort((a, b) => a.at.localeCompare(b.at))
  return {since: query.since.toISOString(), events, skipped: stored.length - published.length}
}
