import {randomUUID} from 'node:crypto'

import type {NatsSession} from '../adapters/nats/session.js'
import {resolveActor} from '../core/actor.js'
import type {ResolvedContext} from '../core/context-types.js'
import {redact} from '../core/redact.js'
import {contextOpsLog} from './ops-log.js'

/** One ops event in CIM's envelope, e.g. a finished DR drill on `cim.ops.drill.<id>.completed`. */
export interface OpsEventInput {
  subject: string
  type: string
  aggregateType: string
  aggregateId: string
  data: unknown
  /** --actor, when the operator named one [default: the OS user]. */
  actor?: string
}

/** Publishes an ops event on the ops log (CIM_OPS created on first use), secrets masked, its id as the message id (deduplication). */
export async function publishOpsEvent(ctx: ResolvedContext, nats: NatsSession, input: OpsEventInput): Promise<{seq: number}> {
  const event = redact({
    id: randomUUID(),
    type: input.type,
    domain: 'ops',
    aggregateType: input.aggregateType,
    aggregateId: input.aggregateId,
    occurredAt: new Date().toISOString(),
    actor: resolveActor(input.actor),
    data: input.data,
  })
  const [{nc}, jsm] = await Promise.all([nats.connection(), nats.jsm()])
  const log = await contextOpsLog(nc, jsm, ctx, {create: true})
  return log.publish(input.subject, event, {msgID: event.id})
}
