/**
 * What the morning check reads, besides the health check and Alertmanager: backup sets on disk, drills
 * and the GPU fleet from NATS, event rates from the event stream itself (Prometheus' rates: domains/rates.ts). Parsing is lenient and pure where it can be.
 */
import {readdir, readFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import type {JetStreamManager, NatsConnection} from '../adapters/nats/connection.js'
import type {StoredOpsMessage} from '../adapters/nats/ops-events.js'
import type {ResolvedContext} from '../core/context-types.js'
import type {FleetView} from '../gpu/nodes.js'
import {MANIFEST_FILE, PARTIAL_MARKER, PARTIAL_SUFFIX, sealIntact} from '../backup/manifest.js'
import {domainOf} from '../domains/names.js'
import type {DomainRate, RateResult} from '../domains/rates.js'
import type {BackupSetInfo, DrillInfo, GpuNode} from './model.js'

// ---------------------------------------------------------------------------------------------
// Backup sets

/**
 * Complete backup sets under `dir` (or `dir` itself when it is one): a directory with a manifest.json,
 * not `.partial`, without the in-progress marker, whose manifest (when sealed) matches its checksum. The time is the manifest's completedAt, else
 * createdAt, else time. A manifest that is not JSON or has no time does not count.
 */
export async function readBackupSets(dir: string, now: Date): Promise<BackupSetInfo[]> {
  const root = resolve(dir)
  let names: string[]
  try {
    names = await readdir(root)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw error
  }
  if (names.includes(MANIFEST_FILE)) {
    const one = await readSet(root, now)
    return one ? [one] : []
  }
  const sets = await Promise.all(names.filter((name) => !name.endsWith(PARTIAL_SUFFIX) && !name.startsWith('.')).map((name) => readSet(join(root, name), now)))
  return sets.filter((set): set is BackupSetInfo => set !== undefined)
}

async function readSet(path: string, now: Date): Promise<BackupSetInfo | undefined> {
  let manifest: Record<string, unknown>
  try {
    const entries = await readdir(path)
    if (!entries.includes(MANIFEST_FILE) || entries.includes(PARTIAL_MARKER)) return undefined
    manifest = JSON.parse(await readFile(join(path, MANIFEST_FILE), 'utf8')) as Record<string, unknown>
    // A sealed manifest that no longer matches its checksum is a corrupt set, not a backup to count on.
    if ('checksum' in manifest && !sealIntact(manifest)) return undefined
  } catch {
    return undefined
  }
  const time = [manifest.completedAt, manifest.createdAt, manifest.time].find((t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t)))
  if (!time) return undefined
  const streams = Array.isArray(manifest.streams) ? manifest.streams.map((s) => (typeof s === 'string' ? s : typeof (s as {name?: unknown})?.name === 'string' ? (s as {name: string}).name : '')).filter(Boolean) : []
  return {name: path.split(/[/\\]/).pop() ?? path, path, time: new Date(time).toISOString(), ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(time)) / 1000)), streams}
}

// ---------------------------------------------------------------------------------------------
// Drills (cim.ops.drill.<id>.<event>)

const DRILL_END_EVENTS = new Set(['completed', 'finished', 'passed', 'failed', 'succeeded'])

/**
 * Finished drills from their ops events, one per drill id (its latest end event). The body may be the
 * drill result itself or CIM's envelope around it; passed is `passed: true`, a PASS/passed/succeeded
 * status, or a `.passed`/`.succeeded` subject. The time is the result's finishedAt/completedAt, else
 * the envelope's occurredAt, else when the server stored it.
 */
