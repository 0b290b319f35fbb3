/**
 * GPU fleet steps as ops events (DESIGN.md: `cim.ops.gpu.<node>.<event>` on the ops log). The evacuate event is
 * also the command workload agents on the node act on: `cim.ops.gpu.<node>.evacuate` with `{reason, deadline}`.
 */
import {randomUUID} from 'node:crypto'

export type GpuEventName = 'draining' | 'evacuate' | 'workload-left' | 'drained' | 'evacuation-timed-out' | 'evacuation-interrupted' | 'active' | 'forgotten'

export const GPU_EVENT_TYPES: Record<GpuEventName, string> = {
  draining: 'GpuNodeDraining',
  evacuate: 'GpuEvacuationRequested',
  'workload-left': 'GpuWorkloadLeft',
  drained: 'GpuNodeDrained',
  'evacuation-timed-out': 'GpuEvacuationTimedOut',
  'evacuation-interrupted': 'GpuEvacuationInterrupted',
  active: 'GpuNodeUncordoned',
  forgotten: 'GpuNodeForgotten',
}

export const EMERGENCY_GPU_SUBJECT = 'cim.ops.emergency.gpu-evacuate'

export function gpuSubject(node: string, event: GpuEventName): string {
  return `cim.ops.gpu.${node}.${event}`
}

export interface GpuOpsEvent {
  id: string
  type: string
  node: string
  /** user@host, or the --actor. */
  by: string
  /** RFC 3339. */
  time: string
  evacuationId?: string
  [key: string]: unknown
}

export function gpuEvent(event: GpuEventName, fields: {node: string; by: string; time: Date; evacuationId?: string; data?: Record<string, unknown>}): GpuOpsEvent {
  return {
    id: randomUUID(),
    type: GPU_EVENT_TYPES[event],
    node: fields.node,
    by: fields.by,
    time: fields.time.toISOString(),
    ...(fields.evacuationId ? {evacuationId: fields.evacuationId} : {}),
    ...fields.data,
  }
}
