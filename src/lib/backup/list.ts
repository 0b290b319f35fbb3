/** `cimops backup list`: the sets under a root, complete or not, newest first. Reads manifests only (no checksums). */
import {readdir, readFile, stat} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'

import {UsageError} from '../core/errors.js'
import {type BackupMode, Manifest, MANIFEST_FILE, PARTIAL_MARKER, PARTIAL_SUFFIX} from './manifest.js'
import {natscliManifest} from './natscli.js'

export interface BackupSetSummary {
  name: string
  path: string
  complete: boolean
  /** cimops, or natscli: a backup natscli wrote (no manifest, no checksums). */
  source: 'cimops' | 'natscli'
  /** complete; incomplete: still being written or interrupted (never restore it); invalid: its manifest does not parse. */
  status: 'complete' | 'incomplete' | 'invalid'
  /** Why a set is not complete. */
  problem?: string
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

export async function listBackups(root: string, now = new Date()): Promise<BackupSetSummary[]> {
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
    sets.push(await summarize(path, now))
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
    try {
      const manifest = Manifest.parse(JSON.parse(await readFile(join(path, MANIFEST_FILE), 'utf8')))
      return fromManifest(name, path, manifest, size, now)
    } catch (error) {
      const time = info.mtime.toISOString()
      return {name, path, source: 'cimops', complete: false, status: 'invalid', problem: `unreadable manifest (${(error as Error).message.split('\n')[0]})`, time, ageSeconds: age(time), streams: [], size}
    }
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

function fromManifest(name: string, path: string, manifest: Manifest, size: number, now: Date): BackupSetSummary {
  return {
    name,
    path,
    source: 'cimops',
    complete: true,
    status: 'complete',
    mode: manifest.mode,
    time: manifest.createdAt,
    ageSeconds: Math.max(0, Math.round((now.getTime() - new Date(manifest.createdAt).getTime()) / 1000)),
    streams: manifest.streams.map((stream) => stream.name),
    messages: manifest.streams.reduce((sum, stream) => sum + stream.messages, 0),
    size,
    serverVersion: manifest.serverVersion,
  }
}

async function diskUsage(path: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(path, {withFileTypes: true})) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) total += await diskUsage(child)
    else if (entry.isFile()) total += (await stat(child)).size
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
