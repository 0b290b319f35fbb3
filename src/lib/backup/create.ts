/**
 * `cimops backup create`: streams to a set directory, snapshot (natscli's layout, the server's bytes)
 * or logical (messages as JSON lines). Written into `<set>.partial`, renamed when complete.
 */
import {randomBytes} from 'node:crypto'
import {link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'

import {stringifyJson} from '../adapters/nats/backup-json.js'
import {isErrCode, JsErrCode, jsApiFor, type JsApi, type StreamDetail, streamConsumers, streamDetail, streamFacts, streamNames} from '../adapters/nats/backup-streams.js'
import {listStreamsReporting, type UnlistedEntry} from '../adapters/nats/jetstream.js'
import type {NatsSession} from '../adapters/nats/session.js'
import {archiveFormat} from '../adapters/nats/backup-archive.js'
import {MIN_IDLE_TIMEOUT_MS, snapshotStream} from '../adapters/nats/snapshot.js'
import {DataError, NotFoundError, UsageError} from '../core/errors.js'
import {makeDirectories} from '../core/directories.js'
import {FileSink, readChunks, syncDir} from './file-sink.js'
import {interruptible} from './interrupt.js'
import {dumpMessages} from './logical.js'
import {
  manifestStreamState,
  BACKUP_FILE,
  type BackupMode,
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  type ManifestFile,
  type ManifestStream,
  MESSAGES_FILE,
  PARTIAL_MARKER,
  PARTIAL_SUFFIX,
  S2_MAGIC,
  sealManifest,
  setPath,
  SNAPSHOT_FILES,
  streamDirName,
} from './manifest.js'
import {DIGEST_ALGORITHM} from './digest.js'
import {currentOwner, type Owner, ownerState, parseOwner} from './owner.js'
import type {ProgressListener} from './progress.js'

/** Chunks received but not yet on disk, above which acks are held back (memory stays well under 200 MB). */
const MAX_DISK_BACKLOG_BYTES = 32 * 1024 * 1024

export interface CreateBackupOptions {
  /** The session on the servers to back up. */
  nats: NatsSession
  timeoutMs: number
  /** Streams to back up; ignored with `all`. */
  streams: string[]
  all: boolean
  /** The set directory to create (must not exist). */
  dir: string
  mode: BackupMode
  consumers: boolean
  check: boolean
  chunkSize?: number
  cimopsVersion: string
  signal?: AbortSignal
  onProgress?: ProgressListener
  log?: (line: string) => void
}

export interface BackupStreamResult {
  name: string
  messages: number
  firstSeq: number
  lastSeq: number
  firstTime?: string
  lastTime?: string
  consumers: string[]
  /** Bytes of the stream's files in the set. */
  size: number
  durationSeconds: number
  /** Snapshot mode: messages arrived during the transfer; the archive may hold some after lastSeq. */
  writesDuringBackup: boolean
}

export interface BackupResult {
  set: string
  mode: BackupMode
  serverVersion: string
  createdAt: string
  completedAt: string
  durationSeconds: number
  messages: number
  /** Bytes of all files in the set. */
  size: number
  streams: BackupStreamResult[]
  /** --all: streams the server lists as offline or missing (2.11+), so not in this set; empty otherwise. */
  unlisted: UnlistedEntry[]
}

/** Default name of a new set under the backup root: the UTC time, e.g. 20261122T072534Z. */
export function defaultSetName(now = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(/[-:]/g, '')
}

/** `<root>/<time>`, with a -N suffix when that exists already (two backups in one second). */
export async function nextSetDir(root: string, now = new Date()): Promise<string> {
  const base = join(resolve(root), defaultSetName(now))
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? base : `${base}-${n}`
    if (!(await exists(candidate)) && !(await exists(candidate + PARTIAL_SUFFIX))) return candidate
  }
}

