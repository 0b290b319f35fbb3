import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {jetstreamManager, type StreamInfo} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {restartProcess, stopProcess} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const MESSAGES = 2000

describe('restore into the 3-node sandbox cluster', () => {
  const sandbox = useSandbox({cluster: 3, components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let work: string
  let nc: NatsConnection

  beforeAll(async () => {
    home = await isolatedHome()
    work = await mkdtemp(join(tmpdir(), 'cimops-restore-cluster-'))
    nc = await connect({servers: sandbox().state.natsServers})
  })
  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
    await rm(work, {recursive: true, force: true})
  })

  it('an R1 backup restored with --replicas 3 is healthy on all three peers, and survives losing its leader', async () => {
    const {state} = sandbox()
    const url = state.natsServers.join(',')
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({name: 'ORDERS', subjects: ['orders.>'], storage: 'file', num_replicas: 1})
    for (let i = 0; i < MESSAGES; i++) nc.publish(`orders.${i % 10}`, JSON.stringify({i}))
    await nc.flush()
    await jsm.consumers.add('ORDERS', {durable_name: 'billing', ack_policy: 'explicit'})
    const set = join(work, 'orders')
    const created = await runCli(['backup', 'create', '--stream', 'ORDERS', '--dir', set, '--nats-url', url, '--quiet'], home.env)
    expect(created.code, created.stderr).toBe(0)
    await jsm.streams.delete('ORDERS')

    const restored = await runCli(['restore', set, '--replicas', '3', '--nats-url', url, '--json'], home.env)
    expect(restored.code, restored.stderr).toBe(0)
    const result = JSON.parse(restored.stdout)
    expect(result.ok).toBe(true)
    expect(result.streams[0]).toMatchObject({target: 'ORDERS', replicas: 3})
    expect(result.streams[0].checks).toContainEqual(expect.objectContaining({name: 'replicas', ok: true, actual: expect.stringMatching(/^3 current \(leader nats-[123]\)$/)}))

    const info = await jsm.streams.info('ORDERS')
    expect(info.config.num_replicas).toBe(3)
    expect(info.state.messages).toBe(MESSAGES)
    expect(info.cluster?.replicas?.map((peer) => peer.current)).toEqual([true, true])
    expect((await jsm.consumers.info('ORDERS', 'billing')).num_pending).toBe(MESSAGES)

    // The real proof that every peer holds the data: stop the leader, a follower takes over with everything.
    const leader = info.cluster!.leader!
    await stopProcess(state, leader, 'SIGKILL')
    try {
      const survivor = state.processes.find((p) => p.name !== leader)!.url
      const other = await connect({servers: [survivor]})
      try {
        // No account check: until the survivors elect a meta leader after the kill, it would time out.
        const otherJsm = await jetstreamManager(other, {checkAPI: false})
        let after: StreamInfo | undefined
        const deadline = Date.now() + 20_000
        while (Date.now() < deadline) {
          after = await otherJsm.streams.info('ORDERS').catch(() => undefined)
          if (after?.cluster?.leader && after.cluster.leader !== leader) break
          await sleep(200)
        }
        expect(after?.cluster?.leader).not.toBe(leader)
        expect(after?.state).toMatchObject({messages: MESSAGES, first_seq: 1, last_seq: MESSAGES})
      } finally {
        await other.close()
      }
    } finally {
      await restartProcess(state, leader)
    }
  }, 90_000) // a backup, a restore waiting for three current replicas, a kill, an election and a restart on a loaded 2-core machine
})
