import type {JetStreamManager, NatsConnection} from '../adapters/nats/connection.js'
import type {OpsLog, OpsLogSpec} from '../adapters/nats/ops-events.js'
import type {ResolvedContext} from '../core/context-types.js'

/** The ops log: every operator action, incident and drill as an event on `cim.ops.>` (DESIGN.md). */

const MIB = 1024 * 1024
const DAY_SECONDS = 86_400

/** Replicated up to 3, a year of history within 1 GiB, duplicates dropped for 2 minutes. */
export function opsLogSpec(name: string, replicas: number): OpsLogSpec {
  return {
    name,
    replicas: Math.min(3, Math.max(1, replicas)),
    maxAgeSeconds: 365 * DAY_SECONDS,
    maxBytes: 1024 * MIB,
    maxMessageBytes: MIB,
    duplicateWindowSeconds: 120,
  }
}

/**
 * The context's ops log: the stream that captures `cim.ops.>`, whatever its name. With `create`, the configured
 * stream (CIM_OPS) is created when no stream captures any ops subject; an existing one is left as its owner configured it.
 */
export async function contextOpsLog(nc: NatsConnection, jsm: JetStreamManager, ctx: Pick<ResolvedContext, 'nats' | 'streams' | 'timeoutMs'>, options: {create: boolean; timeoutMs?: number}): Promise<OpsLog> {
  const [{openOpsLog}, {clusterSize}] = await Promise.all([import('../adapters/nats/ops-events.js'), import('../adapters/nats/connection.js')])
  const create = options.create ? opsLogSpec(ctx.streams.ops, clusterSize(nc, ctx.nats.servers)) : undefined
  return openOpsLog(nc, jsm, ctx.nats, ctx.streams.ops, options.timeoutMs ?? ctx.timeoutMs, {create})
}
