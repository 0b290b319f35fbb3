/**
 * `cimops monitor` on a 3-node cluster (issue 15 item 8): killing the node that held its consumer left
 * cim_monitor_counted_sequence stuck below the stream's last sequence for minutes while /readyz said 200.
 * Here each node in turn is killed with SIGKILL while events are published: while it is down the monitor
 * either counts them or says 503; once it is back the monitor counts exactly the events stored (none
 * twice, none missed) and is ready again. With two nodes gone (no quorum) /readyz must say 503.
 * Bounded: every wait has a deadline (about a minute and a quarter in all on 2 cores). Run `npm run build` first.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {restartProcess, seedSandbox, stopProcess} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, startCli} from '../helpers/cli.js'
import {freePort, publishUntilStored, readyStatus, samples, scrape, sum, until} from '../helpers/monitor.js'
import {useSandbox} from '../helpers/sandbox.js'

describe('cimops monitor on a 3-node cluster losing nodes', () => {
  const sandbox = useSandbox({cluster: 3, components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
  }, 60_000)
  afterAll(async () => {
    await home?.cleanup()
  })

  const metric = async (base: string, name: string) => {
    const text = await scrape(base)
    return text === undefined ? undefined : sum(samples(text, name))
  }
  /** Retried: right after a kill the stream may be between leaders. */
  const lastSeq = (nc: NatsConnection) =>
    until('the stream info', async () => (await (await jetstreamManager(nc, {timeout: 1000})).streams.info('EVENTS')).state.last_seq, 15_000, 200)

  /** The node leading the JetStream cluster, once the stream's leader is moved onto it (each step-down elects another replica). */
  const leadingBoth = async (nc: NatsConnection) => {
    const nats = sandbox().state.processes.filter((p) => p.component === 'nats')
    const metaLeader = await until('the cluster leader', async () => {
      const jsz = (await (await fetch(`${nats[0]!.monitorUrl}/jsz`)).json()) as {meta_cluster?: {leader?: string}}
      return jsz.meta_cluster?.leader
    }, 15_000, 200)
    for (let attempt = 0; attempt < 10; attempt++) {
      const leader = await until('the stream leader', async () => (await (await jetstreamManager(nc, {timeout: 1000})).streams.info('EVENTS')).cluster?.leader, 15_000, 200)
      if (leader === metaLeader) return leader
      await nc.request('$JS.API.STREAM.LEADER.STEPDOWN.EVENTS', undefined, {timeout: 2000}).catch(() => undefined)
      await until('a new stream leader', async () => {
        const now = (await (await jetstreamManager(nc, {timeout: 1000})).streams.info('EVENTS')).cluster?.leader
        return now && now !== leader ? now : undefined
      }, 15_000, 200)
    }
    throw new Error(`the stream's leader did not move to ${metaLeader} in 10 step-downs`)
  }

  it('counts exactly once through the loss of each node in turn (SIGKILL), and is not ready while it cannot count', async () => {
    const {state} = sandbox()
    const servers = state.natsServers
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const child = startCli(['monitor', '--listen', `127.0.0.1:${port}`, '--refresh', '1s', '--timeout', '2s', '--nats-url', servers.join(',')], home.env)
    const done = finished(child)
    let monitorLog = ''
    child.stderr?.on('data', (chunk: Buffer) => (monitorLog += chunk))
    const publisher = await connect({servers, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 200})
    const js = jetstream(publisher)
    let published = 0
    const publish = async (count: number, tag: string) => {
      for (let i = 0; i < count; i++) await publishUntilStored(js, `cim.graph.node.${tag}-${i}.NodeAdded`, `${tag}-${i}`, 20_000)
      published += count
    }
    try {
      await until('/readyz 200', async () => ((await readyStatus(base))?.status === 200 ? true : undefined), 15_000)
      const startSeq = await lastSeq(publisher)
      const countedExactly = async (what: string) => {
        const expectedSeq = await lastSeq(publisher)
        expect(expectedSeq).toBe(startSeq + published)
        await until(what, async () => ((await metric(base, 'cim_events_total')) === published && (await metric(base, 'cim_monitor_counted_sequence')) === expectedSeq ? true : undefined), 30_000).catch(
          async (error: Error) => {
            throw new Error(`${error.message}: counted ${await metric(base, 'cim_events_total')} of ${published}, sequence ${await metric(base, 'cim_monitor_counted_sequence')} of ${expectedSeq}; the monitor said:\n${monitorLog}`)
          },
        )
        await until(`${what}: ready again`, async () => ((await readyStatus(base))?.status === 200 ? true : undefined), 10_000)
      }

      await publish(10, 'before')
      await countedExactly('the first events counted')

      /** While a node is down the monitor may or may not be able to count (its consumer may be placed on the dead node): either way it must say which. */
      const honest = async (what: string) => {
        const expectedSeq = await lastSeq(publisher)
        return until(what, async () => {
          const [counted, ready] = [await metric(base, 'cim_monitor_counted_sequence'), await readyStatus(base)]
          if (counted === expectedSeq && ready?.status === 200) return 'counting'
          if (counted !== undefined && counted < expectedSeq && ready?.status === 503) return ready.text.trim()
          return undefined
        }, 20_000).catch((error: Error) => {
          throw new Error(`${error.message}: /readyz 200 while behind the stream; the monitor said:\n${monitorLog}`)
        })
      }

      for (const node of ['nats-1', 'nats-2', 'nats-3']) {
        await stopProcess(state, node, 'SIGKILL')
        await publish(10, `without-${node}`)
        expect(await honest(`${node} killed: counting, or /readyz 503`)).toMatch(/^(counting|not ready: .+)$/)
        await restartProcess(state, node)
        await publish(5, `after-${node}`)
        await countedExactly(`counted after ${node} came back`)
      }

      // Two of three gone: no quorum, nothing new can be stored or counted, and /readyz must say so. The hard case:
      // the survivor leads both the cluster (it answers the stream list) and the stream, and goes on answering as
      // leader, its followers still "current", for 10 to 20s until nats-server notices. So /readyz must turn 503
      // within the monitor's own bound (5s without word from the followers, a refresh, a timeout), and stay 503
      // through the window in which the survivor still answers as leader.
      const survivor = await leadingBoth(publisher)
      const killed = ['nats-1', 'nats-2', 'nats-3'].filter((node) => node !== survivor)
      const killedAt = Date.now()
      for (const node of killed) await stopProcess(state, node, 'SIGKILL')
      const notReady = await until('/readyz 503 without quorum', async () => {
        const ready = await readyStatus(base)
        return ready && ready.status === 503 ? ready.text : undefined
      }, 9000)
      expect(notReady).toMatch(/^not ready: /)
      await sleep(Math.max(0, killedAt + 10_000 - Date.now()))
      const answers = new Set<string>()
      while (Date.now() < killedAt + 16_000) {
        const ready = await readyStatus(base)
        answers.add(ready ? `${ready.status} ${ready.text.trim().replace(/\d+s\b/g, 'Ns')}` : 'no answer')
        await sleep(250)
      }
      // Which reason depends on where the monitor was connected and how soon the survivor answered.
      for (const answer of answers) expect(answer).toMatch(/^503 not ready: (NATS (disconnected|reconnecting)|stream EVENTS (lost its quorum: 1 of 3 replicas answer its leader |not read for |has no leader))/)
      // By now the survivor's groups have stepped down too: every group elects again before a node is ready (all its
      // consumers current). About 7s alone, even with the CPUs busy; once over 20s in a whole-suite run on 2.9.10.
      await Promise.all(killed.map((node) => restartProcess(state, node, 60_000)))
      await publish(5, 'after-quorum')
      await countedExactly('counted after the quorum came back')
      expect(await metric(base, 'cim_events_total')).toBe(published)
    } finally {
      await publisher.close()
      child.kill('SIGTERM')
      const exit = await done
      expect(exit.code, exit.stderr).toBe(0)
    }
  }, 210_000)
})
