/**
 * The GPU fleet's KV buckets (DESIGN.md "CIM conventions"): `cim_gpu_nodes` (node -> state), `cim_gpu_allocations`
 * (`<node>.<workload>` -> allocation) and `cim_gpu_health` (node -> latest published GPU health). The only place
 * that knows the nats.js KV calls and the JSON shapes (validated with zod, modelling the fields cimops uses).
 * Buckets are created on first write; reading a bucket that does not exist yet reads as empty, creating nothing.
 * Compare-and-set: create() fails when the key exists, update() when its revision moved on (KvConflictError).
 */
import type {KV, KvEntry} from '@nats-io/kv'
import type {JetStreamManager} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'
import * as z from 'zod'

import type {NatsSettings} from '../../core/context-types.js'
import {ApiError, CimopsError, ExitCode} from '../../core/errors.js'
import {stripUserinfo} from '../redact.js'
import {toNatsError} from './connection.js'
import {isStreamNotFound} from './jetstream.js'

export const GPU_BUCKETS = {nodes: 'cim_gpu_nodes', allocations: 'cim_gpu_allocations', health: 'cim_gpu_health'} as const
export type GpuBucketName = (typeof GPU_BUCKETS)[keyof typeof GPU_BUCKETS]

export const NODE_STATES = ['active', 'draining', 'drained'] as const
export type NodeState = (typeof NODE_STATES)[number]

export const NodeRecord = z.looseObject({
  state: z.enum(NODE_STATES),
  reason: z.string().optional(),
  /** RFC 3339. */
  since: z.string(),
  by: z.string().optional(),
  /** The evacuation that set draining/drained, when cimops did. */
  evacuationId: z.string().optional(),
})
export type NodeRecord = z.infer<typeof NodeRecord>

export const AllocationRecord = z.looseObject({
  workload: z.string(),
  /** GPU index or uuid the workload holds. */
  gpu: z.union([z.string(), z.number()]).optional(),
  since: z.string().optional(),
})
export type AllocationRecord = z.infer<typeof AllocationRecord>

const Status = z.enum(['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'])

/** What `gpu status --publish` writes; other publishers may add fields. */
export const HealthRecord = z.looseObject({
  node: z.string(),
  status: Status,
  summary: z.string(),
  /** RFC 3339. */
  checkedAt: z.string(),
  gpuCount: z.number().optional(),
  expectedGpus: z.number().optional(),
  gpus: z
    .array(z.looseObject({index: z.number(), uuid: z.string().optional(), name: z.string().optional(), status: Status, findings: z.array(z.string()).optional()}))
    .optional(),
})
export type HealthRecord = z.infer<typeof HealthRecord>

const SCHEMAS = {
  [GPU_BUCKETS.nodes]: NodeRecord,
  [GPU_BUCKETS.allocations]: AllocationRecord,
  [GPU_BUCKETS.health]: HealthRecord,
} as const

type ValueOf<B extends GpuBucketName> = z.infer<(typeof SCHEMAS)[B]>

export interface KvRecord<T> {
  key: string
  /** Undefined when the stored value is not the documented JSON; `problem` says why. */
  value?: T
  problem?: string
  revision: number
  /** RFC 3339, when this revision was stored. */
  storedAt: string
}

export interface KvChange {
  key: string
  operation: 'PUT' | 'DEL' | 'PURGE'
  revision: number
}

/** Someone else changed the key first: the compare-and-set lost. */
export class KvConflictError extends CimopsError {
  readonly code = 'CONFLICT'
  readonly exit = ExitCode.FAILED
  readonly key: string
  constructor(bucket: string, key: string, why: string) {
    super(`${bucket}/${key} changed concurrently`, why, {hint: 'read it again and decide', system: 'nats'})
    this.key = key
  }
}

export interface GpuBucket<T> {
  readonly name: string
  get(key: string): Promise<KvRecord<T> | undefined>
  /** Current keys matching a KV filter (`gpu-07.>`); deleted keys are not listed. */
  keys(filter?: string): Promise<string[]>
  /** Current entries matching the filter. */
  list(filter?: string): Promise<Array<KvRecord<T>>>
  /** Only when the key does not exist (or was deleted): returns the new revision. */
  create(key: string, value: T): Promise<number>
  /** Only when the key is still at `revision`. */
  update(key: string, value: T, revision: number): Promise<number>
  put(key: string, value: T): Promise<number>
  /** With `revision`: only when the key is still at it (compare-and-delete). */
  delete(key: string, revision?: number): Promise<void>
  /** Calls back on every change after the call (puts and deletes); stop() ends it. */
  watch(filter: string, onChange: (change: KvChange) => void): Promise<{stop(): Promise<void>}>
}

export interface GpuFleetStore {
  nodes: GpuBucket<NodeRecord>
  allocations: GpuBucket<AllocationRecord>
  health: GpuBucket<HealthRecord>
}

/** History kept per key: node state changes are worth a short trail; allocations and health only the latest. */
const HISTORY: Record<GpuBucketName, number> = {cim_gpu_nodes: 10, cim_gpu_allocations: 1, cim_gpu_health: 1}
const WRONG_LAST_SEQUENCE = 10071
/** Gets in flight at once when listing a bucket. */
const LIST_CONCURRENCY = 16

