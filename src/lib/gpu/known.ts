/** Which GPU nodes exist, so that a typo (`gpu evacuate gpu-99`) is refused instead of recorded as a new node. */
import {GPU_BUCKETS} from '../adapters/nats/gpu-kv.js'
import {UsageError} from '../core/errors.js'
import type {FleetSession} from './fleet.js'

/** Names listed in a refusal; the rest are counted. */
const LISTED = 20

/** Keys of cim_gpu_nodes and cim_gpu_health, and nodes with workloads allocated (`<node>.<workload>`), sorted. */
export async function knownNodes(session: FleetSession): Promise<string[]> {
  const [nodes, health, allocations] = await Promise.all([session.store.nodes.keys(), session.store.health.keys(), session.store.allocations.keys()])
  const names = new Set([...nodes, ...health, ...allocations.map((key) => key.split('.')[0]!)])
  return [...names].sort()
}

/** Exit 64 naming the known nodes, unless `node` is one of them. `forceHint` says how to act on a new name on purpose. */
export async function assertKnownNode(session: FleetSession, node: string, forceHint?: string): Promise<void> {
  const known = await knownNodes(session)
  if (known.includes(node)) return
  throw unknownNodeError(node, known, forceHint)
}

export function unknownNodeError(node: string, known: string[], forceHint?: string): UsageError {
  const list = known.length === 0
    ? `no node is known: ${GPU_BUCKETS.nodes} and ${GPU_BUCKETS.health} are empty`
    : `known nodes: ${known.slice(0, LISTED).join(', ')}${known.length > LISTED ? ` and ${known.length - LISTED} more` : ''}`
  return new UsageError(`unknown GPU node "${node}"`, list, {hint: ['check the spelling (`cimops gpu nodes`)', forceHint].filter(Boolean).join('; ')})
}
