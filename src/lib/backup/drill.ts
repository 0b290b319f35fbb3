/**
 * `cimops drill`: the DR drill end to end. Back up, restore into an isolated target (an ephemeral
 * nats-server by default), compare source and restored copy message by message, and report the
 * measured backup time, restore time (RTO) and RPO. The result is what an ops event
 * (`cim.ops.drill.<id>.completed`) would carry once the ops log exists.
 */
import {rm} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {readMessages} from '../adapters/nats/backup-messages.js'
import {deleteStream, jsApiFor, type JsApi, streamDetail} from '../adapters/nats/backup-streams.js'
import {type NatsSession, withNatsSession} from '../adapters/nats/session.js'
import {MIN_IDLE_TIMEOUT_MS} from '../adapters/nats/snapshot.js'
import type {NatsSettings} from '../core/context-types.js'
import {createBackup} from './create.js'
import {ContentDigest, type ContentSummary, subjectDifferences, type SubjectDifference} from './digest.js'
import {ownedTempDir, serverVersionNeeded, TEMP_PREFIXES, withEphemeralNats} from './ephemeral.js'
import {loadSet} from './integrity.js'
import {interruptible} from './interrupt.js'
import type {BackupMode, ManifestStream} from './manifest.js'
import type {ProgressListener} from './progress.js'
import {restoreSet} from './restore.js'

export interface DrillTarget {
  /** The cimops context named by --target-context. */
  context: string
  nats: NatsSettings
}

export interface DrillOptions {
  /** The servers backed up. */
  source: NatsSettings
  /** The command's session on them; without one the drill opens its own. */
  nats?: NatsSession
  timeoutMs: number
  streams: string[]
  all: boolean
  mode: BackupMode
  /** Restore there instead of into an ephemeral nats-server. */
  target?: DrillTarget
  /** Replicas of the restored streams; default 1 on the ephemeral server, as backed up on --target-context. */
  replicas?: number
  /** Keep the backup set here; by default it lives in a temp dir and is removed. */
  dir?: string
  cimopsVersion: string
  signal?: AbortSignal
  onProgress?: ProgressListener
  log?: (line: string) => void
  /** Test seam: runs after the restore, before the comparison, with the target's connection settings. */
  afterRestore?: (target: NatsSettings) => Promise<void>
}

export interface DrillCheck {
  name: string
  source: string
  restored: string
  ok: boolean
}

export interface DrillStreamResult {
  name: string
  passed: boolean
  messages: number
  checks: DrillCheck[]
  /** Subjects whose counts differ (at most 20). */
  subjectDifferences: SubjectDifference[]
}

export interface DrillResult {
  /** drill-<UTC time>: the id an ops event would use. */
  id: string
  passed: boolean
  mode: BackupMode
  startedAt: string
  completedAt: string
  source: {serverVersion: string}
  target: {kind: 'ephemeral' | 'context'; context?: string; serverVersion: string}
  backup: {durationSeconds: number; size: number; messages: number; set?: string}
  /** Time to restore every stream, checksum verification included: the RTO this drill measured. */
  restore: {durationSeconds: number}
  /** Age of the newest message the backup holds, at the moment the backup completed. */
  rpoSeconds?: number
  newestMessageTime?: string
  streams: DrillStreamResult[]
  durationSeconds: number
}

export async function runDrill(opts: DrillOptions): Promise<DrillResult> {
  return interruptible(opts.signal, () => withNatsSession(opts.nats, opts.source, {timeoutMs: opts.timeoutMs, name: 'cimops-drill'}, (source) => drill(opts, source)))
}

