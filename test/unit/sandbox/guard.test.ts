/** `sandbox seed`'s guard (src/lib/sandbox/guard.ts) on a two-site sandbox: pure, no servers. */
import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/lib/core/errors.js'
import {assertSandboxServer} from '../../../src/lib/sandbox/guard.js'
import type {SandboxProcess, SandboxState} from '../../../src/lib/sandbox/types.js'

function node(name: string, port: number, site: 'primary' | 'dr'): SandboxProcess {
  return {name, component: 'nats', pid: 1, url: `nats://127.0.0.1:${port}`, port, site, serverId: `ID-${name}`, configFile: '', dataDir: '', logFile: '', argv: ['nats-server']}
}

const state: SandboxState = {
  version: 1,
  stateDir: '/tmp/sb',
  startedAt: '2026-01-01T00:00:00Z',
  cluster: 1,
  sites: 2,
  jetstream: true,
  processes: [node('nats-1', 4222, 'primary'), node('dr-nats-1', 5222, 'dr')],
  natsServers: ['nats://127.0.0.1:4222'],
  drNatsServers: ['nats://127.0.0.1:5222'],
}
const guard = {stateDir: '/tmp/sb', state}

describe('the seed guard on two sites', () => {
  it('lets the seed write to the primary site, and create the mirror at the DR site', () => {
    expect(() => assertSandboxServer(guard, state.natsServers, {address: '127.0.0.1:4222', serverId: 'ID-nats-1'})).not.toThrow()
    expect(() => assertSandboxServer(guard, state.drNatsServers!, {address: '127.0.0.1:5222', serverId: 'ID-dr-nats-1'}, 'dr')).not.toThrow()
  })

  it('refuses to seed the DR site as if it were the primary (a second writable copy of the events)', () => {
    const seedDr = () => assertSandboxServer(guard, state.drNatsServers!, {address: '127.0.0.1:5222', serverId: 'ID-dr-nats-1'})
    expect(seedDr).toThrow(UsageError)
    expect(seedDr).toThrow("dr-nats-1 belongs to the sandbox's dr site, not its primary site")
  })
})
