import {randomUUID} from 'node:crypto'
import {hostname, userInfo} from 'node:os'

import type {ResolvedContext} from '../core/context-types.js'
import {redact} from '../core/redact.js'
import {ensureOpsStream} from './ops-stream.js'

/** One ops event in CIM's envelope, e.g. a finished DR drill on `cim.ops.drill.<id>.completed`. */
export interface OpsEventInput {
  subject: string
  type: string
  aggregateType: string
  aggregateId: string
  data: unknown
}

/** Publishes an ops event (creating CIM_OPS on first use), secrets masked, its id as Nats-Msg-Id. */
export async function publishOpsEvent(ctx: ResolvedContext, input: OpsEventInput): Promise<{seq: number}> {
  const [{withNats, jetstreamManagerFor}, {openOpsLog}] = await Promise.all([import('../adapters/nats/connection.js'), import('../adapters/nats/ops-events.js')])
  const event = redact({
    id: randomUUID(),
    type: input.type,
    domain: 'ops',
    aggregateType: input.aggregateType,
    aggregateId: input.aggregateId,
    occurredAt: new Date().toISOString(),
    actor: {user: userInfo().username, host: hostname()},
    data: input.data,
  })
  return withNats(ctx.nats, {timeoutMs: ctx.timeoutMs, name: 'cimops-ops-event'}, async (nc) => {
    const jsm = await jetstreamManagerFor(nc, ctx.nats, ctx.timeoutMs)
    await ensureOpsStream(jsm, nc, ctx.streams.ops, ctx.nats.servers)
    const log = await openOpsLog(nc, jsm, ctx.nats, ctx.streams.ops, ctx.timeoutMs)
    return log.publish(input.subject, event, {msgID: event.id})
  })
}
