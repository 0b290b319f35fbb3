/**
 * A backup set on disk:
 *
 *   <set>/manifest.json                 what is in the set, with a sha256 and size per file
 *   <set>/<stream>/backup.json          {config, state}, natscli's layout (both modes)
 *   <set>/<stream>/stream.tar.s2        snapshot mode: the server's archive, bytes untouched (legacy tar)
 *   <set>/<stream>/stream.arc.s2        ... or, from nats-server 2.15, a backup V2 archive (jsm.go's name)
 *   <set>/<stream>/messages.jsonl.gz    logical mode: one JSON line per message
 *
 * A set being written lives in `<set>.partial` (with a `.cimops-backup` marker) and is renamed to
 * `<set>` only once complete and checksummed: a directory without `.partial` and with a manifest is
 * a complete set.
 */
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {isAbsolute, join, normalize} from 'node:path'
import * as z from 'zod'

import type {StreamFacts} from '../adapters/nats/backup-streams.js'
import {DataError} from '../core/errors.js'

export const MANIFEST_FILE = 'manifest.json'
export const PARTIAL_SUFFIX = '.partial'
export const PARTIAL_MARKER = '.cimops-backup'
/** The description of a stream a logical restore is still filling: it is not yet what the set holds. */
export const RESTORE_MARKER = 'cimops: restore in progress'
export const BACKUP_FILE = 'backup.json'
/** The archive's name by format, as jsm.go (and so natscli) names it: a reader looks for either. */
export const SNAPSHOT_FILES = {tar: 'stream.tar.s2', v2: 'stream.arc.s2'} as const
export const MESSAGES_FILE = 'messages.jsonl.gz'
export const MANIFEST_FORMAT = 'cimops-backup/1'
/** The S2 stream identifier chunk every snapshot archive starts with: ff 06 00 00 "S2sTwO". */
export const S2_MAGIC = Uint8Array.from([0xff, 0x06, 0x00, 0x00, 0x53, 0x32, 0x73, 0x54, 0x77, 0x4f])

export const BACKUP_MODES = ['snapshot', 'logical'] as const
export type BackupMode = (typeof BACKUP_MODES)[number]

const FileEntry = z.object({
  /** Relative to the set root, `/`-separated. */
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
})

const Digest = z.object({
  /** See digest.ts: sha256 over each message's length-prefixed subject and data, in sequence order. */
  algorithm: z.literal('sha256-subject-data'),
  value: z.string().regex(/^[0-9a-f]{64}$/),
})

const StreamEntry = z.object({
  name: z.string(),
  /** Directory of the stream's files, relative to the set root. */
  dir: z.string(),
  storage: z.enum(['file', 'memory']),
  replicas: z.number().int().positive(),
  subjects: z.array(z.string()),
  messages: z.number().int().nonnegative(),
  /** Stored bytes as the server counts them (not the size of the files). */
  bytes: z.number().int().nonnegative(),
  firstSeq: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  firstTime: z.string().optional(),
  lastTime: z.string().optional(),
  /** Snapshot mode: the archive's format (absent in manifests of older cimops versions: tar). */
  archiveFormat: z.enum(['tar', 'v2']).optional(),
  /** Durable, file-backed consumers in the archive (snapshot mode with consumers). */
  consumers: z.array(z.string()),
  files: z.array(FileEntry),
  /**
   * Snapshot mode: the stream's last sequence when the transfer ended, when messages kept arriving
   * meanwhile. The archive then may hold messages after lastSeq, up to this one.
   */
  lastSeqAtEnd: z.number().int().nonnegative().optional(),
  /** Logical mode: digest of the messages in the file. */
  digest: Digest.optional(),
  durationSeconds: z.number().nonnegative(),
})

export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  cimopsVersion: z.string(),
  serverVersion: z.string(),
  serverName: z.string().optional(),
  cluster: z.string().optional(),
  mode: z.enum(BACKUP_MODES),
  /** RFC 3339: when the backup started and when it completed. */
  createdAt: z.string(),
  completedAt: z.string(),
  durationSeconds: z.number().nonnegative(),
  options: z.object({consumers: z.boolean(), check: z.boolean()}),
  streams: z.array(StreamEntry),
  /**
   * sha256 over the manifest without this field (JSON.stringify, keys in file order): an edited
   * statistic or file checksum is caught. Absent in manifests of older cimops versions.
   */
  checksum: z.object({algorithm: z.literal('sha256'), value: z.string().regex(/^[0-9a-f]{64}$/)}).optional(),
})

