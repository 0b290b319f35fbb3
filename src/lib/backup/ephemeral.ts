/**
 * A throwaway nats-server (the sandbox's, nats only, one node) in a temp dir, for restores that must not
 * touch anything real: `backup verify --deep` and `drill`. Stopped afterwards, also on failure and on
 * Ctrl-C (started at once, so it is done before the command exits).
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {NatsSettings} from '../core/context-types.js'

export interface EphemeralNats {
  nats: NatsSettings
  servers: string[]
}

export async function withEphemeralNats<T>(work: (target: EphemeralNats) => Promise<T>, opts: {signal?: AbortSignal; log?: (line: string) => void} = {}): Promise<T> {
  const {sandboxDown, sandboxUp} = await import('../sandbox/index.js')
  const stateDir = await mkdtemp(join(tmpdir(), 'cimops-restore-target-'))
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      await sandboxDown(stateDir).catch((error: Error) => opts.log?.(`could not stop the ephemeral nats-server in ${stateDir}: ${error.message}`))
      await rm(stateDir, {recursive: true, force: true}).catch(() => {})
    })())
  const onAbort = () => void stop()
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  try {
    const {state} = await sandboxUp({stateDir, components: ['nats'], cluster: 1})
    opts.log?.(`ephemeral nats-server on ${state.natsServers.join(', ')}`)
    return await work({nats: {servers: state.natsServers}, servers: state.natsServers})
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    await stop()
  }
}
