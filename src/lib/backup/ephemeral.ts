/**
 * A throwaway nats-server (the sandbox's, nats only, one node) in a temp dir, for restores that must not
 * touch anything real: `backup verify --deep` and `drill`. Stopped afterwards, also on failure and on
 * Ctrl-C (started at once, so it is done before the command exits); tied to this process, so it also
 * dies when the command is killed outright. Its temp dir, like the drill's, records its owner: what a
 * killed command leaves in the temp dir is removed by the next one.
 */
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {NatsSettings} from '../core/context-types.js'
import {currentOwner, ownerState, parseOwner} from './owner.js'

export interface EphemeralNats {
  nats: NatsSettings
  servers: string[]
}

/** The temp dirs of drills and deep verifies (a backup set, a server's data: up to the size of the streams). */
export const TEMP_PREFIXES = {drill: 'cimops-drill-', restoreTarget: 'cimops-restore-target-'} as const
const OWNER_FILE = '.cimops-owner'

export async function withEphemeralNats<T>(work: (target: EphemeralNats) => Promise<T>, opts: {signal?: AbortSignal; log?: (line: string) => void} = {}): Promise<T> {
  const {sandboxDown, sandboxUp} = await import('../sandbox/index.js')
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
    const {state} = await sandboxUp({stateDir, components: ['nats'], cluster: 1, tiedToParent: true})
    opts.log?.(`ephemeral nats-server on ${state.natsServers.join(', ')}`)
    return await work({nats: {servers: state.natsServers}, servers: state.natsServers})
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    await stop()
  }
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