async function drill(opts: DrillOptions, sourceSession: NatsSession): Promise<DrillResult> {
  const started = performance.now()
  const startedAt = new Date()
  const log = opts.log ?? (() => {})
  const tempDir = opts.dir ? undefined : await ownedTempDir(TEMP_PREFIXES.drill, log)
  const setDir = opts.dir ? resolve(opts.dir) : join(tempDir!, 'set')
  const idleTimeoutMs = Math.max(MIN_IDLE_TIMEOUT_MS, opts.timeoutMs)
  try {
    log(`backing up ${opts.all ? 'every stream' : opts.streams.join(', ')} (${opts.mode})`)
    const backupStarted = performance.now()
    const backup = await createBackup({
      nats: sourceSession,
      timeoutMs: opts.timeoutMs,
      streams: opts.streams,
      all: opts.all,
      dir: setDir,
      mode: opts.mode,
      consumers: true,
      check: false,
      cimopsVersion: opts.cimopsVersion,
      signal: opts.signal,
      onProgress: opts.onProgress,
      log,
    })
    const backupSeconds = seconds(backupStarted)
    const set = await loadSet(setDir)
    const entries = set.manifest.streams

    log('reading the source streams for comparison')
    const sourceApi = jsApiFor((await sourceSession.connection()).nc, sourceSession.settings, opts.timeoutMs)
    const summaries = new Map<string, ContentSummary>()
    for (const [i, entry] of entries.entries()) {
      summaries.set(entry.name, await summarize(sourceApi, entry.name, entry.firstSeq, entry.lastSeq, entry.messages, {idleTimeoutMs, signal: opts.signal, onProgress: opts.onProgress, index: i + 1, items: entries.length}))
    }
    const source = {serverVersion: (await sourceSession.serverInfo()).version, summaries}

    // One session on the target for the restore and the comparison, closed before an ephemeral server stops.
    const restoreAndCompare = (target: NatsSettings) => withNatsSession(undefined, target, {timeoutMs: opts.timeoutMs, name: 'cimops-drill'}, async (targetSession) => {
      log('restoring')
      const restoreStarted = performance.now()
      const restored = await restoreSet({
        set,
        streams: [],
        replicas: opts.replicas ?? (opts.target ? undefined : 1),
        force: false,
        dryRun: false,
        nats: targetSession,
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        onProgress: opts.onProgress,
      })
      const restoreSeconds = seconds(restoreStarted)
      await opts.afterRestore?.(target)
      log('reading the restored streams for comparison')
      const api = jsApiFor((await targetSession.connection()).nc, targetSession.settings, opts.timeoutMs)
      try {
        return await compareAll(api)
      } finally {
        // On a --target-context server, remove what the drill restored (it created every one: restore never replaces).
        if (opts.target) {
          for (const stream of restored.streams) await deleteStream(api, stream.target).catch((error: Error) => log(`could not remove ${stream.target} from the target: ${error.message}`))
          log(`removed the restored ${restored.streams.map((s) => s.target).join(', ')} from context ${opts.target.context}`)
        }
      }

      async function compareAll(api: JsApi) {
        const streams: DrillStreamResult[] = []
        for (const [i, entry] of entries.entries()) {
          const restoredStream = restored.streams.find((stream) => stream.stream === entry.name)
          const detail = await streamDetail(api, entry.name)
          const range = set.manifest.mode === 'snapshot' ? {from: entry.firstSeq, to: entry.lastSeq} : {from: detail?.facts.firstSeq ?? 0, to: detail?.facts.lastSeq ?? 0}
          const copy = detail
            ? await summarize(api, entry.name, range.from, range.to, detail.facts.messages, {idleTimeoutMs, signal: opts.signal, onProgress: opts.onProgress, index: i + 1, items: entries.length})
            : undefined
          streams.push(compareStream(entry, set.manifest.mode, source.summaries.get(entry.name)!, copy, restoredStream?.checks ?? []))
        }
        return {restoreSeconds, serverVersion: restored.serverVersion, streams}
      }
    })

    const outcome = opts.target
      ? await restoreAndCompare(opts.target.nats)
      : await withEphemeralNats((target) => restoreAndCompare(target.nats), {minVersion: await serverVersionNeeded(set), signal: opts.signal, log})
    const newest = entries
      .map((entry) => entry.lastTime)
      .filter((time): time is string => Boolean(time))
      .sort()
      .at(-1)
    const completedAt = new Date()
    return {
      id: `drill-${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(/[-:]/g, '')}`,
      passed: outcome.streams.every((stream) => stream.passed),
      mode: set.manifest.mode,
      startedAt: startedAt.toISOString(),
      completedAt: completedAt.toISOString(),
      source: {serverVersion: source.serverVersion},
      target: opts.target ? {kind: 'context', context: opts.target.context, serverVersion: outcome.serverVersion} : {kind: 'ephemeral', serverVersion: outcome.serverVersion},
      backup: {durationSeconds: backupSeconds, size: backup.size, messages: backup.messages, set: opts.dir ? setDir : undefined},
      restore: {durationSeconds: outcome.restoreSeconds},
      rpoSeconds: newest ? Math.max(0, (new Date(set.manifest.completedAt).getTime() - new Date(newest).getTime()) / 1000) : undefined,
      newestMessageTime: newest,
      streams: outcome.streams,
      durationSeconds: seconds(started),
    }
  } finally {
    if (tempDir) await rm(tempDir, {recursive: true, force: true})
  }
}

interface SummarizeOptions {
  idleTimeoutMs: number
  signal?: AbortSignal
  onProgress?: ProgressListener
  index: number
  items: number
}

/** Count, range, per-subject counts and digest of messages from..to of a stream. */
async function summarize(api: JsApi, stream: string, from: number, to: number, expected: number, opts: SummarizeOptions): Promise<ContentSummary> {
  const digest = new ContentDigest(true)
  let bytes = 0
  if (expected > 0 && to >= from && to > 0) {
    await readMessages(api, stream, {fromSeq: from, toSeq: to, idleTimeoutMs: opts.idleTimeoutMs, signal: opts.signal}, (message) => {
      digest.update(message.subject, message.data, message.seq)
      bytes += message.data.length
      if ((digest.messages & 4095) === 0) opts.onProgress?.({phase: 'compare', item: stream, index: opts.index, items: opts.items, bytes, messages: digest.messages, totalMessages: expected})
    })
  }
  return digest.summary()
}

function compareStream(entry: ManifestStream, mode: BackupMode, source: ContentSummary, restored: ContentSummary | undefined, restoreChecks: Array<{name: string; expected: string; actual: string; ok: boolean}>): DrillStreamResult {
  const checks: DrillCheck[] = restoreChecks.map((check) => ({name: `restored ${check.name} vs manifest`, source: check.expected, restored: check.actual, ok: check.ok}))
  const add = (name: string, a: string | number, b: string | number, ok = String(a) === String(b)) => checks.push({name, source: String(a), restored: String(b), ok})
  if (!restored) {
    add('stream exists', 'yes', 'no')
    return {name: entry.name, passed: false, messages: source.messages, checks, subjectDifferences: []}
  }
  add('messages', source.messages, restored.messages)
  if (mode === 'snapshot') {
    add('sequence range', range(source), range(restored))
  }
  const differences = subjectDifferences(source.subjects, restored.subjects)
  add('subjects', `${source.subjects.size} subjects`, differences.length === 0 ? `${restored.subjects.size} subjects` : `${differences.length} differ`, differences.length === 0)
  add('content digest', source.digest, restored.digest)
  return {name: entry.name, passed: checks.every((check) => check.ok), messages: source.messages, checks, subjectDifferences: differences.slice(0, 20)}
}

function range(summary: ContentSummary): string {
  return summary.messages === 0 ? 'empty' : `${summary.firstSeq}-${summary.lastSeq}`
}

function seconds(started: number): number {
  return Math.round(performance.now() - started) / 1000
}
