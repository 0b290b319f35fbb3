/** The fleet as the KV buckets tell it (`gpu nodes`), and a node's own GPU health put there (`gpu status --publish`). */
import type {HealthRecord, NodeState} from '../adapters/nats/gpu-kv.js'
import {GPU_BUCKETS} from '../adapters/nats/gpu-kv.js'
import type {Status} from '../core/check/status.js'
import type {AllocationView} from './evacuate.js'
import type {FleetSession} from './fleet.js'
import type {GpuStatusReport} from './model.js'

export interface FleetNode {
  node: string
  /** `active` also for a node with no cim_gpu_nodes record (see `recorded`). */
  state: NodeState | 'unknown'
  recorded: boolean
  reason?: string
  since?: string
  by?: string
  /** Why the state record could not be read. */
  stateProblem?: string
  health?: {
    status: Status
    summary: string
    checkedAt: string
    ageSeconds: number
    /** Older than the context's healthStaleAfter: the node stopped publishing. */
    stale: boolean
    gpuCount?: number
    expectedGpus?: number
  }
  healthProblem?: string
  allocations: AllocationView[]
}

export interface FleetView {
  nodes: FleetNode[]
  counts: {nodes: number; active: number; draining: number; drained: number; critical: number; allocations: number}
  /** RFC 3339. */
  checkedAt: string
}

export async function listFleet(session: FleetSession, {staleAfterSeconds, now = new Date()}: {staleAfterSeconds: number; now?: Date}): Promise<FleetView> {
  const [states, health, allocationRecords] = await Promise.all([session.store.nodes.list(), session.store.health.list(), session.store.allocations.list()])
  const nodes = new Map<string, FleetNode>()
  const entry = (node: string): FleetNode => {
    let found = nodes.get(node)
    if (!found) {
      found = {node, state: 'active', recorded: false, allocations: []}
      nodes.set(node, found)
    }
    return found
  }
  for (const record of states) {
    const node = entry(record.key)
    node.recorded = true
    if (!record.value) {
      node.state = 'unknown'
      node.stateProblem = record.problem
      continue
    }
    Object.assign(node, withoutUndefined({state: record.value.state, reason: record.value.reason, since: record.value.since, by: record.value.by}))
  }
  for (const record of health) {
    const node = entry(record.key)
    if (!record.value) {
      node.healthProblem = record.problem
      continue
    }
    const ageSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(record.value.checkedAt)) / 1000))
    node.health = withoutUndefined({
      status: record.value.status,
      summary: record.value.summary,
      checkedAt: record.value.checkedAt,
      ageSeconds,
      stale: ageSeconds > staleAfterSeconds,
      gpuCount: record.value.gpuCount,
      expectedGpus: record.value.expectedGpus,
    })
  }
  for (const record of allocationRecords) {
    const dot = record.key.indexOf('.')
    if (dot <= 0) continue
    const nodeName = record.key.slice(0, dot)
    entry(nodeName).allocations.push({
      key: record.key,
      workload: record.value?.workload ?? record.key.slice(dot + 1),
      ...(record.value?.gpu === undefined ? {} : {gpu: record.value.gpu}),
      ...(record.value?.since ? {since: record.value.since} : {}),
    })
  }
  const list = [...nodes.values()].sort((a, b) => a.node.localeCompare(b.node))
  return {
    nodes: list,
    counts: {
      nodes: list.length,
      active: list.filter((n) => n.state === 'active').length,
      draining: list.filter((n) => n.state === 'draining').length,
      drained: list.filter((n) => n.state === 'drained').length,
      critical: list.filter((n) => n.health?.status === 'CRITICAL').length,
      allocations: list.reduce((sum, n) => sum + n.allocations.length, 0),
    },
    checkedAt: now.toISOString(),
  }
}

/** The compact health a node publishes: verdict, summary and per-GPU findings, not every reading. */
export function healthRecord(report: GpuStatusReport): HealthRecord {
  return {
    node: report.node,
    status: report.status,
    summary: report.summary,
    checkedAt: report.checkedAt,
    tool: report.tool,
    ...(report.driverVersion ? {driverVersion: report.driverVersion} : {}),
    gpuCount: report.gpus.length,
    ...(report.expectedGpus === undefined ? {} : {expectedGpus: report.expectedGpus}),
    gpus: report.gpus.map((gpu) => withoutUndefined({index: gpu.index, uuid: gpu.uuid, name: gpu.name, busId: gpu.busId, status: gpu.status, findings: gpu.findings.map((f) => f.text)})),
    hostFindings: report.hostFindings.map((f) => f.text),
  }
}

export async function publishHealth(session: FleetSession, report: GpuStatusReport): Promise<{bucket: string; key: string; revision: number}> {
  const revision = await session.store.health.put(report.node, healthRecord(report))
  return {bucket: GPU_BUCKETS.health, key: report.node, revision}
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
