/**
 * `cimops restore`: checks the set before touching any server (every archive decompressed end to end),
 * refuses an archive format the server cannot read and to replace a stream unless told to (and
 * confirmed), restores (snapshot upload or logical republish), then compares what the server holds
 * with the manifest.
 *
 * A logical restore marks the stream it fills (its description says "restore in progress") until the
 * last message is in: an interrupted one never looks complete, and running the same restore again
 * resumes it. A snapshot restore cannot be renamed or marked (the server takes the name from the
 * archive), so everything that can be checked is checked before a stream is deleted.
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {isJsonObject, type JsonObject, jsonNumber, parseJson} from '../adapters/nats/backup-json.js'
import {readMessages, publishMessages} from '../adapters/nats/backup-messages.js'
import {
  createStream,
  deletedSequences,
  deleteStream,
  jsApiFor,
  type JsApi,
  type StreamDetail,
  type StreamFacts,
  streamConsumers,
  streamDetail,
  streamNames,
  updateStream,
} from '../adapters/nats/backup-streams.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {MIN_IDLE_TIMEOUT_MS, restoreChunkBytes, restoreSnapshot} from '../adapters/nats/snapshot.js'
import {fitStreamConfig} from '../adapters/nats/stream-config.js'
import {DataError, InterruptedError, isCimopsError, OperationError, UnreachableError, UsageError} from '../core/errors.js'
import {assertServerReadsArchive} from './archive.js'
import {ContentDigest} from './digest.js'
import {readChunks} from './file-sink.js'
import {assertIntact, checkFiles, type LoadedSet} from './integrity.js'
import {interruptible} from './interrupt.js'
import {type LogicalMessage, readMessagesFile} from './logical.js'
import {BACKUP_FILE, type BackupMode, type ManifestStream, MESSAGES_FILE, RESTORE_MARKER, snapshotFile} from './manifest.js'
import type {ProgressListener} from './progress.js'
import {subjectsOverlap} from './subjects.js'

const HEALTHY_WAIT_MS = 30_000
/** ADR-63: a V2 archive carries each consumer at its ack floor, not where its deliveries stood. */
export const V2_CONSUMERS_NOTE = 'consumers come back at their ack floor (backup V2 format): messages delivered but not acknowledged before the backup are delivered again'
const FINAL_REPLY_TIMEOUT_MS = 3_600_000
const STREAM_NAME = /^[^\s.*>/\\]+$/

export interface RestoreSetOptions {
  set: LoadedSet
  /** Streams of the set to restore; empty: all. */
  streams: string[]
  /** Restore the (single, logical) stream under this name. */
  as?: string
  /** Override num_replicas. */
  replicas?: number
  force: boolean
  dryRun: boolean
  /** The session on the servers to restore into. */
  nats: NatsSession
  timeoutMs: number
  signal?: AbortSignal
  onProgress?: ProgressListener
  /** Asked once before existing streams are deleted (--force); false cancels. */
  confirm?: (question: string) => Promise<boolean>
  /** The caller checked the files already (drill, deep verify). */
  verified?: boolean
}

/** resume: the target is this set's own unfinished logical restore (marked), which is continued. */
export type RestoreAction = 'create' | 'replace' | 'resume'

export interface RestorePlanItem {
  stream: string
  target: string
  action: RestoreAction
  mode: BackupMode
  messages: number
  /** Bytes to upload or read. */
  size: number
  replicas: number
  /** The stream being replaced, or the messages an unfinished restore already put back. */
  existingMessages?: number
  /** What this restore will not bring back as it was (settings the server lacks, consumer positions). */
  notes: string[]
}

export interface RestoreCheck {
  name: string
  expected: string
  actual: string
  ok: boolean
}

export interface RestoredStreamResult extends RestorePlanItem {
  durationSeconds: number
  ok: boolean
  checks: RestoreCheck[]
}

export interface RestoreResult {
  set: string
  /** natscli: a backup without a manifest, checked for structure only. */
  source: 'cimops' | 'natscli'
  mode: BackupMode
  dryRun: boolean
  /** Existing streams may be replaced. */
  force: boolean
  serverVersion: string
  plan: RestorePlanItem[]
  streams: RestoredStreamResult[]
  ok: boolean
  durationSeconds: number
}

