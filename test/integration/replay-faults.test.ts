/**
 * `cimops replay` riding out server faults on real nats-server (the chosen server set): a restart of the only server,
 * and the loss of the target stream's leader in a 3-node cluster with an R3 target. Each replay is
 * slowed with --rate so the fault lands mid-replay; afterwards the target must hold every selected
 * event exactly once (by the Cim-Replay-Source each carries). Bounded: 20k events, ~5 s per replay.
 * Each fault is repeated in fast-batch mode where the server reports fast batch publishing (API level 4,
 * and allow_batched in a stream's echoed config); elsewhere that test is skipped, saying why.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import {jetstream, type JetStreamManager, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ensureStream, whenReachable} from '../../src/lib/adapters/nats/seed-setup.js'
import type {ReplayResult} from '../../src/lib/replay/service.js'
import {restartProcess, stopProcess} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, startCli} from '../helpers/cli.js'
import {type TestSandbox, useSandbox} from '../helpers/sandbox.js'

const EVENTS = 20_000
const RATE = '4000'

async function publishSource(nc: NatsConnection, jsm: JetStreamManager, replicas: number): Promise<void> {
  // Placed as the seed places its streams: a loaded 2.10 cluster may refuse an R3 stream for a while after start.
  await ensureStream(jsm, {name: 'FSRC', subjects: ['fault.>'], storage: 'file', num_replicas: replicas})
  const body = new TextEncoder().encode(JSON.stringify({id: 'e', data: 'x'.repeat(120)}))
  const js = jetstream(nc)
  // Acknowledged in windows: every event is stored before a replay starts, also in the cluster.
  for (let i = 0; i < EVENTS; i += 1000) {
    await Promise.all(Array.from({length: Math.min(1000, EVENTS - i)}, (_, k) => whenReachable(() => js.publish(`fault.workflow.wf.wf-${(i + k) % 50}.Updated`, body))))
  }
  expect((await jsm.streams.info('FSRC')).state.messages).toBe(EVENTS)
}

/** The source sequences the target holds, one entry per stored message (from its Cim-Replay-Source header). */
async function replayedSeqs(nc: NatsConnection, stream: string): Promise<number[]> {
  const consumer = await jetstream(nc).consumers.get(stream, {headers_only: true})
  const info = await (await jetstreamManager(nc)).streams.info(stream)
  const seqs: number[] = []
  if (info.state.messages === 0) return seqs
  const messages = await consumer.consume()
  for await (const m of messages) {
    seqs.push(Number(m.headers?.get('Cim-Replay-Source').split(':')[1]))
    if (m.seq >= info.state.last_seq) break
  }
  return seqs
}

function expectExactlyOnce(seqs: number[]): void {
  expect(seqs.length).toBe(EVENTS)
  const sorted = [...seqs].sort((a, b) => a - b)
  expect(sorted[0]).toBe(1)
  expect(sorted.at(-1)).toBe(EVENTS)
  expect(new Set(sorted).size).toBe(EVENTS)
}

/** Why fast batches cannot be tested on this server, or undefined when they can: its API level, and allow_batched in a stream's echoed config. */
async function noFastBatch(jsm: JetStreamManager): Promise<string | undefined> {
  const level = (await jsm.getAccountInfo()).api.level
  if (level === undefined || level < 4) return `the server reports ${level === undefined ? 'no API level' : `API level ${level}`}: fast batch publishing needs 4`
  const probe = await jsm.streams.add({name: 'PROBE', subjects: ['probe.>'], allow_batched: true})
  await jsm.streams.delete('PROBE')
  return probe.config.allow_batched === true ? undefined : "allow_batched is missing from the server's echo"
}

async function waitForMessages(jsm: JetStreamManager, stream: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const info = await jsm.streams.info(stream).catch(() => undefined)
    if (info && info.state.messages >= atLeast) return
    if (Date.now() > deadline) throw new Error(`${stream} never reached ${atLeast} messages`)
    await sleep(50)
  }
}