export async function createBackup(opts: CreateBackupOptions): Promise<BackupResult> {
  return interruptible(opts.signal, () => backup(opts))
}

async function backup(opts: CreateBackupOptions): Promise<BackupResult> {
  const dir = resolve(opts.dir)
  if (dir.endsWith(PARTIAL_SUFFIX)) throw new UsageError(`invalid --dir "${opts.dir}"`, `names ending in ${PARTIAL_SUFFIX} are reserved for sets being written`)
  if (await exists(dir)) throw new UsageError(`${dir} already exists`, 'a backup never overwrites anything', {hint: 'choose another --dir, or leave it out for a new timestamped set'})
  const partial = dir + PARTIAL_SUFFIX
  const idleTimeoutMs = Math.max(MIN_IDLE_TIMEOUT_MS, opts.timeoutMs)
  const log = opts.log ?? (() => {})

  const {nc} = await opts.nats.connection()
  const api = jsApiFor(nc, opts.nats.settings, opts.timeoutMs)
  const server = await opts.nats.serverInfo()
  // --all reads the LIST, not NAMES: it also names the streams the server cannot describe, never silently absent.
  const listing = opts.all ? await listStreamsReporting(nc, {jsApiPrefix: api.prefix, timeoutMs: opts.timeoutMs}) : undefined
  const details = await selectStreams(api, listing ? listing.items.map((stream) => stream.name) : [...new Set(opts.streams)], opts.all)
  const unlisted = listing?.unlisted ?? []
  for (const entry of unlisted) log(`${entry.name}: ${entry.state} on the server (${entry.reason}): not in this set`)
  if (opts.mode === 'snapshot') {
    const memory = details.filter((detail) => detail.facts.storage === 'memory').map((detail) => detail.facts.name)
    if (memory.length > 0) throw memoryStreamError(memory, opts.all)
  }

  const createdAt = new Date()
  await claimPartial(partial, {...currentOwner(), startedAt: createdAt.toISOString(), mode: opts.mode}, log)

  const entries: ManifestStream[] = []
  const results: BackupStreamResult[] = []
  try {
    for (const [i, detail] of details.entries()) {
      const name = detail.facts.name
      const streamDir = streamDirName(name)
      await mkdir(join(partial, streamDir), {mode: 0o700})
      const progress = (bytes: number, messages?: number) =>
        opts.onProgress?.({phase: 'backup', item: name, index: i + 1, items: details.length, bytes, messages, totalMessages: messages === undefined ? undefined : detail.facts.messages})
      const started = performance.now()
      const entry =
        opts.mode === 'snapshot'
          ? await snapshotOne(api, detail, partial, streamDir, {...opts, idleTimeoutMs, progress})
          : await logicalOne(api, detail, partial, streamDir, {signal: opts.signal, idleTimeoutMs, progress})
      entry.durationSeconds = round((performance.now() - started) / 1000)
      entries.push(entry)
      const size = entry.files.reduce((sum, file) => sum + file.size, 0)
      results.push({
        name,
        messages: entry.messages,
        firstSeq: entry.firstSeq,
        lastSeq: entry.lastSeq,
        firstTime: entry.firstTime,
        lastTime: entry.lastTime,
        consumers: entry.consumers,
        size,
        durationSeconds: entry.durationSeconds,
        writesDuringBackup: entry.lastSeqAtEnd !== undefined,
      })
      if (entry.lastSeqAtEnd !== undefined) log(`${name}: messages kept arriving during the backup (last sequence ${entry.lastSeq} at the start, ${entry.lastSeqAtEnd} at the end)`)
    }
  } catch (error) {
    // The .partial set stays for inspection; it never looks complete and restore refuses it.
    log(`the incomplete set is left in ${partial}`)
    throw error
  }

  const completedAt = new Date()
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    cimopsVersion: opts.cimopsVersion,
    serverVersion: server.version,
    serverName: server.serverName || undefined,
    cluster: server.cluster || undefined,
    mode: opts.mode,
    createdAt: createdAt.toISOString(),
    completedAt: completedAt.toISOString(),
    durationSeconds: round((completedAt.getTime() - createdAt.getTime()) / 1000),
    options: {consumers: opts.mode === 'snapshot' && opts.consumers, check: opts.check === true},
    streams: entries,
  }
  await writeSynced(join(partial, MANIFEST_FILE), `${JSON.stringify(sealManifest(manifest), null, 2)}\n`)
  await rm(join(partial, PARTIAL_MARKER), {force: true})
  await syncDir(partial)
  const finalDir = await moveIntoPlace(partial, dir, log)
  return {
    set: finalDir,
    mode: opts.mode,
    serverVersion: server.version,
    createdAt: manifest.createdAt,
    completedAt: manifest.completedAt,
    durationSeconds: manifest.durationSeconds,
    messages: results.reduce((sum, stream) => sum + stream.messages, 0),
    size: results.reduce((sum, stream) => sum + stream.size, 0),
    streams: results,
    unlisted,
  }
}