export type Manifest = z.infer<typeof Manifest>
export type ManifestStream = z.infer<typeof StreamEntry>
export type ManifestFile = z.infer<typeof FileEntry>

/** What a manifest records of a stream's state, taken from the stream's facts. */
export function manifestStreamState(facts: StreamFacts): Pick<ManifestStream, 'name' | 'storage' | 'replicas' | 'subjects' | 'messages' | 'bytes' | 'firstSeq' | 'lastSeq' | 'firstTime' | 'lastTime'> {
  const {name, storage, replicas, subjects, messages, bytes, firstSeq, lastSeq, firstTime, lastTime} = facts
  return {name, storage, replicas, subjects, messages, bytes, firstSeq, lastSeq, firstTime, lastTime}
}

/** The manifest with its own checksum, as written to disk. */
export function sealManifest(manifest: Manifest): Manifest {
  const {checksum: _old, ...rest} = manifest
  return {...rest, checksum: {algorithm: 'sha256', value: manifestDigest(rest)}}
}

function manifestDigest(unsealed: object): string {
  return createHash('sha256').update(JSON.stringify(unsealed)).digest('hex')
}

/** A manifest that carries its own checksum still matches it (false once anything in it was edited). */
export function sealIntact(manifest: object): boolean {
  const {checksum, ...rest} = manifest as {checksum?: {value?: unknown}}
  return checksum?.value === manifestDigest(rest)
}

/** What an older cimops left unprotected, for the warnings of verify and restore. */
export const UNSEALED_MANIFEST_WARNING = 'made by an older cimops: manifest not self-checked'

/** Reads and validates a set's manifest; a missing or malformed one is bad data (exit 65). */
export async function readManifest(setDir: string): Promise<Manifest> {
  const path = join(setDir, MANIFEST_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new DataError(`${setDir} is not a complete backup set`, 'it has no manifest.json (the backup did not finish)', {hint: 'take a new backup; `cimops backup list` shows complete sets'})
    }
    throw new DataError(`cannot read ${path}`, code ?? String(error))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // Not the parser's message: it quotes the start of the file, which may be anything.
    throw new DataError(`${path} is corrupt`, 'not JSON')
  }
  // Before the schema: the digest is over the fields as written, unknown ones included.
  if (typeof json === 'object' && json !== null && 'checksum' in json) {
    if (!sealIntact(json)) {
      throw new DataError(`${path} is corrupt`, 'its checksum does not match its content: it was edited or damaged after the backup', {hint: 'do not restore from it; use another set from `cimops backup list`'})
    }
  }
  const parsed = Manifest.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new DataError(`${path} is not a cimops backup manifest`, `${issue.path.join('.') || '(root)'}: ${issue.message}`)
  }
  for (const stream of parsed.data.streams) {
    for (const file of [stream.dir === '.' ? 'x' : stream.dir, ...stream.files.map((f) => f.path)]) {
      if (!isSafeRelative(file)) throw new DataError(`${path} is corrupt`, `unsafe path "${file}" for stream ${stream.name}`)
    }
  }
  return parsed.data
}

/** No absolute paths, no `..`: a manifest never points outside its set. */
export function isSafeRelative(path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\\')) return false
  const normal = normalize(path)
  return !normal.startsWith('..') && !normal.split('/').includes('..')
}

/** A file's path relative to the set root; natscli's single-stream backups keep their files at the root (dir "."). */
export function setPath(dir: string, file: string): string {
  return dir === '.' ? file : `${dir}/${file}`
}

/** The snapshot archive of a stream, as the manifest lists it (relative to the set root). */
export function snapshotFile(stream: ManifestStream): string {
  const archive = stream.files.find((file) => isSnapshotFile(file.path))
  return archive?.path ?? setPath(stream.dir, SNAPSHOT_FILES[stream.archiveFormat ?? 'tar'])
}

export function isSnapshotFile(relative: string): boolean {
  return Object.values(SNAPSHOT_FILES).some((name) => relative === name || relative.endsWith(`/${name}`))
}

/** A stream's directory name: its name, unless that could escape the set. */
export function streamDirName(stream: string): string {
  if (!/^[^/\\\0]+$/.test(stream) || stream === '.' || stream === '..') throw new DataError(`cannot back up stream "${stream}"`, 'its name cannot be used as a directory name')
  return stream
}
