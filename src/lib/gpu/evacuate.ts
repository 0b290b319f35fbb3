/**
 * The drain protocol (reference/gpu.md §4, DESIGN.md "GPU fleet"):
 *   1. compare-and-set the node to `draining` in cim_gpu_nodes, so a concurrent evacuation by another operator
 *      loses the CAS (or finds the node draining) and is refused;
 *   2. publish `cim.ops.gpu.<node>.evacuate` {reason, deadline}: workload agents on the node move their work away
 *      and delete their `cim_gpu_allocations` keys `<node>.<workload>`;
 *   3. watch those keys until none remain, then compare-and-set `drained`;
 *   4. at the deadline, report the stuck workloads and leave the node `draining`.
 * Every step is an event on the ops log. `uncordon` returns a node to `active`.
 */
import {randomUUID} from 'node:crypto'

import type {AllocationRecord, KvRecord, NodeRecord, NodeState} from '../adapters/nats/gpu-kv.js'
import {CimopsError, DataError, ExitCode, OperationError} from '../core/errors.js'
import {formatDuration} from '../core/duration.js'
import {plural} from '../core/output/units.js'
import {gpuEvent, type GpuEventName, gpuSubject} from './events.js'
import {knownNodes, unknownNodeError} from './known.js'
import type {FleetSession, PublishedEvent} from './fleet.js'

export interface AllocationView {
  key: string
  workload: string
  gpu?: string | number
  since?: string
}

export interface NodeStateView {
  state: NodeState
  reason?: string
  since?: string
  by?: string
  revision?: number
}

export type EvacuationOutcome = 'drained' | 'timed-out' | 'already-drained' | 'dry-run' | 'interrupted' | 'superseded'

export interface EvacuationProgress {
  node: string
  phase: 'draining' | 'waiting' | EvacuationOutcome
  total: number
  remaining: string[]
  /** RFC 3339. */
  deadline: string
  elapsedMs: number
}

export interface EvacuationResult {
  evacuationId: string
  node: string
  outcome: EvacuationOutcome
  dryRun: boolean
  reason: string
  by: string
  /** The node before: undefined when cim_gpu_nodes had no record (an unrecorded node is active). */
  previous?: NodeStateView
  /** The node's state when the command ended. */
  state: NodeState
  startedAt: string
  deadline: string
  finishedAt: string
  durationSeconds: number
  workloads: {
    /** On the node when the evacuation started. */
    initial: AllocationView[]
    /** Workloads that left (their key was deleted), in the order seen. */
    left: string[]
    /** Registered on the node after it was marked draining (the scheduler should not do that). */
    arrived: string[]
    /** Still allocated at the end: stuck at a timeout. */
    remaining: AllocationView[]
  }
  events: PublishedEvent[]
  notes: string[]
  message: string
}

export interface EvacuateOptions {
  node: string
  reason: string
  by: string
  timeoutMs: number
  dryRun?: boolean
  /** Continue an evacuation that timed out or was interrupted (the node is draining). */
  resume?: boolean
  signal?: AbortSignal
  onProgress?: (progress: EvacuationProgress) => void
  /** Re-read the allocations at least this often, besides the watch (default 2s). */
  pollMs?: number
  now?: () => Date
}

/** Another evacuation holds the node, or won the compare-and-set: exit 2, nothing changed. */
export class EvacuationConflictError extends CimopsError {
  readonly code = 'CONFLICT'
  readonly exit = ExitCode.FAILED
}