/**
 * Renames the complete set into place. Another backup may have taken the name while this one ran (two
 * started in the same second, or --dir named twice): then the set gets the next free `-N` name, said in
 * the log, rather than failing at its very end.
 */
export async function moveIntoPlace(partial: string, dir: string, log: (line: string) => void): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? dir : `${dir}-${n}`
    try {
      if (n > 0 && (await exists(candidate))) continue
      await rename(partial, candidate)
      await syncDir(dirname(candidate))
      if (n > 0) log(`${dir} was created by someone else while this backup ran: this set is ${candidate}`)
      return candidate
    } catch (error) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
    }
  }
}

async function selectStreams(api: JsApi, names: string[], all: boolean): Promise<StreamDetail[]> {
  if (names.length === 0) {
    throw new UsageError(all ? 'nothing to back up' : 'no stream given', all ? 'the account has no streams' : 'name the streams with --stream', {
      hint: all ? 'check --context / --nats-url' : 'or back up every stream of the account with --all',
    })
  }
  const details: StreamDetail[] = []
  const missing: string[] = []
  for (const name of names) {
    const detail = await streamDetail(api, name)
    if (detail) details.push(detail)
    else missing.push(name)
  }
  if (missing.length > 0) {
    const known = await streamNames(api)
    throw new NotFoundError(`no stream named ${missing.join(', ')}`, `the account has ${known.length > 0 ? known.join(', ') : 'no streams'}`, {hint: 'see `cimops stream list`'})
  }
  return details
}

function memoryStreamError(names: string[], all: boolean): UsageError {
  const list = names.join(', ')
  return new UsageError(
    `cannot snapshot memory stream${names.length > 1 ? 's' : ''} ${list}`,
    'the JetStream snapshot API only backs up file-backed streams',
    {hint: all ? `take a logical backup for them: cimops backup create --logical ${names.map((n) => `--stream ${n}`).join(' ')} (or --logical --all)` : 'use --logical, which reads the messages and also works for memory streams'},
  )
}

/**
 * Makes `<set>.partial` ours. The marker is the lock: written aside and hard-linked into place, so
 * exactly one of two backups racing for the same --dir gets it, and a reader never sees half of it.
 * A set whose recorded backup still runs is refused; one left by a dead backup is moved aside (one
 * atomic rename, so two runs cannot both take it over) and removed.
 */