export async function restoreSet(opts: RestoreSetOptions): Promise<RestoreResult> {
  return interruptible(opts.signal, () => restore(opts))
}

async function restore(opts: RestoreSetOptions): Promise<RestoreResult> {
  const started = performance.now()
  const {set} = opts
  const {manifest} = set
  const entries = selectEntries(set, opts.streams)
  validateTargets(opts, entries, manifest.mode)
  if (opts.replicas !== undefined && (!Number.isInteger(opts.replicas) || opts.replicas < 1 || opts.replicas > 5)) {
    throw new UsageError(`invalid --replicas ${opts.replicas}`, 'expected 1 to 5')
  }
  // Before any server is contacted: a corrupt set is refused with exit 65.
  if (!opts.verified) assertIntact(set, await checkFiles(set, entries, opts.onProgress))

  const {nc} = await opts.nats.connection()
  const api = jsApiFor(nc, opts.nats.settings, opts.timeoutMs)
  const server = await opts.nats.serverInfo()
  const plan: RestorePlanItem[] = []
  for (const entry of entries) {
    const target = opts.as ?? entry.name
    const existing = await streamDetail(api, target)
    // --force replaces even an unfinished restore; without it, that one is continued.
    const resume = existing !== undefined && !opts.force && manifest.mode === 'logical' && existing.config.description === restoreMarker(set, entry)
    plan.push({
      stream: entry.name,
      target,
      action: resume ? 'resume' : existing ? 'replace' : 'create',
      mode: manifest.mode,
      messages: entry.messages,
      size: entry.files.reduce((sum, file) => sum + file.size, 0),
      replicas: opts.replicas ?? entry.replicas,
      existingMessages: existing?.facts.messages,
      notes: [],
    })
  }
  const tooMany = server.cluster ? [] : plan.filter((item) => item.replicas > 1)
  if (tooMany.length > 0) {
    throw new UsageError(`cannot restore ${tooMany.map((item) => `${item.target} with ${item.replicas} replicas`).join(', ')}`, `${api.address} is a single server, not a cluster`, {
      hint: 'add --replicas 1',
    })
  }
  // Everything the server will refuse is refused now, before a stream is deleted.
  for (const [i, entry] of entries.entries()) {
    const {config} = await readBackupJson(set, entry)
    if (manifest.mode === 'snapshot') {
      const format = await assertServerReadsArchive(join(set.dir, snapshotFile(entry)), entry.name, {version: server.version, address: api.address})
      if (format === 'v2' && entry.consumers.length > 0) plan[i].notes.push(V2_CONSUMERS_NOTE)
    } else {
      assertRepublishable(entry, config)
    }
    const {dropped} = fitStreamConfig(config, server.version)
    if (dropped.length > 0) plan[i].notes.push(`nats-server ${server.version} does not know ${dropped.join(', ')}: restored without ${dropped.length > 1 ? 'them' : 'it'}`)
  }
  await checkSubjectConflicts(api, entries, plan)
  const replacing = plan.filter((item) => item.action === 'replace')
  if (replacing.length > 0 && !opts.force && !opts.dryRun) {
    const list = replacing.map((item) => `${item.target} (${item.existingMessages} messages)`).join(', ')
    throw new UsageError(`refusing to restore over existing stream${replacing.length > 1 ? 's' : ''} ${list}`, 'a restore never replaces a stream unless told to', {
      hint: 'pass --force to delete and replace it, with --yes when there is no terminal to confirm on; or restore a logical set under another name with --as',
    })
  }
  const base = {set: set.dir, source: set.source, mode: manifest.mode, serverVersion: server.version, plan}
  // A dry run shows what would be refused instead of refusing.
  if (opts.dryRun) return {...base, dryRun: true, force: opts.force, streams: [], ok: opts.force || replacing.length === 0, durationSeconds: seconds(started)}

  if (replacing.length > 0) {
    const question = `Delete ${replacing.map((item) => `${item.target} (${item.existingMessages} messages)`).join(', ')} on ${api.address} and replace ${replacing.length > 1 ? 'them' : 'it'} from ${set.dir}?`
    const yes = opts.confirm ? await opts.confirm(question) : false
    if (!yes) throw new UsageError('restore cancelled', 'not confirmed; nothing was changed')
  }

  const streams: RestoredStreamResult[] = []
  for (const [i, item] of plan.entries()) {
    const entry = entries[i]
    const itemStarted = performance.now()
    const progress = (bytes: number, messages?: number) =>
      opts.onProgress?.({phase: 'restore', item: item.target, index: i + 1, items: plan.length, bytes, totalBytes: item.size, messages, totalMessages: messages === undefined ? undefined : item.messages})
    let deleted = false
    const failed = (error: unknown) => restoreFailure(error, {item, rest: plan.slice(i), set, address: api.address, deleted, aborted: opts.signal?.aborted === true})
    let unmark: (() => Promise<unknown>) | undefined
    try {
      if (item.action === 'replace') {
        await deleteStream(api, item.target)
        deleted = true
      }
      if (manifest.mode === 'snapshot') await restoreArchive(api, server.version, set, entry, item, opts, progress)
      else unmark = await republish(api, server.version, set, entry, item, opts, progress)
    } catch (error) {
      throw failed(error)
    }
    const checks = await compareWithManifest(api, entry, item, manifest.mode, opts)
    const ok = checks.every((check) => check.ok)
    // A logical restore loses its marker only once it matches the manifest.
    if (ok && unmark) await unmark().catch((error: unknown) => Promise.reject(failed(error)))
    streams.push({...item, durationSeconds: seconds(itemStarted), ok, checks})
  }
  return {...base, dryRun: false, force: opts.force, streams, ok: streams.every((stream) => stream.ok), durationSeconds: seconds(started)}
}

