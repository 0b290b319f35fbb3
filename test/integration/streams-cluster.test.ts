/**
 * Reports on the 3-node sandbox cluster (R3 streams and consumers): leaders marked `*`; with one node
 * killed the reports still answer and mark the missing replica `!`, and their numbers still match
 * what the surviving servers say.
 */
import {type JetStreamManager, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {ConsumerReport, ConsumerRow} from '../../src/lib/streams/consumer-report.js'
import type {StreamReport} from '../../src/lib/streams/stream-report.js'
import {seedSandbox, stopProcess} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('stream and consumer reports on a 3-node cluster', () => {
  const sandbox = useSandbox({cluster: 3, components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection | undefined
  const cli = (args: string[]) => runCli([...args, '--nats-url', sandbox().state.natsServers.join(','), '--timeout', '3s'], home.env)
  // Until a group the killed node led elects a new leader (a few seconds after a kill), its info times out: poll() retries.
  const streamReport = async () => {
    const result = await cli(['stream', 'report', '--json'])
    if (result.code !== 0) throw new Error(result.stdout || result.stderr)
    return JSON.parse(result.stdout) as StreamReport
  }
  const consumerReport = async () => {
    const result = await cli(['consumer', 'report', 'EVENTS', '--json', '--sort', 'name', '--lag-warn', '1d', '--lag-crit', '2d', '--stall-after', '1d'])
    return {code: result.code, report: JSON.parse(result.stdout) as ConsumerReport}
  }

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
  })

  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
  })

  async function manager(servers: string[]): Promise<JetStreamManager> {
    await nc?.close()
    nc = await connect({servers})
    return jetstreamManager(nc)
  }

  it('with every node up: three replicas, the leader marked *, as the server reports them', async () => {
    const jsm = await manager(sandbox().state.natsServers)
    const report = await streamReport()
    const events = report.streams.find((s) => s.name === 'EVENTS')!
    const info = await jsm.streams.info('EVENTS')
    expect(events.replicas).toBe(3)
    expect(events.cluster?.leader).toBe(info.cluster?.leader)
    expect(events.cluster?.replicas.map((r) => [r.name, r.leader, r.offline])).toEqual([
      [info.cluster!.leader, true, false],
      ...info.cluster!.replicas!.map((r) => [r.name, false, false]),
    ])
    expect(events.messages).toBe(info.state.messages)

    const text = await cli(['stream', 'report'])
    expect(text.stdout).toContain(`${info.cluster!.leader}*`)
    expect(text.stdout).not.toContain('!')

    const {code, report: consumers} = await consumerReport()
    expect(code).toBe(0)
    for (const row of consumers.consumers) {
      const ci = await jsm.consumers.info('EVENTS', row.name)
      expect(row.cluster?.leader, row.name).toBe(ci.cluster?.leader)
      expect(row.cluster?.replicas.map((r) => r.name).sort(), row.name).toEqual(['nats-1', 'nats-2', 'nats-3'])
    }
  })

  it('with nats-3 killed: the reports still answer, mark nats-3 !, and match the surviving servers', async () => {
    const {state} = sandbox()
    await stopProcess(state, 'nats-3', 'SIGKILL')

    // The replicas notice within a moment; a group led by nats-3 elects a new leader.
    const report = await poll(streamReport, (r) => r.streams.every((s) => s.replicas === 1 || (s.cluster?.leader !== 'nats-3' && s.cluster?.replicas.some((x) => x.name === 'nats-3' && (x.offline || !x.current)))))
    // The report answering means the meta group has a leader again; only now do the survivors answer us too.
    const jsm = await manager(state.natsServers.slice(0, 2))
    const replicated = report.streams.filter((s) => s.replicas === 3)
    expect(replicated.map((s) => s.name)).toContain('EVENTS')
    for (const row of replicated) {
      const info = await jsm.streams.info(row.name)
      expect(row.cluster?.leader, row.name).toBe(info.cluster?.leader)
      // A killed peer is not "offline" to the others until its missed heartbeats add up: it is not current, which `!` marks too.
      const killed = row.cluster?.replicas.find((r) => r.name === 'nats-3')
      expect(killed, row.name).toMatchObject({leader: false})
      expect(killed!.offline || !killed!.current, row.name).toBe(true)
      expect([row.messages, row.lastSeq, row.consumers]).toEqual([info.state.messages, info.state.last_seq, info.state.consumer_count])
    }
    const text = await cli(['stream', 'report'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/EVENTS .*nats-3!/)

    const consumersAnswering = async () => {
      const result = await consumerReport()
      if (!result.report.consumers) throw new Error('the consumer report did not answer')
      return result
    }
    // As for the streams: each consumer group has noticed nats-3 is gone (2.10 took a moment longer for one of them).
    const noticed = (c: ConsumerRow) => c.cluster?.leader !== 'nats-3' && Boolean(c.cluster?.replicas.some((x) => x.name === 'nats-3' && (x.offline || !x.current)))
    const {code, report: consumers} = await poll(consumersAnswering, ({report: r}) => r.consumers.every(noticed))
    expect(code).toBe(0)
    expect(consumers.consumers).toHaveLength(6)
    for (const row of consumers.consumers) {
      const ci = await jsm.consumers.info('EVENTS', row.name)
      expect(row.cluster?.leader, row.name).toBe(ci.cluster?.leader)
      const killed = row.cluster?.replicas.find((r) => r.name === 'nats-3')
      expect(killed!.offline || !killed!.current, row.name).toBe(true)
      expect(row, row.name).toMatchObject({ackPending: ci.num_ack_pending, ackFloor: {streamSeq: ci.ack_floor.stream_seq}, delivered: {streamSeq: ci.delivered.stream_seq}})
      expect(row.lagSeconds, row.name).not.toBeNull()
    }
    const consumerText = await cli(['consumer', 'report', 'EVENTS', '--lag-warn', '1d', '--lag-crit', '2d', '--stall-after', '1d'])
    expect(consumerText.stdout).toMatch(/workflow-analytics .* OK +nats-[12]\*, nats-[12], nats-3!\n/)
  })
})

/** Runs `probe` until `accept` holds (at most 20 s), returning the last value. */
async function poll<T>(probe: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined && accept(value)) return value
    if (Date.now() > deadline) {
      if (value === undefined) throw new Error('the report never answered')
      return value
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
