/**
 * `emergency gpu-evacuate`: every node whose published GPU health (cim_gpu_health) is CRITICAL is evacuated with
 * the drain protocol, several at once but never more than `parallel`, and the whole run ends in one summary.
 */
import {randomUUID} from 'node:crypto'

import {CimopsError} from '../core/errors.js'
import {plural} from '../core/output/units.js'
import {allocations, evacuateNode, type EvacuationOutcome, type EvacuationProgress, type EvacuationResult} from './evacuate.js'
import {EMERGENCY_GPU_SUBJECT} from './events.js'
import type {FleetSession, PublishedEvent} from './fleet.js'
import {isValidNodeName} from './node.js'

export interface EmergencyTarget {
  node: string
  healthSummary: string
  /** RFC 3339 of the health report. */
  checkedAt: string
  /** The report is older than the context's healthStaleAfter: the node stopped publishing. */
  stale: boolean
}

export type EmergencyNodeOutcome = EvacuationOutcome | 'refused' | 'failed'

export interface EmergencyNodeResult extends EmergencyTarget {
  outcome: EmergencyNodeOutcome
  /** Why it was refused or failed. */
  error?: string
  evacuation?: EvacuationResult
  /** Workloads on the node when it started, and still there at the end. */
  workloads: number
  stuck: string[]
}

export interface EmergencyGpuResult {
  id: string
  dryRun: boolean
  reason: string
  by: string
  parallel: number
  /** Health records that could not be read (not judged, not evacuated). */
  unreadable: string[]
  nodes: EmergencyNodeResult[]
  /** Nodes that are drained at the end (now or before). */
  drained: number
  /** Nodes not drained: timed out, refused, failed or interrupted. */
  failed: number
  event?: PublishedEvent
  notes: string[]
  durationSeconds: number
  message: string
}

export interface EmergencyOptions {
  reason?: string
  by: string
  timeoutMs: number
  parallel: number
  staleAfterSeconds: number
  dryRun?: boolean
  signal?: AbortSignal
  onProgress?: (progress: EvacuationProgress) => void
  now?: () => Date
}

/** The CRITICAL nodes of the fleet, from cim_gpu_health. */
export async function criticalNodes(session: FleetSession, staleAfterSeconds: number, now = new Date()): Promise<{targets: EmergencyTarget[]; unreadable: string[]}> {
  const records = await session.store.health.list()
  const unreadable = records.filter((r) => !r.value).map((r) => `${r.key} (${r.problem})`)
  const targets = records
    .filter((r) => r.value?.status === 'CRITICAL')
    .map((r) => ({node: r.key, healthSummary: r.value!.summary, checkedAt: r.value!.checkedAt, stale: now.getTime() - Date.parse(r.value!.checkedAt) > staleAfterSeconds * 1000}))
  return {targets, unreadable}
}

export async function emergencyGpuEvacuate(session: FleetSession, options: EmergencyOptions): Promise<EmergencyGpuResult> {
  const started = performance.now()
  const now = options.now ?? (() => new Date())
  const id = randomUUID()
  const {targets, unreadable} = await criticalNodes(session, options.staleAfterSeconds, now())
  const reasonFor = (target: EmergencyTarget) => options.reason ?? `GPU health CRITICAL: ${target.healthSummary}`
  let event: PublishedEvent | undefined
  if (!options.dryRun && targets.length > 0) {
    event = await session.publish(EMERGENCY_GPU_SUBJECT, {
      id,
      type: 'GpuEmergencyEvacuationRequested',
      by: options.by,
      time: now().toISOString(),
      reason: options.reason ?? 'GPU health CRITICAL',
      nodes: targets.map((t) => t.node),
    })
  }
  const evacuateOne = async (target: EmergencyTarget): Promise<EmergencyNodeResult> => {
    if (!isValidNodeName(target.node)) return {...target, outcome: 'refused', error: 'not a valid node name (one subject token)', workloads: 0, stuck: []}
    try {
      const evacuation = await evacuateNode(session, {
        node: target.node,
        reason: reasonFor(target),
        by: options.by,
        timeoutMs: options.timeoutMs,
        dryRun: options.dryRun,
        signal: options.signal,
        onProgress: options.onProgress,
        now: options.now,
      })
      return {
        ...target,
        outcome: evacuation.outcome,
        evacuation,
        workloads: evacuation.workloads.initial.length,
        stuck: evacuation.outcome === 'drained' || evacuation.outcome === 'already-drained' ? [] : evacuation.workloads.remaining.map((a) => a.workload),
      }
    } catch (error) {
      if (error instanceof CimopsError && error.code === 'INTERRUPTED') throw error
      const workloads = await allocations(session, target.node).catch(() => [])
      const refused = error instanceof CimopsError && error.code === 'CONFLICT'
      return {
        ...target,
        outcome: refused ? 'refused' : 'failed',
        error: error instanceof CimopsError ? error.line : error instanceof Error ? error.message : String(error),
        workloads: workloads.length,
        stuck: workloads.map((a) => a.workload),
      }
    }
  }
  const nodes = await mapBounded(targets, Math.max(1, options.parallel), evacuateOne)
  const drained = nodes.filter((n) => n.outcome === 'drained' || n.outcome === 'already-drained').length
  const failed = options.dryRun ? 0 : nodes.length - drained
  const base = {
    id,
    dryRun: options.dryRun === true,
    reason: options.reason ?? 'GPU health CRITICAL',
    by: options.by,
    parallel: options.parallel,
    unreadable,
    nodes,
    drained,
    failed,
    ...(event ? {event} : {}),
    notes: session.notes,
    durationSeconds: Math.round(performance.now() - started) / 1000,
  }
  return {...base, message: emergencyMessage(base)}
}

function emergencyMessage(r: Omit<EmergencyGpuResult, 'message'>): string {
  if (r.nodes.length === 0) return `No node reports CRITICAL GPU health; nothing to evacuate${r.unreadable.length > 0 ? ` (${plural(r.unreadable.length, 'health record')} unreadable)` : ''}`
  if (r.dryRun) return `Would evacuate ${plural(r.nodes.length, 'node')} with CRITICAL GPU health, ${r.parallel} at a time: ${r.nodes.map((n) => n.node).join(', ')}`
  const notDrained = r.nodes.filter((n) => n.outcome !== 'drained' && n.outcome !== 'already-drained')
  const tail = notDrained.length > 0 ? `; NOT drained: ${notDrained.map((n) => `${n.node} (${n.outcome}${n.stuck.length > 0 ? `: ${n.stuck.join(', ')}` : ''})`).join('; ')}` : ''
  return `${r.drained} of ${plural(r.nodes.length, 'node')} with CRITICAL GPU health drained${tail}`
}

/** Runs `work` over the items, at most `limit` at once, results in item order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = Array.from({length: items.length})
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}