function selectEntries(set: LoadedSet, names: string[]): ManifestStream[] {
  if (names.length === 0) return set.manifest.streams
  const unknown = names.filter((name) => !set.manifest.streams.some((stream) => stream.name === name))
  if (unknown.length > 0) {
    throw new UsageError(`${set.dir} has no stream ${unknown.join(', ')}`, `it holds ${set.manifest.streams.map((s) => s.name).join(', ') || 'no streams'}`)
  }
  return set.manifest.streams.filter((stream) => names.includes(stream.name))
}

function validateTargets(opts: RestoreSetOptions, entries: ManifestStream[], mode: BackupMode): void {
  if (opts.as === undefined) return
  if (mode === 'snapshot') {
    throw new UsageError('a snapshot cannot be restored under another name', 'the server checks the stream name stored inside the archive (nats-server #2850)', {
      hint: 'take a logical backup (cimops backup create --logical) to restore under another name',
    })
  }
  if (entries.length !== 1) throw new UsageError('--as needs exactly one stream', `the selection has ${entries.length}`, {hint: 'pick it with --stream'})
  if (!STREAM_NAME.test(opts.as)) throw new UsageError(`invalid --as "${opts.as}"`, 'a stream name cannot contain spaces, dots, *, >, / or \\')
}

/** A restored stream takes its subjects with it: refuse up front when another stream owns any of them. */
async function checkSubjectConflicts(api: JsApi, entries: ManifestStream[], plan: RestorePlanItem[]): Promise<void> {
  const targets = new Set(plan.map((item) => item.target))
  const others: StreamFacts[] = []
  for (const name of await streamNames(api)) {
    if (targets.has(name)) continue
    const detail = await streamDetail(api, name)
    if (detail) others.push(detail.facts)
  }
  for (const [i, entry] of entries.entries()) {
    for (const other of others) {
      const clash = entry.subjects.find((subject) => other.subjects.some((theirs) => subjectsOverlap(subject, theirs)))
      if (clash) {
        throw new UsageError(`cannot restore ${entry.name}${plan[i].target === entry.name ? '' : ` as ${plan[i].target}`}`, `its subject ${clash} overlaps stream ${other.name} (${other.subjects.join(', ')})`, {
          hint: `restore into another server or account (--context / --nats-url), or remove ${other.name} first`,
        })
      }
    }
  }
}