export async function openGpuFleet(nc: NatsConnection, jsm: JetStreamManager, settings: NatsSettings, timeoutMs: number, replicas = 1): Promise<GpuFleetStore> {
  const [{jetstream}, {Kvm, KvWatchInclude}] = await Promise.all([import('@nats-io/jetstream'), import('@nats-io/kv')])
  const js = jetstream(nc, {domain: settings.jsDomain, timeout: timeoutMs})
  const kvm = new Kvm(js)
  const address = stripUserinfo(nc.getServer())

  const bucket = <B extends GpuBucketName>(name: B): GpuBucket<ValueOf<B>> => {
    const schema = SCHEMAS[name]
    let opened: Promise<KV> | undefined
    let exists: boolean | undefined
    const fail = (error: unknown, what: string): never => {
      if (error instanceof CimopsError) throw error
      const typed = toNatsError(error, address, timeoutMs)
      if (typed instanceof Error && typed !== error) throw typed
      throw new ApiError('nats', address, `${what} in KV bucket ${name}: ${error instanceof Error ? error.message : String(error)}`)
    }
    /** For writes: the bucket, created on first use. */
    const writable = (): Promise<KV> => {
      opened ??= kvm.create(name, {history: HISTORY[name], replicas: Math.min(3, Math.max(1, replicas)), timeout: timeoutMs}).then((kv) => {
        exists = true
        return kv
      })
      return opened.catch((error: unknown) => {
        opened = undefined
        return fail(error, 'cannot open')
      })
    }
    /** For reads: the bucket, or undefined when it does not exist (nothing is created). */
    const readable = async (): Promise<KV | undefined> => {
      if (exists === undefined) {
        try {
          await jsm.streams.info(`KV_${name}`)
          exists = true
        } catch (error) {
          if (isNotFound(error)) return undefined
          return fail(error, 'cannot look up')
        }
      }
      return exists ? writable() : undefined
    }
    const toRecord = (entry: KvEntry): KvRecord<ValueOf<B>> => {
      const base = {key: entry.key, revision: entry.revision, storedAt: entry.created.toISOString()}
      let json: unknown
      try {
        json = JSON.parse(entry.string())
      } catch {
        return {...base, problem: 'not JSON'}
      }
      const parsed = schema.safeParse(json)
      if (parsed.success) return {...base, value: parsed.data as ValueOf<B>}
      const issue = parsed.error.issues[0]
      return {...base, problem: `${issue.path.join('.') || 'value'}: ${issue.message}`}
    }
    const conflictOr = (error: unknown, key: string, why: string, what: string): never => {
      if (isWrongLastSequence(error)) throw new KvConflictError(name, key, why)
      return fail(error, what)
    }
    const encode = (value: ValueOf<B>) => JSON.stringify(value)

    return {
      name,
      async get(key) {
        const kv = await readable()
        if (!kv) return undefined
        try {
          const entry = await kv.get(key)
          return entry && entry.operation === 'PUT' ? toRecord(entry) : undefined
        } catch (error) {
          return fail(error, `cannot read ${key}`)
        }
      },
      async keys(filter = '>') {
        const kv = await readable()
        if (!kv) return []
        try {
          const out: string[] = []
          for await (const key of await kv.keys(filter)) out.push(key)
          return out.sort()
        } catch (error) {
          return fail(error, `cannot list ${filter}`)
        }
      },
      async list(filter = '>') {
        const keys = await this.keys(filter)
        const records: Array<KvRecord<ValueOf<B>>> = []
        for (let i = 0; i < keys.length; i += LIST_CONCURRENCY) {
          const batch = await Promise.all(keys.slice(i, i + LIST_CONCURRENCY).map((key) => this.get(key)))
          for (const record of batch) if (record) records.push(record)
        }
        return records
      },
      async create(key, value) {
        const kv = await writable()
        try {
          return await kv.create(key, encode(value))
        } catch (error) {
          return conflictOr(error, key, 'it exists already', `cannot create ${key}`)
        }
      },
      async update(key, value, revision) {
        const kv = await writable()
        try {
          return await kv.update(key, encode(value), revision)
        } catch (error) {
          return conflictOr(error, key, `it is no longer at revision ${revision}`, `cannot update ${key}`)
        }
      },
      async put(key, value) {
        const kv = await writable()
        try {
          return await kv.put(key, encode(value))
        } catch (error) {
          return fail(error, `cannot write ${key}`)
        }
      },
      async delete(key, revision) {
        const kv = await writable()
        try {
          await kv.delete(key, revision === undefined ? undefined : {previousSeq: revision})
        } catch (error) {
          conflictOr(error, key, `it is no longer at revision ${revision}`, `cannot delete ${key}`)
        }
      },
      async watch(filter, onChange) {
        const kv = await writable()
        let iterator: Awaited<ReturnType<KV['watch']>>
        try {
          iterator = await kv.watch({key: filter, include: KvWatchInclude.UpdatesOnly})
        } catch (error) {
          return fail(error, `cannot watch ${filter}`)
        }
        const done = (async () => {
          for await (const entry of iterator) onChange({key: entry.key, operation: entry.operation, revision: entry.revision})
        })().catch(() => {})
        return {
          async stop() {
            iterator.stop()
            await done
          },
        }
      },
    }
  }

  return {nodes: bucket(GPU_BUCKETS.nodes), allocations: bucket(GPU_BUCKETS.allocations), health: bucket(GPU_BUCKETS.health)}
}

function isWrongLastSequence(error: unknown): boolean {
  return error instanceof Error && ((error as {code?: unknown}).code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(error.message))
}

/** The KV client reports a missing bucket stream by message as well as by code. */
function isNotFound(error: unknown): boolean {
  return isStreamNotFound(error) || (error instanceof Error && /stream not found/i.test(error.message))
}