async function claimPartial(partial: string, marker: Owner & {startedAt: string; mode: BackupMode}, log: (line: string) => void): Promise<void> {
  const markerPath = join(partial, PARTIAL_MARKER)
  for (let attempt = 0; attempt < 3; attempt++) {
    await makeDirectories(partial, 0o700)
    const entries = await readdir(partial)
    if (entries.length > 0 && !entries.includes(PARTIAL_MARKER)) {
      throw new UsageError(`${partial} exists and is not an incomplete cimops backup`, 'refusing to remove it', {hint: 'move it away or choose another --dir'})
    }
    // Beside the set, not in it: a run looking in meanwhile sees our marker whole or not at all.
    const temp = join(dirname(partial), `.${basename(partial)}${PARTIAL_MARKER}.${process.pid}`)
    await writeFile(temp, `${JSON.stringify(marker)}\n`, {mode: 0o600})
    try {
      await link(temp, markerPath)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    } finally {
      await rm(temp, {force: true})
    }
    const owner = await readOwner(markerPath)
    const state = owner ? ownerState(owner) : 'dead'
    if (owner && state !== 'dead') {
      const where = state === 'elsewhere' ? ` on ${owner.host}` : ''
      throw new UsageError(`${partial} is being written by another backup (cimops pid ${owner.pid}${where})`, 'two backups never write one set', {
        hint: state === 'elsewhere' ? `choose another --dir, or remove ${partial} once that backup is gone` : 'wait for it to finish, or choose another --dir',
      })
    }
    const aside = `${partial}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
    try {
      await rename(partial, aside)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue // another run took it over first
      throw error
    }
    // Between our look and the rename another run may have taken the set over: give a live one back.
    const moved = await readOwner(join(aside, PARTIAL_MARKER))
    if (moved && ownerState(moved) !== 'dead' && (moved.pid !== owner?.pid || moved.startTicks !== owner?.startTicks)) {
      await rename(aside, partial)
      continue
    }
    log(`removing the incomplete set ${basename(partial)} left by an interrupted backup${owner ? ` (pid ${owner.pid})` : ''}`)
    await rm(aside, {recursive: true, force: true})
  }
  throw new UsageError(`cannot take ${partial} over`, 'other backups keep claiming the same --dir', {hint: 'choose another --dir'})
}

async function readOwner(markerPath: string): Promise<Owner | undefined> {
  try {
    return parseOwner(JSON.parse(await readFile(markerPath, 'utf8')))
  } catch {
    return undefined
  }
}

interface SnapshotOneOptions {
  consumers: boolean
  check: boolean
  chunkSize?: number
  timeoutMs: number
  idleTimeoutMs: number
  signal?: AbortSignal
  progress: (bytes: number) => void
}

async function snapshotOne(api: JsApi, detail: StreamDetail, setDir: string, streamDir: string, opts: SnapshotOneOptions): Promise<ManifestStream> {
  const name = detail.facts.name
  // Durable file-backed consumers are in the archive; ephemeral and memory ones are not restored. Listed while the
  // archive streams in: on 2.9 each consumer's info computes its pending count, which takes long on big streams.
  const listing = opts.consumers ? streamConsumers(api, name) : Promise.resolve([])
  listing.catch(() => {})
  // Named once its format is known: the server decides it (2.15 writes backup V2), the first frame tells.
  const receivingPath = join(setDir, streamDir, SNAPSHOT_FILES.tar)
  const sink = await FileSink.create(receivingPath)
  let snapshot
  try {
    let lastReport = 0
    snapshot = await snapshotStream(api, {
      stream: name,
      consumers: opts.consumers,
      check: opts.check,
      chunkSize: opts.chunkSize,
      idleTimeoutMs: opts.idleTimeoutMs,
      responseTimeoutMs: opts.check ? Math.max(opts.timeoutMs, 600_000) : Math.max(opts.timeoutMs, 10_000),
      signal: opts.signal,
      // More than this waiting for the disk: slow the server down (see snapshot.ts) rather than grow without bound.
      behind: () => sink.pendingBytes > MAX_DISK_BACKLOG_BYTES,
      onChunk(data) {
        sink.push(data)
        if (sink.size - lastReport >= 1024 * 1024) {
          lastReport = sink.size
          opts.progress(sink.size)
        }
      },
    })
  } catch (error) {
    await sink.abort()
    if (isErrCode(error, JsErrCode.SNAPSHOT_FAILED) && detail.facts.storage === 'memory') throw memoryStreamError([name], false)
    throw error
  }
  const archive = await sink.finish()
  const consumers = (await listing).filter((c) => c.durable && !c.memory).map((c) => c.name)
  opts.progress(archive.size)
  const header = await readHead(receivingPath, 10)
  if (archive.size === 0 || !startsWithS2(header)) {
    throw new DataError(`the snapshot of ${name} is not an S2 archive`, `it starts with ${Buffer.from(header).toString('hex') || 'nothing'}`, {hint: 'the server sent something unexpected; run the backup again'})
  }
  const format = await archiveFormat(readChunks(receivingPath, 1024 * 1024))
  if (format !== 'tar') {
    await rename(receivingPath, join(setDir, streamDir, SNAPSHOT_FILES[format]))
    await syncDir(join(setDir, streamDir))
  }
  const backupJson = stringifyJson({config: snapshot.config, state: snapshot.state}, 2)
  const backupFile = await writeSynced(join(setDir, streamDir, BACKUP_FILE), backupJson)
  const facts = streamFacts(snapshot.config, snapshot.state)
  // Messages can be appended while the server streams its blocks (it only blocks deletes).
  const after = await streamDetail(api, name)
  const lastSeqAtEnd = after && after.facts.lastSeq > facts.lastSeq ? after.facts.lastSeq : undefined
  return {
    ...manifestStreamState(facts),
    dir: streamDir,
    consumers,
    files: [fileEntry(streamDir, BACKUP_FILE, backupFile), fileEntry(streamDir, SNAPSHOT_FILES[format], archive)],
    archiveFormat: format,
    lastSeqAtEnd,
    durationSeconds: 0,
  }
}

async function logicalOne(
  api: JsApi,
  detail: StreamDetail,
  setDir: string,
  streamDir: string,
  opts: {idleTimeoutMs: number; signal?: AbortSignal; progress: (bytes: number, messages: number) => void},
): Promise<ManifestStream> {
  const {facts} = detail
  const dump = await dumpMessages(api, detail, join(setDir, streamDir, MESSAGES_FILE), {idleTimeoutMs: opts.idleTimeoutMs, signal: opts.signal, onProgress: opts.progress})
  const backupFile = await writeSynced(join(setDir, streamDir, BACKUP_FILE), stringifyJson({config: detail.config, state: detail.state}, 2))
  // What was dumped, not what the stream held when it was listed: messages may have arrived since.
  return {
    ...manifestStreamState(facts),
    messages: dump.messages,
    firstSeq: dump.firstSeq,
    lastSeq: dump.lastSeq,
    firstTime: dump.firstTime,
    lastTime: dump.lastTime,
    dir: streamDir,
    consumers: [],
    files: [fileEntry(streamDir, BACKUP_FILE, backupFile), fileEntry(streamDir, MESSAGES_FILE, dump.file)],
    digest: {algorithm: DIGEST_ALGORITHM, value: dump.digest},
    durationSeconds: 0,
  }
}

function fileEntry(streamDir: string, file: string, written: {size: number; sha256: string}): ManifestFile {
  return {path: setPath(streamDir, file), sha256: written.sha256, size: written.size}
}

/** Writes a small file through the same hashing, fsyncing sink as the archives. */
async function writeSynced(path: string, text: string): Promise<{size: number; sha256: string}> {
  const sink = await FileSink.create(path)
  sink.push(Buffer.from(text))
  return sink.finish()
}

export async function readHead(path: string, bytes: number): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(bytes)
    const {bytesRead} = await handle.read(buffer, 0, bytes, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

export function startsWithS2(head: Uint8Array): boolean {
  return head.length >= S2_MAGIC.length && S2_MAGIC.every((byte, i) => head[i] === byte)
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
