import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll} from 'vitest'
import {sandboxDown, sandboxUp, type SandboxOptions, type SandboxState} from '../../src/lib/sandbox/index.js'

export interface TestSandbox {
  state: SandboxState
  stateDir: string
  stop(): Promise<void>
}

/** Real servers on free loopback ports, in a fresh temp dir of their own. */
export async function startTestSandbox(opts: Partial<SandboxOptions> = {}): Promise<TestSandbox> {
  const stateDir = await mkdtemp(join(tmpdir(), 'cimops-sandbox-'))
  const removeDir = () => rm(stateDir, {recursive: true, force: true})
  try {
    const {state} = await sandboxUp({...opts, stateDir})
    return {
      state,
      stateDir,
      async stop() {
        await sandboxDown(stateDir)
        await removeDir()
      },
    }
  } catch (error) {
    await removeDir()
    throw error
  }
}

/** The version the sandbox's nats-server reports in its INFO: what tests compare with, never a pinned string. */
export async function natsServerVersion(state: SandboxState): Promise<string> {
  const nc = await connect({servers: state.natsServers})
  try {
    return nc.info!.version
  } finally {
    await nc.close()
  }
}

/** One sandbox per test file: started in beforeAll, stopped in afterAll. Call the getter inside tests. */
export function useSandbox(opts: Partial<SandboxOptions> = {}): () => TestSandbox {
  let sandbox: TestSandbox | undefined
  // A cluster may wait up to a minute for placement on a loaded machine (sandbox.ts), beyond the default hook timeout.
  beforeAll(async () => {
    sandbox = await startTestSandbox(opts)
  }, (opts.cluster ?? 1) > 1 ? 120_000 : undefined)
  afterAll(async () => {
    await sandbox?.stop()
  })
  return () => {
    if (!sandbox) throw new Error('useSandbox: the sandbox is not started; call the getter inside a test or hook')
    return sandbox
  }
}
