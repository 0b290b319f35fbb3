/**
 * Backups written by natscli, read as sets: `nats stream backup STREAM DIR` leaves DIR/backup.json and
 * DIR/stream.tar.s2 (DIR/stream.arc.s2 for a backup V2 archive); `nats account backup DIR` one such pair per stream directory. They carry no
 * manifest, so no checksums: what they promise (messages, sequences, times) comes from each
 * backup.json's state, and only the structure can be checked before a restore.
 */
import {readdir, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {isJsonObject, parseJson} from '../adapters/nats/backup-json.js'
import {streamFacts} from '../adapters/nats/backup-streams.js'
import {DataError} from '../core/errors.js'
import {BACKUP_FILE, type Manifest, MANIFEST_FORMAT, type ManifestStream, manifestStreamState, setPath, SNAPSHOT_FILES} from './manifest.js'

/** A manifest describing a natscli backup directory, or undefined when `dir` is not one. */
export async function natscliManifest(dir: string): Promise<Manifest | undefined> {
  const streamDirs = (await isPair(dir)) ? ['.'] : await pairedSubdirs(dir)
  if (streamDirs.length === 0) return undefined
  const streams: ManifestStream[] = []
  let newest = 0
  for (const streamDir of streamDirs) {
    const base = join(dir, streamDir)
    const path = join(base, BACKUP_FILE)
    let facts
    try {
      const json = parseJson(await readFile(path, 'utf8'))
      if (!isJsonObject(json) || !isJsonObject(json.config) || !isJsonObject(json.state)) throw new Error('not {config, state}')
      facts = streamFacts(json.config, json.state)
    } catch (error) {
      throw new DataError(`${path} is corrupt`, (error as Error).message.split('\n')[0])
    }
    const files = []
    for (const file of [BACKUP_FILE, (await archiveIn(base))!]) {
      const info = await stat(join(base, file))
      newest = Math.max(newest, info.mtimeMs)
      // No checksum to compare with: integrity.ts checks the structure only.
      files.push({path: setPath(streamDir, file), sha256: '', size: info.size})
    }
    streams.push({
      ...manifestStreamState(facts),
      dir: streamDir,
      consumers: [],
      files,
      durationSeconds: 0,
    })
  }
  const time = new Date(newest || Date.now()).toISOString()
  return {
    format: MANIFEST_FORMAT,
    cimopsVersion: 'natscli',
    serverVersion: 'unknown',
    mode: 'snapshot',
    createdAt: time,
    completedAt: time,
    durationSeconds: 0,
    options: {consumers: true, check: false},
    streams: streams.sort((a, b) => a.name.localeCompare(b.name)),
  }
}

async function isPair(dir: string): Promise<boolean> {
  const [json, archive] = await Promise.all([isFile(join(dir, BACKUP_FILE)), archiveIn(dir)])
  return json && archive !== undefined
}

/** The archive's file name in a natscli stream directory; both names at once is ambiguous (jsm.go refuses it too). */
async function archiveIn(dir: string): Promise<string | undefined> {
  const present = []
  for (const name of Object.values(SNAPSHOT_FILES)) if (await isFile(join(dir, name))) present.push(name)
  if (present.length > 1) throw new DataError(`${dir} is not a backup natscli can have written`, `it holds both ${present.join(' and ')}`)
  return present[0]
}

async function pairedSubdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {withFileTypes: true}).catch(() => [])
  const paired: string[] = []
  for (const entry of entries) if (entry.isDirectory() && (await isPair(join(dir, entry.name)))) paired.push(entry.name)
  return paired
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  )
}
