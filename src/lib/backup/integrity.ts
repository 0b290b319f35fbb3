/**
 * Is a set complete and intact? Structure (manifest, files, archive header, backup.json naming the
 * stream) and the sha256 and size of every file. Runs before a restore contacts any server.
 */
import {readFile, realpath, stat} from 'node:fs/promises'
import {basename, dirname, join, resolve, sep} from 'node:path'

import {isJsonObject, parseJson} from '../adapters/nats/backup-json.js'
import {DataError, UsageError} from '../core/errors.js'
import {checkArchive} from './archive.js'
import {hashFile} from './file-sink.js'
import {BACKUP_FILE, type Manifest, MANIFEST_FILE, type ManifestStream, PARTIAL_MARKER, PARTIAL_SUFFIX, readManifest, setPath, isSnapshotFile, snapshotFile, UNSEALED_MANIFEST_WARNING} from './manifest.js'
import {natscliManifest} from './natscli.js'
import type {ProgressListener} from './progress.js'

export interface LoadedSet {
  dir: string
  manifest: Manifest
  /** natscli: a backup natscli wrote (no manifest, so no checksums: structure checks only). */
  source: 'cimops' | 'natscli'
  /** What could not be checked and why (a manifest of an older cimops); never a problem, always said. */
  warnings?: string[]
}

/**
 * The set a user named: a path, or a set name under the backup root. An incomplete set (`.partial`,
 * or no manifest) is bad data, exit 65.
 */
export async function loadSet(input: string, root?: string): Promise<LoadedSet> {
  const dir = await locateSet(input, root)
  if (dir.endsWith(PARTIAL_SUFFIX) || (await isFile(join(dir, PARTIAL_MARKER)))) {
    throw new DataError(`${dir} is an incomplete backup set`, 'the backup that wrote it was interrupted or failed before it finished', {
      hint: 'never restore from it; take a new backup, or pick a complete set from `cimops backup list`',
    })
  }
  if (!(await isFile(join(dir, MANIFEST_FILE)))) {
    await refuseStreamOfSet(dir)
    const natscli = await natscliManifest(dir)
    if (natscli) return {dir, manifest: natscli, source: 'natscli'}
  }
  const outside = await linkOutside(dir, MANIFEST_FILE)
  if (outside) throw new DataError(`backup set ${dir} is corrupt`, `${MANIFEST_FILE}: ${outside}`, {hint: 'do not restore from it; use another set from `cimops backup list`'})
  const manifest = await readManifest(dir)
  return {dir, manifest, source: 'cimops', warnings: manifest.checksum ? [] : [UNSEALED_MANIFEST_WARNING]}
}

/**
 * A stream's directory of a cimops set has natscli's layout, but read alone it would be checked without the set's
 * checksums: the set is named instead, with the stream to choose.
 */
async function refuseStreamOfSet(dir: string): Promise<void> {
  const set = dirname(dir)
  if (!(await isFile(join(set, MANIFEST_FILE)))) return
  const name = await readManifest(set).then(
    (manifest) => manifest.streams.find((stream) => stream.dir === basename(dir))?.name,
    () => undefined,
  )
  if (name === undefined) return
  throw new UsageError(`${dir} is the stream ${name} of the backup set ${set}`, "read alone, it would be checked without the set's checksums", {
    hint: `give the set, ${set}; restore takes --stream ${name} for that stream alone`,
  })
}

/**
 * Where a file of the set, followed through every link on its way, ends outside the set: the
 * problem to report, else undefined. A set is what `verify` checked; a link elsewhere is not.
 */
export async function linkOutside(setDir: string, relative: string): Promise<string | undefined> {
  let target: string
  let root: string
  try {
    ;[root, target] = await Promise.all([realpath(setDir), realpath(join(setDir, relative))])
  } catch {
    return undefined // missing: reported as such by the caller
  }
  return target === root || target.startsWith(root + sep) ? undefined : `a link to ${target}, outside the set`
}

