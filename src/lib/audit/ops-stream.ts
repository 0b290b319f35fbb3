import type {JetStreamManager, StreamConfig} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

/** The ops event log: every operator action, incident and drill as an event on `cim.ops.>` (DESIGN.md). */

export const OPS_SUBJECTS = 'cim.ops.>'
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

/** Creates the ops stream on first use; an existing one is left as its owner configured it. */
export async function ensureOpsStream(jsm: JetStreamManager, nc: NatsConnection, name: string, configuredServers: string[]): Promise<'created' | 'exists'> {
  try {
    await jsm.streams.info(name)
    return 'exists'
  } catch (error) {
    if (!(error instanceof Error && (error.name === 'StreamNotFoundError' || (error as {code?: number}).code === 10059))) throw error
  }
  await jsm.streams.add(opsStreamConfig(name, clusterSize(nc, configuredServers)))
  return 'created'
}
