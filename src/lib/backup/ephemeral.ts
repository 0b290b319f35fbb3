/**
 * A throwaway nats-server (the sandbox's, nats only, one node) in a temp dir, for restores that must not
 * touch anything real: `backup verify --deep` and `drill`. It must read the set: a server at least as
 * new as the one that wrote it (2.15 writes archives older servers cannot read), chosen among the
 * installed and cached ones. Stopped afterwards, also on failure and on Ctrl-C (started at once, so
 * it is done before the command exits); tied to this process, so it also dies when the command is
 * killed outright. Its temp dir, like the drill's, records its owner: what a killed command leaves in
 * the temp dir is removed by the next one.
 */
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {archiveFormat} from '../adapters/nats/backup-archive.js'
import {SERVER_FEATURES} from '../adapters/nats/versions.js'
import type {NatsSettings} from '../core/context-types.js'
import {readChunks} from './file-sink.js'
import type {LoadedSet} from './integrity.js'
import {BACKUP_FILE} from './manifest.js'
import {currentOwner, ownerState, parseOwner} from './owner.js'

export interface EphemeralNats {
  nats: NatsSettings
  servers: string[]
  /** The version of the nats-server chosen to read the set. */
  serverVersion: string
}

export interface EphemeralOptions {
  /** The oldest nats-server that can read what will be restored (serverVersionNeeded); any when undefined. */
  minVersion?: string
  signal?: AbortSignal
  log?: (line: string) => void
}

/** The temp dirs of drills and deep verifies (a backup set, a server's data: up to the size of the streams). */
export const TEMP_PREFIXES = {drill: 'cimops-drill-', restoreTarget: 'cimops-restore-target-'} as const
const OWNER_FILE = '.cimops-owner'

export async function withEphemeralNats<T>(work: (target: EphemeralNats) => Promise<T>, opts: EphemeralOptions = {}): Promise<T> {
  const {natsServerAtLeast, sandboxDown, sandboxUp} = await import('../sandbox/index.js')
  // Chosen before anything is created: none new enough is an error with nothing to clean up.
  const server = await natsServerAtLeast(opts.minVersion)
  const stateDir = await ownedTempDir(TEMP_PREFIXES.restoreTarget, opts.log)
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      await sandboxDown(stateDir).catch((error: Error) => opts.log?.(`could not stop the ephemeral nats-server in ${stateDir}: ${error.message}`))
      await rm(stateDir, {recursive: true, force: true}).catch(() => {})
    })())
  const onAbort = () => void stop()
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  try {
    const {state} = await sandboxUp({stateDir, components: ['nats'], cluster: 1, binaries: {nats: server.path}, tiedToParent: true})
    opts.log?.(`ephemeral nats-server on ${state.natsServers.join(', ')}: ${server.path}, version ${server.version}`)
    return await work({nats: {servers: state.natsServers}, servers: state.natsServers, serverVersion: server.version})
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    await stop()
  }
}

/**
 * The oldest nats-server that can read a set: the one that wrote it, as its manifest records. natscli
 * records none: then 2.15 when one of its archives is in the V2 format, which older servers cannot
 * read, else any.
 */
export async function serverVersionNeeded(set: LoadedSet): Promise<string | undefined> {
  if (set.manifest.serverVersion !== 'unknown') return set.manifest.serverVersion
  if (set.manifest.mode !== 'snapshot') return undefined
  for (const entry of set.manifest.streams) {
    for (const file of entry.files.filter((f) => basename(f.path) !== BACKUP_FILE)) {
      if ((await archiveFormat(readChunks(join(set.dir, file.path), 64 * 1024))) === 'v2') return SERVER_FEATURES.backupArchiveV2
    }
  }
  return undefined
}

/** A new temp dir recorded as this process's, after removing those whose recorded owner is dead. */
export async function ownedTempDir(prefix: string, log?: (line: string) => void): Promise<string> {
  await removeOrphans(log)
  const dir = await mkdtemp(join(tmpdir(), prefix))
  await writeFile(join(dir, OWNER_FILE), `${JSON.stringify(currentOwner())}\n`)
  return dir
}

async function removeOrphans(log?: (line: string) => void): Promise<void> {
  const root = tmpdir()
  const names = await readdir(root).catch(() => [] as string[])
  for (const name of names.filter((entry) => Object.values(TEMP_PREFIXES).some((prefix) => entry.startsWith(prefix)))) {
    const dir = join(root, name)
    // No record: an older cimops's, or one being created this instant; neither is ours to judge.
    const owner = await readFile(join(dir, OWNER_FILE), 'utf8').then((text) => parseOwner(JSON.parse(text)), () => undefined)
    if (!owner || ownerState(owner) !== 'dead') continue
    // Its server should have died with it; stop it if not (the sandbox checks the pid is still that server).
    const {sandboxDown} = await import('../sandbox/index.js')
    await sandboxDown(dir).catch(() => {})
    await rm(dir, {recursive: true, force: true})
    log?.(`removed ${dir}, left by cimops pid ${owner.pid}, which ended without cleaning up`)
  }
}
