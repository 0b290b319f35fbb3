/**
 * An in-memory FleetSession with the KV semantics the drain protocol relies on (revisions, create/update
 * compare-and-set, deletes, prefix filters, watches), for unit tests. The real buckets are exercised against
 * nats-server in test/integration/gpu-fleet.test.ts.
 */
import {AllocationRecord, type GpuBucket, GPU_BUCKETS, HealthRecord, KvConflictError, type KvChange, type KvRecord, NodeRecord} from '../../../src/lib/adapters/nats/gpu-kv.js'
import type {FleetSession} from '../../../src/lib/gpu/fleet.js'

interface Stored {
  json: string
  revision: number
  deleted: boolean
}

type Schema = typeof NodeRecord | typeof AllocationRecord | typeof HealthRecord

function memoryBucket<T>(name: string, schema: Schema, counter: {seq: number}): GpuBucket<T> & {raw: Map<string, Stored>; putRaw(key: string, json: string): void} {
  const raw = new Map<string, Stored>()
  const watchers: Array<{filter: string; onChange: (change: KvChange) => void}> = []
  const matches = (filter: string, key: string) => (filter === '>' ? true : filter.endsWith('.>') ? key.startsWith(filter.slice(0, -1)) : key === filter)
  const write = (key: string, json: string, deleted = false) => {
    const revision = ++counter.seq
    raw.set(key, {json, revision, deleted})
    for (const w of watchers) if (matches(w.filter, key)) queueMicrotask(() => w.onChange({key, operation: deleted ? 'DEL' : 'PUT', revision}))
    return revision
  }
  const toRecord = (key: string, stored: Stored): KvRecord<T> => {
    const base = {key, revision: stored.revision, storedAt: new Date().toISOString()}
    let json: unknown
    try {
      json = JSON.parse(stored.json)
    } catch {
      return {...base, problem: 'not JSON'}
    }
    const parsed = schema.safeParse(json)
    return parsed.success ? {...base, value: parsed.data as T} : {...base, problem: parsed.error.issues[0].message}
  }
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve))
  return {
    name,
    raw,
    putRaw: (key, json) => void write(key, json),
    async get(key) {
      await tick()
      const stored = raw.get(key)
      return stored && !stored.deleted ? toRecord(key, stored) : undefined
    },
    async keys(filter = '>') {
      await tick()
      return [...raw.entries()].filter(([key, s]) => !s.deleted && matches(filter, key)).map(([key]) => key).sort()
    },
    async list(filter = '>') {
      const keys = await this.keys(filter)
      return keys.map((key) => toRecord(key, raw.get(key)!))
    },
    async create(key, value) {
      await tick()
      const stored = raw.get(key)
      if (stored && !stored.deleted) throw new KvConflictError(name, key, 'it exists already')
      return write(key, JSON.stringify(value))
    },
    async update(key, value, revision) {
      await tick()
      if (raw.get(key)?.revision !== revision) throw new KvConflictError(name, key, `it is no longer at revision ${revision}`)
      return write(key, JSON.stringify(value))
    },
    async put(key, value) {
      await tick()
      return write(key, JSON.stringify(value))
    },
    async delete(key) {
      await tick()
      write(key, '', true)
    },
    async watch(filter, onChange) {
      const watcher = {filter, onChange}
      watchers.push(watcher)
      return {
        async stop() {
          watchers.splice(watchers.indexOf(watcher), 1)
        },
      }
    },
  }
}

export interface MemoryFleet extends FleetSession {
  published: Array<{subject: string; body: Record<string, unknown>}>
  /** Called for every published event (agents listen here). */
  onPublish?: (subject: string, body: Record<string, unknown>) => void
  store: FleetSession['store'] & {
    nodes: ReturnType<typeof memoryBucket<NodeRecord>>
    allocations: ReturnType<typeof memoryBucket<AllocationRecord>>
    health: ReturnType<typeof memoryBucket<HealthRecord>>
  }
}

export function memoryFleet(): MemoryFleet {
  const counter = {seq: 0}
  const fleet: MemoryFleet = {
    store: {
      nodes: memoryBucket<NodeRecord>(GPU_BUCKETS.nodes, NodeRecord, counter),
      allocations: memoryBucket<AllocationRecord>(GPU_BUCKETS.allocations, AllocationRecord, counter),
      health: memoryBucket<HealthRecord>(GPU_BUCKETS.health, HealthRecord, counter),
    },
    notes: [],
    published: [],
    async publish(subject, body) {
      fleet.published.push({subject, body})
      fleet.onPublish?.(subject, body)
      return {subject, seq: fleet.published.length}
    },
  }
  return fleet
}

/** Allocations `<node>.<workload>` as an agent registers them. */
export async function allocate(fleet: MemoryFleet, node: string, ...workloads: string[]): Promise<void> {
  for (const [gpu, workload] of workloads.entries()) await fleet.store.allocations.put(`${node}.${workload}`, {workload, gpu, since: '2026-11-21T03:00:00Z'})
}

/** A cooperative agent: on `cim.ops.gpu.<node>.evacuate`, its workloads leave one by one. */
export function cooperativeAgent(fleet: MemoryFleet, node: string, delayMs = 5): void {
  const previous = fleet.onPublish
  fleet.onPublish = (subject, body) => {
    previous?.(subject, body)
    if (subject !== `cim.ops.gpu.${node}.evacuate`) return
    void fleet.store.allocations.keys(`${node}.>`).then((keys) =>
      keys.forEach((key, i) => setTimeout(() => void fleet.store.allocations.delete(key), delayMs * (i + 1))),
    )
  }
}