async function restoreArchive(
  api: JsApi,
  serverVersion: string,
  set: LoadedSet,
  entry: ManifestStream,
  item: RestorePlanItem,
  opts: RestoreSetOptions,
  progress: (bytes: number) => void,
): Promise<void> {
  const backup = await readBackupJson(set, entry)
  const request = {...backup, config: fitStreamConfig(backup.config, serverVersion).config}
  if (opts.replicas !== undefined) request.config.num_replicas = jsonNumber(opts.replicas)
  let sent = 0
  let reported = 0
  await restoreSnapshot(api, {
    stream: item.target,
    request,
    chunks: readChunks(join(set.dir, snapshotFile(entry)), restoreChunkBytes(api)),
    chunkTimeoutMs: Math.max(opts.timeoutMs, MIN_IDLE_TIMEOUT_MS),
    finalTimeoutMs: FINAL_REPLY_TIMEOUT_MS,
    signal: opts.signal,
    onChunk(bytes) {
      sent += bytes
      if (sent - reported >= 1024 * 1024 || sent === item.size) {
        reported = sent
        progress(sent)
      }
    },
  })
}

/** Fills the marked stream; returns what removes the marker (the original configuration, sealed or not). */
async function republish(
  api: JsApi,
  serverVersion: string,
  set: LoadedSet,
  entry: ManifestStream,
  item: RestorePlanItem,
  opts: RestoreSetOptions,
  progress: (bytes: number, messages: number) => void,
): Promise<() => Promise<unknown>> {
  const {config} = fitStreamConfig((await readBackupJson(set, entry)).config, serverVersion)
  config.name = item.target
  if (opts.replicas !== undefined) config.num_replicas = jsonNumber(opts.replicas)
  const path = join(set.dir, entry.dir, MESSAGES_FILE)
  const messages = readMessagesFile(path)[Symbol.asyncIterator]()
  try {
    let present = 0
    if (item.action === 'resume') {
      present = await matchPresent(api, item, messages, opts)
    } else {
      // Marked until the last message is in, and never sealed before that.
      await createStream(api, {...config, description: restoreMarker(set, entry), sealed: false})
    }
    await publishMessages(api, {[Symbol.asyncIterator]: () => messages}, {
      stream: item.target,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      onPublished(count) {
        const done = present + count
        if ((done & 1023) === 0 || done === entry.messages) progress(Math.round((item.size * done) / Math.max(1, entry.messages)), done)
      },
    })
  } finally {
    await messages.return?.(undefined)
  }
  // The original description (or none) replaces the marker: from then on the stream is the restored one.
  return () => updateStream(api, config)
}

/** The marker of a logical restore of this stream from this set. */
function restoreMarker(set: LoadedSet, entry: ManifestStream): string {
  return `${RESTORE_MARKER} from ${join(set.dir, entry.dir)} (${entry.messages} messages): incomplete until it finishes; run the same restore again to continue`
}

/**
 * Resuming: what the marked stream holds must be exactly the start of the file (an unfinished restore
 * publishes in order, one connection); those messages are skipped, so the rest follows them.
 */
async function matchPresent(api: JsApi, item: RestorePlanItem, file: AsyncIterator<LogicalMessage>, opts: RestoreSetOptions): Promise<number> {
  const detail = await streamDetail(api, item.target)
  const facts = detail?.facts
  if (!facts || facts.messages === 0) return 0
  let matched = 0
  const differs = (why: string) =>
    new UsageError(`cannot resume the restore of ${item.target}`, `${why}: it holds messages that are not the start of this backup`, {
      hint: `nothing was changed; replace it with --force (it is an unfinished restore), or restore elsewhere`,
    })
  await readMessages(api, item.target, {fromSeq: facts.firstSeq, toSeq: facts.lastSeq, idleTimeoutMs: Math.max(MIN_IDLE_TIMEOUT_MS, opts.timeoutMs), signal: opts.signal}, async (stored) => {
    const next = await file.next()
    if (next.done) throw differs(`it has more messages than the backup (${facts.messages})`)
    if (next.value.subject !== stored.subject || !Buffer.from(next.value.data).equals(Buffer.from(stored.data))) throw differs(`message ${matched + 1} (sequence ${stored.seq}) differs`)
    matched++
  })
  return matched
}

