import type {ClusterState, ReplicaState} from '../adapters/nats/jetstream.js'
import {formatSeconds} from '../core/output/units.js'

/**
 * Replicas as natscli renders them: `nats-1*, nats-2, nats-3!` — the leader marked `*`, a replica
 * that is offline or not current marked `!`. A group without a leader says so.
 */
export function renderReplicas(cluster: ClusterState | undefined): string {
  if (!cluster || cluster.replicas.length === 0) return ''
  const names = cluster.replicas.map((replica) => replica.name + replicaMark(replica))
  return cluster.leader ? names.join(', ') : `no leader: ${names.join(', ')}`
}

export function replicaMark(replica: ReplicaState): string {
  if (replica.leader) return '*'
  return replica.offline || !replica.current ? '!' : ''
}

/** Replicas that are offline or behind, for summaries. */
export function unhealthyReplicas(cluster: ClusterState | undefined): string[] {
  return (cluster?.replicas ?? []).filter((replica) => !replica.leader && (replica.offline || !replica.current)).map((replica) => replica.name)
}

/** `3s ago`, `2h5m ago`, or `never`. */
export function ago(seconds: number | undefined | null): string {
  return seconds === undefined || seconds === null ? 'never' : `${formatSeconds(seconds)} ago`
}

/** `Label:  value` lines with the values aligned; entries without a value are left out. */
export function renderFields(fields: Array<[label: string, value: string | undefined]>, paintLabel: (text: string) => string = (t) => t): string {
  const shown = fields.filter((field): field is [string, string] => field[1] !== undefined && field[1] !== '')
  const width = Math.max(0, ...shown.map(([label]) => label.length + 1))
  return shown.map(([label, value]) => `${paintLabel(`${label}:`.padEnd(width))}  ${value}`).join('\n')
}
