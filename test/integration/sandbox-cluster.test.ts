import {jetstreamManager} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {describe, expect, it} from 'vitest'
import {restartProcess, sandboxStatus, seedSandbox, stopProcess} from '../../src/lib/sandbox/index.js'
import {eventually} from '../helpers/health.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('three-node JetStream cluster sandbox', () => {
  const sandbox = useSandbox({cluster: 3, components: ['nats']})

  it('starts three healthy nats nodes, each routed to the other two, with a meta leader', async () => {
    const {state, stateDir} = sandbox()
    expect(state.cluster).toBe(3)
    expect(state.natsServers).toHaveLength(3)
    const status = await sandboxStatus(stateDir)
    expect(status.processes.map((p) => [p.name, p.alive, p.healthy, p.peers])).toEqual([
      ['nats-1', true, true, 2],
      ['nats-2', true, true, 2],
      ['nats-3', true, true, 2],
    ])
    for (const proc of status.processes) expect(proc.detail).toMatch(/^ready, routed to 2 peers, meta leader nats-[123]$/)
  })

  it('seed creates EVENTS with three replicas', async () => {
    const {state} = sandbox()
    const result = await seedSandbox(state.natsServers)
    expect(result.published).toBeGreaterThanOrEqual(300)
    const nc = await connect({servers: state.natsServers})
    try {
      const info = await (await jetstreamManager(nc)).streams.info('EVENTS')
      expect(info.config.num_replicas).toBe(3)
      expect(info.cluster?.replicas).toHaveLength(2)
      expect(info.state.messages).toBe(result.published)
    } finally {
      await nc.close()
    }
  })

  it('a stopped node shows as down and its peers lose their routes to it; a restart rejoins it', async () => {
    const {state, stateDir} = sandbox()
    await stopProcess(state, 'nats-3')
    const degraded = await sandboxStatus(stateDir)
    expect(degraded.running).toBe(true)
    expect(degraded.processes.map((p) => [p.name, p.alive, p.healthy])).toEqual([
      ['nats-1', true, false],
      ['nats-2', true, false],
      ['nats-3', false, false],
    ])
    expect(degraded.processes[0]?.detail).toBe('routed to 1/2 peers')
    expect(degraded.processes[2]?.detail).toBe('not running')

    await restartProcess(state, 'nats-3')
    // The restarted node is ready; its peers see it again within moments (2.10 rebuilds its pooled routes).
    const healed = await eventually(
      () => sandboxStatus(stateDir),
      (status) => status.processes.every((p) => p.healthy && p.peers === 2),
      10_000,
      250,
    )
    expect(healed.processes.map((p) => [p.name, p.healthy, p.peers, p.detail])).toEqual(healed.processes.map((p) => [p.name, true, 2, p.detail]))
  })

  it('two nodes restarted side by side are both recorded, so `down` can stop them (no server left running)', async () => {
    const {state, stateDir} = sandbox()
    const before = await sandboxStatus(stateDir)
    const oldPids = before.processes.filter((p) => p.name !== 'nats-1').map((p) => p.pid)
    await Promise.all([stopProcess(state, 'nats-2', 'SIGKILL'), stopProcess(state, 'nats-3', 'SIGKILL')])
    // Ready means every stream and consumer is current again; two nodes catching up at once on a loaded machine took over 20 s on 2.10.27.
    await Promise.all([restartProcess(state, 'nats-2', 60_000), restartProcess(state, 'nats-3', 60_000)])
    const after = await sandboxStatus(stateDir)
    const restarted = after.processes.filter((p) => p.name !== 'nats-1')
    expect(restarted.map((p) => [p.name, p.alive])).toEqual([
      ['nats-2', true],
      ['nats-3', true],
    ])
    for (const proc of restarted) expect(oldPids).not.toContain(proc.pid)
  })
})
