import type {JetStreamManager, StreamConfig} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

import {OPS_SUBJECTS, type OpsLog} from '../adapters/nats/ops-events.js'
import type {ResolvedContext} from '../core/context-types.js'

/** The ops event log: every operator action, incident and drill as an event on `cim.ops.>` (DESIGN.md). */

const MIB = 1024 * 1024
const NANOS_PER_SECOND = 1_000_000_000
const DAY_SECONDS = 86_400

/** File storage, replicated up to 3, a year of history within 1 GiB, duplicates dropped for 2 minutes. */
export function opsStreamConfig(name: string, replicas: number): Partial<StreamConfig> & {name: string} {
  return {
    name,
    subjects: [OPS_SUBJECTS],
    storage: 'file' as StreamConfig['storage'],
    retention: 'limits' as StreamConfig['retention'],
    num_replicas: Math.min(3, Math.max(1, replicas)),
    max_age: 365 * DAY_SECONDS * NANOS_PER_SECOND,
    max_bytes: 1024 * MIB,
    max_msg_size: MIB,
    duplicate_window: 120 * NANOS_PER_SECOND,
    allow_direct: true,
  }
}

/** Servers in the cluster: the URLs given, or those the server advertises when more. */
export function clusterSize(nc: NatsConnection, configuredServers: string[]): number {
  return Math.max(configuredServers.length, nc.info?.connect_urls?.length ?? 1)
}

/**
 * The context's ops log: the stream that captures `cim.ops.>`, whatever its name. With `create`, the configured
 * stream (CIM_OPS) is created when no stream captures any ops subject; an existing one is left as its owner configured it.
 */
export async function contextOpsLog(nc: NatsConnection, jsm: JetStreamManager, ctx: Pick<ResolvedContext, 'nats' | 'streams' | 'timeoutMs'>, options: {create: boolean; timeoutMs?: number}): Promise<OpsLog> {
  const {openOpsLog} = await import('../adapters/nats/ops-events.js')
  const create = options.create ? opsStreamConfig(ctx.streams.ops, clusterSize(nc, ctx.nats.servers)) : undefined
  return openOpsLog(nc, jsm, ctx.nats, ctx.streams.ops, options.timeoutMs ?? ctx.timeoutMs, {create})
}
