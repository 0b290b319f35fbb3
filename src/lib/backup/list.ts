/**
 * `cimops backup list`: the sets under a root, complete or not, newest first. Cheap checks only: the
 * manifest (its own checksum included), every file present with its recorded size and inside the set.
 * The sha256 of the files is `backup verify`'s job: a set is "verified" only while the last verify
 * that found it intact still describes it.
 */
import {readdir, readFile, stat} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'

import {isCimopsError, UsageError} from '../core/errors.js'
import {linkOutside, loadSet} from './integrity.js'
import {type BackupMode, type Manifest, MANIFEST_FILE, PARTIAL_MARKER, PARTIAL_SUFFIX} from './manifest.js'
import {natscliManifest} from './natscli.js'
import {verifiedAt} from './stamp.js'

export interface BackupSetSummary {
  name: string
  path: string
  /** The backup finished and the cheap checks found nothing wrong. */
  complete: boolean
  /** cimops, or natscli: a backup natscli wrote (no manifest, no checksums). */
  source: 'cimops' | 'natscli'
  /**
   * verified: `backup verify` found it intact and nothing changed since; unverified: complete, not (or
   * no longer) verified; corrupt: its manifest or a file is damaged, missing or a link out of the set;
   * incomplete: still being written or interrupted. Never restore a corrupt or incomplete set.
   */
  status: 'verified' | 'unverified' | 'corrupt' | 'incomplete'
  /** Why a set is corrupt or incomplete. */
  problem?: string
  /** When `backup verify` last found it intact (status verified). */
  verifiedAt?: string
  mode?: BackupMode
  /** RFC 3339: the manifest's createdAt, or the directory's time for incomplete sets. */
  time: string
  ageSeconds: number
  streams: string[]
  messages?: number
  /** Bytes on disk. */
  size: number
  serverVersion?: string
}

/** Scans of a backup root when a set moves while it is read (a backup finishing renames its .partial directory). */
const SCAN_ATTEMPTS = 3

/**
 * The backup sets under `root`, newest first. Another cimops may be writing a set meanwhile: its files come and go,
 * and when it finishes its directory is renamed. A set that vanishes under the scan starts it again (bounded); files
 * that vanish from a set still being written only leave its size short.
 */
export async function listBackups(root: string, now = new Date()): Promise<BackupSetSummary[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await scanBackups(root, now)
    } catch (error) {
      if (!(error instanceof SetMoved) || attempt >= SCAN_ATTEMPTS) throw error instanceof SetMoved ? new UsageError(`cannot list backups in ${resolve(root)}`, error.message) : error
    }
  }
}

class SetMoved extends Error {}

function vanished(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}

async function scanBackups(root: string, now: Date): Promise<BackupSetSummary[]> {
  const dir = resolve(root)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new UsageError(`cannot list backups in ${dir}`, (error as NodeJS.ErrnoException).code ?? String(error))
  }
  // ROOT may itself be a set.
  if (names.includes(MANIFEST_FILE) || names.includes(PARTIAL_MARKER)) return [await summarize(dir, now)]
  const sets: BackupSetSummary[] = []
  for (const name of names) {
    const path = join(dir, name)
    if (!(await isDir(path))) continue
    const entries = await readdir(path).catch(() => [] as string[])
    if (!name.endsWith(PARTIAL_SUFFIX) && !entries.includes(MANIFEST_FILE) && !entries.includes(PARTIAL_MARKER)) {
      const natscli = await natscliManifest(path).catch(() => undefined)
      if (natscli) sets.push({...fromManifest(name, path, natscli, await diskUsage(path), now), source: 'natscli'})
      continue
    }
    sets.push(
      await summarize(path, now).catch((error: unknown) => {
        throw vanished(error) ? new SetMoved(`${name} changed while it was read, ${SCAN_ATTEMPTS} times`) : error
      }),
    )
  }
  return sets.sort((a, b) => b.time.localeCompare(a.time) || a.name.localeCompare(b.name))
}

async function summarize(path: string, now: Date): Promise<BackupSetSummary> {
  const name = basename(path)
  const info = await stat(path)
  const size = await diskUsage(path)
  const age = (time: string) => Math.max(0, Math.round((now.getTime() - new Date(time).getTime()) / 1000))
  const partial = name.endsWith(PARTIAL_SUFFIX) || (await exists(join(path, PARTIAL_MARKER)))
  if (!partial) {
    let manifest: Manifest
    try {
      manifest = (await loadSet(path)).manifest
    } catch (error) {
      const time = info.mtime.toISOString()
      return {name, path, source: 'cimops', complete: false, status: 'corrupt', problem: isCimopsError(error) ? error.why : String(error), time, ageSeconds: age(time), streams: [], size}
    }
    const summary = fromManifest(name, path, manifest, size, now)
    const problem = await quickProblem(path, manifest)
    if (problem) return {...summary, complete: false, status: 'corrupt', problem}
    const verified = await verifiedAt(path, manifest)
    return verified ? {...summary, status: 'verified', verifiedAt: verified.verifiedAt} : summary
  }
  let mode: BackupMode | undefined
  let time = info.mtime.toISOString()
  try {
    const marker = JSON.parse(await readFile(join(path, PARTIAL_MARKER), 'utf8')) as {startedAt?: string; mode?: BackupMode}
    mode = marker.mode
    if (marker.startedAt) time = marker.startedAt
  } catch {
    // No marker: a .partial directory of an older or foreign run.
  }
  const entries = await readdir(path, {withFileTypes: true})
  const streams = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()
  return {name, path, source: 'cimops', complete: false, status: 'incomplete', problem: 'interrupted or failed before it finished', mode, time, ageSeconds: age(time), streams, size}
}

/** The first file missing, of another size than recorded, or a link out of the set. */
async function quickProblem(setDir: string, manifest: Manifest): Promise<string | undefined> {
  for (const file of manifest.streams.flatMap((stream) => stream.files)) {
    const info = await stat(join(setDir, file.path)).catch(() => undefined)
    if (!info?.isFile()) return `${file.path}: missing`
    const outside = await linkOutside(setDir, file.path)
    if (outside) return `${file.path}: ${outside}`
    if (info.size !== file.size) return `${file.path}: ${info.size} bytes, the manifest says ${file.size}`
  }
  return undefined
}

function fromManifest(name: string, path: string, manifest: Manifest, size: number, now: Date): BackupSetSummary {
  return {
    name,
    path,
    source: 'cimops',
    complete: true,
    status: 'unverified',
    mode: manifest.mode,
    time: manifest.createdAt,
    ageSeconds: Math.max(0, Math.round((now.getTime() - new Date(manifest.createdAt).getTime()) / 1000)),
    streams: manifest.streams.map((stream) => stream.name),
    messages: manifest.streams.reduce((sum, stream) => sum + stream.messages, 0),
    size,
    serverVersion: manifest.serverVersion,
  }
}

/** Bytes of the files under `path`; a file or directory gone before it is measured counts nothing. */
async function diskUsage(path: string, top = true): Promise<number> {
  let total = 0
  let entries
  try {
    entries = await readdir(path, {withFileTypes: true})
  } catch (error) {
    // The set itself gone is the caller's to handle; a subdirectory gone is a set still being written.
    if (!top && vanished(error)) return 0
    throw error
  }
  for (const entry of entries) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) total += await diskUsage(child, false)
    else if (entry.isFile()) total += await stat(child).then((info) => info.size, (error: unknown) => (vanished(error) ? 0 : Promise.reject(error)))
  }
  return total
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