type Fault = (sandbox: TestSandbox, jsm: JetStreamManager, target: string) => Promise<() => Promise<void>>

/** `prepareTarget` makes the targets (FDST, and FDSTB for batches) itself; without it, the replay creates them (--create-target). */
function faultSuite(name: string, cluster: 1 | 3, fault: Fault, prepareTarget?: (jsm: JetStreamManager, target: string, batched: boolean) => Promise<void>) {
  describe(name, () => {
    const sandbox = useSandbox({components: ['nats'], cluster})
    let home: Awaited<ReturnType<typeof isolatedHome>>
    let nc: NatsConnection
    let jsm: JetStreamManager

    let skipBatch: string | undefined
    beforeAll(async () => {
      home = await isolatedHome()
      nc = await connect({servers: sandbox().state.natsServers, maxReconnectAttempts: -1, reconnectTimeWait: 200})
      jsm = await jetstreamManager(nc)
      await publishSource(nc, jsm, cluster)
      await prepareTarget?.(jsm, 'FDST', false)
      skipBatch = await noFastBatch(jsm)
      if (!skipBatch) await prepareTarget?.(jsm, 'FDSTB', true)
    })
    afterAll(async () => {
      await nc?.close()
      await home?.cleanup()
    })

    const replayThroughFault = async (mode: 'async' | 'batch', target: string, subjects: string) => {
      const args = ['replay', '--stream', 'FSRC', '--to-stream', target, '--subject-map', `fault=${subjects}`, '--replay-id', `fault-${mode}`, '--publish-mode', mode, '--rate', RATE, '--json', '--quiet', '--timeout', '2s']
      if (!prepareTarget) args.push('--create-target')
      const child = startCli([...args, '--nats-url', sandbox().state.natsServers.join(',')], home.env)
      const done = finished(child)
      await waitForMessages(jsm, target, EVENTS / 5)
      const recover = await fault(sandbox(), jsm, target)
      const result = await done
      await recover()
      expect(result.code, result.stderr + result.stdout).toBe(0)
      const replay = JSON.parse(result.stdout) as ReplayResult
      expect(replay.publishMode?.mode).toBe(mode)
      expect(replay.selected).toBe(EVENTS)
      expect(replay.published + replay.duplicates).toBe(EVENTS)
      expectExactlyOnce(await replayedSeqs(nc, target))
    }

    // Bounded: ~5s of replay, the fault, and up to 30s of the replay's own fault tolerance.
    it('completes with every event exactly once (pipelined)', {timeout: 60_000}, () => replayThroughFault('async', 'FDST', 'copy'))

    it('completes with every event exactly once (fast batches)', {timeout: 60_000}, async (ctx) => {
      if (skipBatch) {
        console.log(`skipped: ${name} in fast-batch mode: ${skipBatch}`)
        ctx.skip()
      }
      await replayThroughFault('batch', 'FDSTB', 'copyb')
    })
  })
}

faultSuite('replay: the server restarts mid-replay, down for 8s', 1, async (sandbox) => {
  await stopProcess(sandbox.state, 'nats-1')
  // Longer than a few reconnect attempts: the replay waits as long as its fault tolerance (30s).
  await sleep(8000)
  await restartProcess(sandbox.state, 'nats-1')
  return async () => undefined
})

faultSuite(
  'replay: a 3-node cluster loses the R3 target stream leader mid-replay',
  3,
  async (sandbox, jsm, target) => {
    const leader = (await jsm.streams.info(target)).cluster!.leader!
    await stopProcess(sandbox.state, leader, 'SIGKILL')
    return () => restartProcess(sandbox.state, leader)
  },
  async (jsm, target, batched) => {
    await jsm.streams.add({name: target, subjects: [batched ? 'copyb.>' : 'copy.>'], storage: 'file', num_replicas: 3, duplicate_window: 10 * 60 * 1e9, ...(batched ? {allow_batched: true} : {})})
  },
)