/** A logical set republishes messages: a stream whose messages come from elsewhere cannot be restored so. */
function assertRepublishable(entry: ManifestStream, config: JsonObject): void {
  if (config.mirror !== undefined && config.mirror !== null) {
    throw new UsageError(`cannot restore ${entry.name} from a logical set`, 'it is a mirror: its messages come from its origin stream', {hint: 'restore the origin stream instead'})
  }
  if (Array.isArray(config.sources) && config.sources.length > 0) {
    throw new UsageError(`cannot restore ${entry.name} from a logical set`, 'it takes its messages from source streams', {hint: 'restore the source streams instead'})
  }
}

/**
 * A restore that failed part-way says what it left behind: the stream it deleted (loudly, with where
 * the backup is), an unfinished logical restore to resume, and a lost connection as unreachable (69).
 */
function restoreFailure(error: unknown, at: {item: RestorePlanItem; rest: RestorePlanItem[]; set: LoadedSet; address: string; deleted: boolean; aborted: boolean}): unknown {
  const {item, set} = at
  // This stream and those not started yet: the ones before it are restored and would now be refused as existing.
  const rerun = `cimops restore ${set.dir}${item.target === item.stream ? '' : ` --as ${item.target}`} ${at.rest.map((rest) => `--stream ${rest.stream}`).join(' ')}`
  const state =
    at.item.mode === 'logical'
      ? `${item.target} is left unfinished and marked "${RESTORE_MARKER}"; \`${rerun}\` continues it`
      : `see what the server holds with \`cimops stream info ${item.target}\` (nats-server 2.15+ can leave a partial stream behind: delete it), then run \`${rerun}\` again`
  const hint = at.deleted
    ? `THE EXISTING ${item.target} (${item.existingMessages ?? 0} messages) WAS DELETED and is not restored; the backup is intact in ${set.dir}; ${state}`
    : state
  // A refusal: nothing was changed.
  if (error instanceof UsageError) return error
  const cause = isCimopsError(error) ? error : undefined
  if (error instanceof InterruptedError || at.aborted) return new InterruptedError(`the restore of ${item.target} was interrupted`, {hint})
  const why = cause?.why ?? (error instanceof Error ? error.message : String(error))
  if (cause instanceof UnreachableError || isConnectionLost(error)) {
    return new UnreachableError('nats', at.address, `the connection was lost during the restore of ${item.target}${cause ? ` (${why})` : ''}`, {hint})
  }
  const what = at.deleted ? `the restore of ${item.target} failed AFTER the existing stream was deleted` : `the restore of ${item.target} failed`
  return new OperationError(what, cause ? `${cause.what}: ${why}` : why, {hint, cause: error})
}

/** nats.js errors of a connection that closed under a request. */
function isConnectionLost(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (['ClosedConnectionError', 'DrainingConnectionError', 'ConnectionError'].includes(e.name) || /connection (was )?closed|disconnect/i.test(e.message)) return true
  }
  return false
}

async function readBackupJson(set: LoadedSet, entry: ManifestStream): Promise<JsonObject & {config: JsonObject; state: JsonObject}> {
  const path = join(set.dir, entry.dir, BACKUP_FILE)
  const json = parseJson(await readFile(path, 'utf8'))
  if (!isJsonObject(json) || !isJsonObject(json.config) || !isJsonObject(json.state)) throw new DataError(`${path} is corrupt`, 'not {config, state}')
  return json as JsonObject & {config: JsonObject; state: JsonObject}
}