async function locateSet(input: string, root?: string): Promise<string> {
  const candidates = [resolve(input), ...(root && !input.includes('/') ? [resolve(root, input)] : [])]
  for (const candidate of candidates) {
    if (await isDir(candidate)) return candidate
  }
  for (const candidate of candidates) {
    if (await isDir(candidate + PARTIAL_SUFFIX)) {
      throw new DataError(`${candidate} is an incomplete backup set`, `only ${candidate}${PARTIAL_SUFFIX} exists: the backup was interrupted or failed`, {
        hint: 'never restore from it; take a new backup, or pick a complete set from `cimops backup list`',
      })
    }
  }
  if (await isFile(candidates[0])) {
    // A file of a set (its manifest, a stream's archive): name the set that holds it.
    const enclosing = [dirname(candidates[0]), dirname(dirname(candidates[0]))]
    for (const dir of enclosing) {
      if (await isFile(join(dir, MANIFEST_FILE))) throw new UsageError(`${candidates[0]} is a file of a backup set`, 'a set is the directory that holds manifest.json', {hint: `give ${dir}`})
    }
    throw new UsageError(`no backup set at ${candidates[0]}`, 'it is a file; a set is a directory', {hint: 'see `cimops backup list`'})
  }
  throw new UsageError(`no backup set at ${candidates[0]}`, 'no such directory', {hint: 'see `cimops backup list`'})
}

export interface FileCheck {
  stream: string
  path: string
  ok: boolean
  size?: number
  expectedSize: number
  problem?: string
}

/** Checks the files of the given streams (all by default); never throws for a bad file, reports it. */
export async function checkFiles(set: LoadedSet, streams: ManifestStream[] = set.manifest.streams, onProgress?: ProgressListener): Promise<FileCheck[]> {
  const checks: FileCheck[] = []
  let done = 0
  for (const [index, stream] of streams.entries()) {
    for (const file of stream.files) {
      const path = join(set.dir, file.path)
      const check: FileCheck = {stream: stream.name, path: file.path, ok: false, expectedSize: file.size}
      checks.push(check)
      const size = await fileSize(path)
      if (size === undefined) {
        check.problem = 'missing'
        continue
      }
      check.size = size
      const outside = await linkOutside(set.dir, file.path)
      if (outside) {
        check.problem = outside
        continue
      }
      if (set.source === 'natscli') {
        // Nothing recorded to compare with; the structure is all there is to check.
        check.expectedSize = size
        const structural = await checkStructure(path, file.path, stream)
        check.problem = structural
        check.ok = structural === undefined
        continue
      }
      if (size !== file.size) {
        check.problem = `${size} bytes, the manifest says ${file.size}${size < file.size ? ' (truncated)' : ''}`
        continue
      }
      const base = done
      const {sha256} = await hashFile(path, (bytes) => {
        done += bytes
        onProgress?.({phase: 'verify', item: stream.name, index: index + 1, items: streams.length, bytes: done - base, totalBytes: file.size})
      })
      done = base + size
      if (sha256 !== file.sha256) {
        check.problem = `sha256 ${sha256.slice(0, 12)}…, the manifest says ${file.sha256.slice(0, 12)}…`
        continue
      }
      const structural = await checkStructure(path, file.path, stream)
      if (structural) {
        check.problem = structural
        continue
      }
      check.ok = true
    }
    const expected = set.manifest.mode === 'snapshot' ? [setPath(stream.dir, BACKUP_FILE), snapshotFile(stream)] : [setPath(stream.dir, BACKUP_FILE)]
    for (const path of expected) {
      if (!stream.files.some((file) => file.path === path)) checks.push({stream: stream.name, path, ok: false, expectedSize: 0, problem: 'not in the manifest'})
    }
  }
  return checks
}

/** Beyond the checksum: the whole archive decompresses and is well formed, backup.json is `{config, state}` for this stream. */
async function checkStructure(path: string, relative: string, stream: ManifestStream): Promise<string | undefined> {
  if (isSnapshotFile(relative)) return (await checkArchive(path, stream.name)).problem
  if (relative === BACKUP_FILE || relative.endsWith(`/${BACKUP_FILE}`)) {
    try {
      const json = parseJson(await readFile(path, 'utf8'))
      if (!isJsonObject(json) || !isJsonObject(json.config) || !isJsonObject(json.state)) return 'not {config, state}'
      if (json.config.name !== stream.name) return `names stream ${JSON.stringify(json.config.name)}, not ${stream.name}`
    } catch {
      // Not the parser's message: it quotes the start of the file, which may be anything.
      return 'not JSON'
    }
  }
  return undefined
}

/** Throws exit 65 naming the first problem when any file is not intact. */
export function assertIntact(set: LoadedSet, checks: FileCheck[]): void {
  const bad = checks.filter((check) => !check.ok)
  if (bad.length === 0) return
  const first = bad[0]
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''
  throw new DataError(`backup set ${set.dir} is corrupt`, `${first.path}: ${first.problem}${more}`, {
    hint: `nothing was restored; \`cimops backup verify ${set.dir}\` lists every problem; use another set`,
  })
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path)
    return info.isFile() ? info.size : undefined
  } catch {
    return undefined
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
