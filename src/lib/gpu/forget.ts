/**
 * `gpu forget`: remove a node that should not be in the fleet (a typo that was evacuated, a decommissioned host)
 * from cim_gpu_nodes and cim_gpu_health, so `gpu nodes` and the morning check stop showing it.
 */
import type {KvRecord, NodeRecord} from '../adapters/nats/gpu-kv.js'
import {CimopsError, OperationError} from '../core/errors.js'
import {plural} from '../core/output/units.js'
import {allocations, type AllocationView, EvacuationConflictError} from './evacuate.js'
import {gpuEvent, gpuSubject} from './events.js'
import type {FleetSession, PublishedEvent} from './fleet.js'
import {knownNodes, unknownNodeError} from './known.js'

export interface ForgetResult {
  node: string
  outcome: 'forgotten' | 'dry-run'
  dryRun: boolean
  /** What was (or would be) removed: the state record's state, and whether a health report was there. */
  removed: {state?: string; health: boolean}
  by: string
  events: PublishedEvent[]
  notes: string[]
  message: string
}

export async function forgetNode(session: FleetSession, options: {node: string; by: string; reason?: string; dryRun?: boolean; now?: () => Date}): Promise<ForgetResult> {
  const now = options.now ?? (() => new Date())
  const {node, by} = options
  const [state, health, current] = await Promise.all([session.store.nodes.get(node), session.store.health.get(node), allocations(session, node)])
  if (current.length > 0) {
    // Workloads registered on it: it is a real node, and forgetting it would hide them.
    throw new OperationError(`cannot forget GPU node ${node}`, `${plural(current.length, 'workload')} still allocated on it (${names(current)})`, {
      hint: `evacuate it first: \`cimops gpu evacuate ${node}\``,
    })
  }
  if (!state && !health) throw unknownNodeError(node, await knownNodes(session))
  if (state?.value?.state === 'draining') {
    throw new OperationError(`cannot forget GPU node ${node}`, `it is being evacuated${state.value.by ? ` by ${state.value.by}` : ''}`, {
      hint: `wait for the evacuation, or cancel it with \`cimops gpu uncordon ${node}\``,
    })
  }
  const removed = {...(state ? {state: state.value?.state ?? 'unreadable'} : {}), health: health !== undefined}
  const events: PublishedEvent[] = []
  const result = (outcome: ForgetResult['outcome']): ForgetResult => {
    const what = [removed.state ? `its ${removed.state} state in cim_gpu_nodes` : undefined, removed.health ? 'its health report in cim_gpu_health' : undefined].filter(Boolean).join(' and ')
    const message = outcome === 'dry-run' ? `Would remove ${node}: ${what}` : `${node} forgotten: removed ${what}`
    return {node, outcome, dryRun: outcome === 'dry-run', removed, by, events, notes: session.notes, message}
  }
  if (options.dryRun) return result('dry-run')

  if (state) await deleteAt(session, node, state)
  if (health) await session.store.health.delete(node)
  events.push(
    await session.publish(
      gpuSubject(node, 'forgotten'),
      gpuEvent('forgotten', {node, by, time: now(), data: {...(removed.state ? {previousState: removed.state} : {}), health: removed.health, ...(options.reason ? {reason: options.reason} : {})}}),
    ),
  )
  return result('forgotten')
}

/** Compare-and-delete: an evacuation that marked the node draining meanwhile keeps it. */
async function deleteAt(session: FleetSession, node: string, record: KvRecord<NodeRecord>): Promise<void> {
  try {
    await session.store.nodes.delete(node, record.revision)
  } catch (error) {
    if (!(error instanceof CimopsError && error.code === 'CONFLICT')) throw error
    throw new EvacuationConflictError(`node ${node} changed while forgetting it`, `it is no longer at revision ${record.revision}`, {hint: 'nothing was removed; look again with `cimops gpu nodes`'})
  }
}

function names(list: AllocationView[]): string {
  return list.map((a) => a.workload).join(', ')
}