export async function evacuateNode(session: FleetSession, options: EvacuateOptions): Promise<EvacuationResult> {
  const now = options.now ?? (() => new Date())
  const started = now()
  const startedMs = performance.now()
  const {node, reason, by} = options
  const evacuationId = randomUUID()
  const deadline = new Date(started.getTime() + options.timeoutMs)
  const events: PublishedEvent[] = []
  const record = await readNode(session, node)
  const previous = record ? view(record) : undefined
  const state: NodeState = previous?.state ?? 'active'
  const initial = await allocations(session, node)

  const result = (outcome: EvacuationOutcome, finalState: NodeState, extra: {left?: string[]; arrived?: string[]; remaining?: AllocationView[]} = {}): EvacuationResult => {
    const finished = now()
    const base = {
      evacuationId,
      node,
      outcome,
      dryRun: options.dryRun === true,
      reason,
      by,
      ...(previous ? {previous} : {}),
      state: finalState,
      startedAt: started.toISOString(),
      deadline: deadline.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: Math.round(performance.now() - startedMs) / 1000,
      workloads: {initial, left: extra.left ?? [], arrived: extra.arrived ?? [], remaining: extra.remaining ?? (outcome === 'dry-run' || outcome === 'already-drained' ? initial : [])},
      events,
      notes: session.notes,
    }
    return {...base, message: evacuationMessage(base)}
  }

  // Drained and empty: done. Drained with workloads on it again (re-registered, or placed anyway): drain it again.
  if (state === 'drained' && initial.length === 0) return result('already-drained', 'drained')
  if (state === 'draining' && !options.resume) {
    throw new EvacuationConflictError(`node ${node} is already being evacuated`, describeHolder(previous!), {
      hint: 'wait for it to finish; to continue one that timed out or was interrupted use --resume, to cancel it `cimops gpu uncordon`',
    })
  }
  if (options.dryRun) return result('dry-run', state)

  // 1. Compare-and-set: only one evacuation can move the node from what we read to draining.
  const draining: NodeRecord = {state: 'draining', reason, since: started.toISOString(), by, evacuationId}
  let revision: number
  try {
    revision = record ? await session.store.nodes.update(node, draining, record.revision) : await session.store.nodes.create(node, draining)
  } catch (error) {
    if (!(error instanceof CimopsError && error.code === 'CONFLICT')) throw error
    const winner = await readNode(session, node)
    throw new EvacuationConflictError(`node ${node} is already being evacuated`, `another operator changed it first: ${winner ? describeHolder(view(winner)) : 'it was deleted'}`, {
      hint: 'nothing was changed; see `cimops gpu nodes`',
    })
  }
  const publish = async (event: GpuEventName, data: Record<string, unknown> = {}) => {
    events.push(await session.publish(gpuSubject(node, event), gpuEvent(event, {node, by, time: now(), evacuationId, data})))
  }
  await publish('draining', {reason, deadline: deadline.toISOString(), previousState: state, workloads: initial.map((a) => a.workload)})
  // 2. The command the node's workload agents act on.
  await publish('evacuate', {reason, deadline: deadline.toISOString()})

  // 3. Wait for the allocations to go.
  const tracked = new Map(initial.map((a) => [a.key, a]))
  const left: string[] = []
  const arrived: string[] = []
  const progress = (phase: EvacuationProgress['phase'], remaining: string[]) =>
    options.onProgress?.({node, phase, total: tracked.size, remaining, deadline: deadline.toISOString(), elapsedMs: Math.round(performance.now() - startedMs)})
  const waker = new Waker()
  const watcher = await session.store.allocations.watch(`${node}.>`, () => waker.wake())
  let keys: string[] = []
  let outcome: 'drained' | 'timed-out' | 'interrupted' | 'superseded'
  let supersededBy: NodeStateView | undefined
  try {
    for (;;) {
      // Someone uncordoned the node or took the evacuation over: their word stands, stop waiting.
      const current = await session.store.nodes.get(node)
      if (current?.revision !== revision) {
        supersededBy = current?.value ? view(current) : undefined
        outcome = 'superseded'
        break
      }
      keys = await session.store.allocations.keys(`${node}.>`)
      const present = new Set(keys)
      for (const [key, allocation] of tracked) {
        if (!present.has(key) && !left.includes(allocation.workload)) {
          left.push(allocation.workload)
          await publish('workload-left', {workload: allocation.workload, key})
        }
      }
      for (const key of keys) {
        if (!tracked.has(key)) {
          tracked.set(key, {key, workload: workloadOf(node, key)})
          arrived.push(workloadOf(node, key))
        }
      }
      if (keys.length === 0) {
        outcome = 'drained'
        break
      }
      if (options.signal?.aborted) {
        outcome = 'interrupted'
        break
      }
      const wait = deadline.getTime() - now().getTime()
      if (wait <= 0) {
        outcome = 'timed-out'
        break
      }
      progress('waiting', keys.map((key) => workloadOf(node, key)))
      await waker.sleep(Math.min(options.pollMs ?? 2000, wait), options.signal)
    }
  } finally {
    await watcher.stop()
  }

  if (outcome === 'superseded') {
    const remaining = await allocations(session, node)
    progress('superseded', remaining.map((a) => a.workload))
    return result('superseded', supersededBy?.state ?? 'active', {left, arrived, remaining})
  }
  if (outcome === 'drained') {
    // 4. Compare-and-set again: if someone uncordoned or took over meanwhile, their word stands.
    try {
      await session.store.nodes.update(node, {state: 'drained', reason, since: now().toISOString(), by, evacuationId}, revision)
    } catch (error) {
      if (!(error instanceof CimopsError && error.code === 'CONFLICT')) throw error
      const current = await readNode(session, node)
      const currentView = current ? view(current) : undefined
      return result('superseded', currentView?.state ?? 'active', {left, arrived, remaining: []})
    }
    await publish('drained', {reason, durationSeconds: Math.round(performance.now() - startedMs) / 1000, workloads: left})
    progress('drained', [])
    return result('drained', 'drained', {left, arrived})
  }
  const remaining = await allocations(session, node)
  const stuck = remaining.length > 0 ? remaining : keys.map((key) => ({key, workload: workloadOf(node, key)}))
  if (outcome === 'timed-out') {
    await publish('evacuation-timed-out', {reason, deadline: deadline.toISOString(), stuck: stuck.map((a) => a.workload)})
  } else {
    // Interrupted: say so on the log, but do not hang on it.
    await Promise.race([publish('evacuation-interrupted', {stuck: stuck.map((a) => a.workload)}).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  }
  progress(outcome, stuck.map((a) => a.workload))
  return result(outcome, 'draining', {left, arrived, remaining: stuck})
}

export interface UncordonResult {
  node: string
  outcome: 'uncordoned' | 'already-active' | 'dry-run'
  dryRun: boolean
  previous?: NodeStateView
  state: NodeState
  by: string
  /** Workloads still allocated on the node (for a node uncordoned mid-evacuation). */
  allocations: AllocationView[]
  events: PublishedEvent[]
  notes: string[]
  message: string
}

/** Returns a node to `active` (compare-and-set); an evacuation still waiting on it will find it changed and stop. */
export async function uncordonNode(session: FleetSession, options: {node: string; by: string; reason?: string; dryRun?: boolean; now?: () => Date}): Promise<UncordonResult> {
  const now = options.now ?? (() => new Date())
  const {node, by} = options
  const record = await readNode(session, node)
  const previous = record ? view(record) : undefined
  const current = await allocations(session, node)
  const events: PublishedEvent[] = []
  const result = (outcome: UncordonResult['outcome'], state: NodeState): UncordonResult => {
    const base = {node, outcome, dryRun: options.dryRun === true, ...(previous ? {previous} : {}), state, by, allocations: current, events, notes: session.notes}
    return {...base, message: uncordonMessage(base)}
  }
  if (!record) {
    const known = await knownNodes(session)
    if (!known.includes(node)) throw unknownNodeError(node, known)
    return result('already-active', 'active')
  }
  if (previous!.state === 'active') return result('already-active', 'active')
  if (options.dryRun) return result('dry-run', previous!.state)
  const active: NodeRecord = {state: 'active', since: now().toISOString(), by, ...(options.reason ? {reason: options.reason} : {})}
  try {
    await session.store.nodes.update(node, active, record.revision)
  } catch (error) {
    if (!(error instanceof CimopsError && error.code === 'CONFLICT')) throw error
    const winner = await readNode(session, node)
    throw new EvacuationConflictError(`node ${node} changed while uncordoning`, winner ? describeHolder(view(winner)) : 'it was deleted', {hint: 'nothing was changed; look again with `cimops gpu nodes`'})
  }
  events.push(await session.publish(gpuSubject(node, 'active'), gpuEvent('active', {node, by, time: now(), data: {previousState: previous!.state, ...(options.reason ? {reason: options.reason} : {})}})))
  return result('uncordoned', 'active')
}

async function readNode(session: FleetSession, node: string): Promise<KvRecord<NodeRecord> | undefined> {
  const record = await session.store.nodes.get(node)
  if (record && !record.value) {
    throw new DataError(`cim_gpu_nodes/${node} cannot be read`, `${record.problem} (revision ${record.revision})`, {
      hint: 'the value is not {state, reason, since, by}: fix or delete it (nats kv del cim_gpu_nodes NODE) before changing the node',
    })
  }
  return record
}

function view(record: KvRecord<NodeRecord>): NodeStateView {
  const v = record.value!
  return {state: v.state, ...(v.reason ? {reason: v.reason} : {}), since: v.since, ...(v.by ? {by: v.by} : {}), revision: record.revision}
}

export async function allocations(session: FleetSession, node: string): Promise<AllocationView[]> {
  const records = await session.store.allocations.list(`${node}.>`)
  return records.map((r: KvRecord<AllocationRecord>) => ({
    key: r.key,
    workload: r.value?.workload ?? workloadOf(node, r.key),
    ...(r.value?.gpu === undefined ? {} : {gpu: r.value.gpu}),
    ...(r.value?.since ? {since: r.value.since} : {}),
  }))
}

function workloadOf(node: string, key: string): string {
  return key.startsWith(`${node}.`) ? key.slice(node.length + 1) : key
}

function describeHolder(holder: NodeStateView): string {
  const who = holder.by ? ` by ${holder.by}` : ''
  const since = holder.since ? ` since ${holder.since}` : ''
  const why = holder.reason ? ` (reason: ${holder.reason})` : ''
  return `it is ${holder.state}${who}${since}${why}`
}

function evacuationMessage(r: Omit<EvacuationResult, 'message'>): string {
  const count = plural(r.workloads.initial.length, 'workload')
  switch (r.outcome) {
    case 'dry-run':
      return `Would mark ${r.node} draining (now ${r.previous?.state ?? 'active'}), publish ${gpuSubject(r.node, 'evacuate')} and wait up to ${formatDuration(Date.parse(r.deadline) - Date.parse(r.startedAt))} for ${count} to leave: ${names(r.workloads.initial) || 'none'}`
    case 'already-drained':
      return `${r.node} is already drained${r.previous?.by ? ` (by ${r.previous.by} at ${r.previous.since})` : ''}; nothing to do`
    case 'drained':
      return `${r.node} drained in ${formatDuration(r.durationSeconds * 1000)}: ${plural(r.workloads.left.length, 'workload')} left${r.workloads.left.length > 0 ? ` (${r.workloads.left.join(', ')})` : ''}`
    case 'timed-out':
      return `${r.node} not drained by the deadline: ${plural(r.workloads.remaining.length, 'workload')} still allocated (${names(r.workloads.remaining)}); the node stays draining`
    case 'interrupted':
      return `evacuation of ${r.node} interrupted: ${plural(r.workloads.remaining.length, 'workload')} still allocated (${names(r.workloads.remaining)}); the node stays draining, continue with --resume`
    case 'superseded':
      return `someone else changed ${r.node} during the evacuation (it is now ${r.state}); stopped waiting and left it as they set it${r.workloads.remaining.length > 0 ? `; ${plural(r.workloads.remaining.length, 'workload')} still allocated (${names(r.workloads.remaining)})` : ''}`
  }
}

function uncordonMessage(r: Omit<UncordonResult, 'message'>): string {
  const busy = r.allocations.length > 0 ? `; ${plural(r.allocations.length, 'workload')} still allocated (${names(r.allocations)})` : ''
  if (r.outcome === 'already-active') return `${r.node} is already active${busy}`
  if (r.outcome === 'dry-run') return `Would return ${r.node} to active (now ${r.previous?.state})${busy}`
  return `${r.node} is active again (was ${r.previous?.state}${r.previous?.by ? ` by ${r.previous.by}` : ''})${busy}`
}

function names(list: AllocationView[]): string {
  return list.map((a) => a.workload).join(', ')
}

/** Sleeps until woken (a KV change), the time is up, or the signal aborts. */
class Waker {
  private pending = false
  private resolve?: () => void

  wake(): void {
    this.pending = true
    this.resolve?.()
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        this.resolve = undefined
        this.pending = false
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, {once: true})
      this.resolve = done
    })
  }
}