export function drillsFromOps(messages: readonly StoredOpsMessage[], now: Date): DrillInfo[] {
  const byId = new Map<string, DrillInfo>()
  for (const message of messages) {
    const parts = message.subject.split('.')
    if (parts.length < 5 || parts[0] !== 'cim' || parts[1] !== 'ops' || parts[2] !== 'drill') continue
    const event = parts.at(-1)!.toLowerCase()
    if (!DRILL_END_EVENTS.has(event)) continue
    const id = parts.slice(3, -1).join('.')
    const envelope = (message.data ?? {}) as Record<string, unknown>
    const result = (envelope.data && typeof envelope.data === 'object' ? envelope.data : envelope) as Record<string, unknown>
    const status = String(result.status ?? result.verdict ?? '').toLowerCase()
    const passed = result.passed === true || ['pass', 'passed', 'succeeded', 'success', 'ok'].includes(status) || event === 'passed' || event === 'succeeded'
    const time = [result.finishedAt, result.completedAt, envelope.occurredAt, message.time].find((t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t)))!
    const info: DrillInfo = {id, time: new Date(time).toISOString(), ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(time)) / 1000)), passed}
    const previous = byId.get(id)
    if (!previous || Date.parse(previous.time) <= Date.parse(info.time)) byId.set(id, info)
  }
  return [...byId.values()]
}

// ---------------------------------------------------------------------------------------------
// GPU fleet (as `cimops gpu nodes` reads it from the KV buckets)

export function fleetNodes(view: Pick<FleetView, 'nodes'>): GpuNode[] {
  return view.nodes.map((node) => ({
    node: node.node,
    state: node.state,
    ...(node.reason ? {reason: node.reason} : {}),
    ...(node.since ? {since: node.since} : {}),
    ...(node.health ? {health: node.health.stale ? 'UNKNOWN' : node.health.status} : {}),
  }))
}

// ---------------------------------------------------------------------------------------------
// Event rates

/** Above this many distinct subjects, per-domain counts are not asked for (one entry per subject). */
const MAX_SUBJECTS_TO_COUNT = 10_000

/**
 * From the event stream: messages stored per domain (subject counts), the newest event per domain, and
 * for the whole stream the messages since the window start and over the last 5 minutes (first sequence
 * at that time to the last; deleted messages in between are counted, hence ≈).
 */
export async function ratesFromJetStream(ctx: ResolvedContext, nats: {nc: NatsConnection; jsm: JetStreamManager}, windowSeconds: number, now: Date): Promise<(RateResult & {stream: string}) | undefined> {
  const [{findStream, streamSubjects, lastMessageMeta, jsApiPrefix}, {seqForTime}] = await Promise.all([import('../adapters/nats/jetstream.js'), import('../adapters/nats/messages.js')])
  const address = ctx.nats.servers.join(',')
  const stream = ctx.streams.events
  const info = await findStream(nats.jsm, stream, address, ctx.timeoutMs)
  if (!info) return undefined
  // Per-subject counts cost one entry per aggregate and event type: only for streams with few subjects.
  // Otherwise the domains come from the stream's configured subjects (cim.<domain>.>), counts unknown.
  const stored = new Map<string, number | undefined>()
  if ((info.subjectCount ?? 0) <= MAX_SUBJECTS_TO_COUNT) {
    const found = await streamSubjects(nats.jsm, stream, '>', address, ctx.timeoutMs)
    for (const [subject, count] of Object.entries(found?.subjects ?? {})) {
      const domain = domainOf(subject)
      if (domain) stored.set(domain, (stored.get(domain) ?? 0) + count)
    }
  } else {
    for (const subject of info.subjects) {
      const domain = domainOf(subject)
      if (domain && domain !== '*' && domain !== '>') stored.set(domain, undefined)
    }
  }
  const {lastSeq, messages} = info
  const since = async (seconds: number) => {
    if (messages === 0) return 0
    const first = await seqForTime(nats.jsm, stream, new Date(now.getTime() - seconds * 1000), address, ctx.timeoutMs)
    return Math.max(0, lastSeq - first + 1)
  }
  const options = {jsApiPrefix: jsApiPrefix(ctx.nats.jsDomain), timeoutMs: ctx.timeoutMs}
  const [inWindow, lastFive, latest] = await Promise.all([
    since(windowSeconds),
    since(300),
    Promise.all([...stored.keys()].map((domain) => lastMessageMeta(nats.nc, stream, `cim.${domain}.>`, options))),
  ])
  const domains: DomainRate[] = [...stored.entries()].map(([domain, count], i) => ({
    domain,
    ratePerSecond: null,
    windowCount: null,
    ...(count === undefined ? {} : {stored: count}),
    lastEventAt: latest[i]?.time.toISOString() ?? null,
  }))
  return {stream, domains, windowCount: inWindow, ratePerSecond: lastFive / 300}
}