/** What the server holds now versus what the manifest promised; replicas are waited for first. */
async function compareWithManifest(api: JsApi, entry: ManifestStream, item: RestorePlanItem, mode: BackupMode, opts: RestoreSetOptions): Promise<RestoreCheck[]> {
  const detail = await waitHealthy(api, item.target, item.replicas, opts.signal)
  const checks: RestoreCheck[] = []
  const check = (name: string, expected: string | number, actual: string | number, ok = String(expected) === String(actual)) => {
    checks.push({name, expected: String(expected), actual: String(actual), ok})
  }
  if (!detail) {
    check('stream exists', 'yes', 'no')
    return checks
  }
  const {facts} = detail
  if (mode === 'snapshot') {
    const extra = facts.lastSeq - entry.lastSeq
    const added = facts.messages - entry.messages
    // Messages appended while the server streamed its blocks may be in the archive (see manifest lastSeqAtEnd),
    // all of them, or (nats-server 2.10 was seen doing so) some, leaving gaps after the backup's last sequence.
    const appended = entry.lastSeqAtEnd !== undefined && extra > 0 && facts.lastSeq <= entry.lastSeqAtEnd && added > 0 && added <= extra
    const tolerated = appended && (added === extra || (await onlyGapsAfter(api, item.target, entry)))
    const maxMessages = entry.lastSeqAtEnd === undefined ? undefined : entry.messages + entry.lastSeqAtEnd - entry.lastSeq
    check('messages', maxMessages === undefined ? entry.messages : `${entry.messages}..${maxMessages}`, facts.messages, facts.messages === entry.messages || tolerated)
    // An empty stream's first sequence is bookkeeping (0 when new, last+1 after a purge, 1 once restored).
    if (entry.messages > 0 || facts.messages > 0) check('first sequence', entry.firstSeq, facts.firstSeq)
    check('last sequence', entry.lastSeqAtEnd !== undefined ? `${entry.lastSeq}..${entry.lastSeqAtEnd}` : entry.lastSeq, facts.lastSeq, facts.lastSeq === entry.lastSeq || tolerated)
    if (entry.consumers.length > 0) {
      const missing = await waitConsumers(api, item.target, entry.consumers, opts.signal)
      check('consumers', `${entry.consumers.length} durable`, missing.length === 0 ? `${entry.consumers.length} present` : `missing ${missing.join(', ')}`, missing.length === 0)
    }
  } else {
    check('messages', entry.messages, facts.messages)
    if (entry.digest) {
      const digest = new ContentDigest(false)
      if (facts.messages > 0) {
        await readMessages(api, item.target, {fromSeq: facts.firstSeq, toSeq: facts.lastSeq, idleTimeoutMs: Math.max(MIN_IDLE_TIMEOUT_MS, opts.timeoutMs), signal: opts.signal}, (m) => digest.update(m.subject, m.data, m.seq))
      }
      check('content digest', entry.digest.value, digest.summary().digest)
    }
  }
  if (item.replicas > 1) {
    const peers = facts.cluster?.replicas ?? []
    const healthy = peers.filter((peer) => peer.current && !peer.offline).length + (facts.cluster?.leader ? 1 : 0)
    check('replicas', `${item.replicas} current`, `${healthy} current${facts.cluster?.leader ? ` (leader ${facts.cluster.leader})` : ', no leader'}`, healthy === item.replicas && facts.replicas === item.replicas)
  }
  return checks
}

/** R>1: wait (bounded) until there is a leader and every peer is current, so the comparison is not of a half-synced stream. */
async function waitHealthy(api: JsApi, name: string, replicas: number, signal?: AbortSignal): Promise<StreamDetail | undefined> {
  const deadline = Date.now() + HEALTHY_WAIT_MS
  for (;;) {
    const detail = await streamDetail(api, name)
    if (!detail || replicas <= 1) return detail
    const peers = detail.facts.cluster?.replicas ?? []
    const ready = Boolean(detail.facts.cluster?.leader) && peers.length === replicas - 1 && peers.every((peer) => peer.current && !peer.offline && peer.lag === 0)
    if (ready || Date.now() > deadline || signal?.aborted) return detail
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Every sequence the backup promised is there: the stream lacks none up to its last but those it lacked then. */
async function onlyGapsAfter(api: JsApi, stream: string, entry: ManifestStream): Promise<boolean> {
  const lackedThen = entry.lastSeq - entry.firstSeq + 1 - entry.messages
  const deleted = await deletedSequences(api, stream)
  return deleted.filter((seq) => seq <= entry.lastSeq).length === lackedThen
}

/** Consumers of the archive that are not there yet; a clustered restore creates them shortly after the stream. */
async function waitConsumers(api: JsApi, stream: string, expected: string[], signal?: AbortSignal): Promise<string[]> {
  const deadline = Date.now() + HEALTHY_WAIT_MS
  for (;;) {
    const present = new Set((await streamConsumers(api, stream)).map((consumer) => consumer.name))
    const missing = expected.filter((name) => !present.has(name))
    if (missing.length === 0 || Date.now() > deadline || signal?.aborted) return missing
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

function seconds(started: number): number {
  return Math.round(performance.now() - started) / 1000
}
