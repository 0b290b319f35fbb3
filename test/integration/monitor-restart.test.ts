/**
 * `cimops monitor` rides out NATS restarts (issue #11): against the sandbox's real nats-server (the chosen server set),
 * the server is stopped for longer than the old give-up (3 reconnect attempts, ~6s), events are
 * published before, during (by a publisher that retries until stored) and after the outage, and
 * cim_events_total ends at exactly the number stored after the monitor started: nothing counted
 * twice, nothing stored meanwhile missed. Meanwhile /metrics keeps answering with the connection
 * state, and /readyz says 503. Also: a monitor started while NATS is down waits for it.
 * Run `npm run build` first.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {restartProcess, seedSandbox, stopProcess} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, startCli} from '../helpers/cli.js'
import {freePort, publishUntilStored, readyStatus, samples, scrape, sum, until} from '../helpers/monitor.js'
import {useSandbox} from '../helpers/sandbox.js'

const OUTAGE_MS = 8000

describe('cimops monitor across NATS restarts', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
  })
  afterAll(async () => {
    await home?.cleanup()
  })

  const counted = async (base: string) => {
    const text = await scrape(base)
    return text === undefined ? undefined : sum(samples(text, 'cim_events_total'))
  }
  const connectionState = async (base: string) => {
    const text = await scrape(base)
    return text === undefined ? undefined : samples(text, 'cim_nats_connections').find((s) => s.value === 1)?.labels.state
  }
  const streamLastSeq = async (nc: NatsConnection) => (await (await jetstreamManager(nc)).streams.info('EVENTS')).state.last_seq

  it('counts exactly the events stored before, during and after an outage longer than the old give-up', async () => {
    const servers = sandbox().state.natsServers
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const child = startCli(['monitor', '--listen', `127.0.0.1:${port}`, '--refresh', '1s', '--nats-url', servers.join(',')], home.env)
    const done = finished(child)
    // A publisher that reconnects while the server is away, as a CIM service's connection would.
    const publisher = await connect({servers, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 200})
    try {
      await until('/readyz 200', async () => ((await readyStatus(base))?.status === 200 ? true : undefined), 15_000)
      const startSeq = await streamLastSeq(publisher)
      const js = jetstream(publisher)

      const before = 150
      for (let i = 0; i < before; i++) await js.publish(`cim.graph.node.before-${i}.NodeAdded`, JSON.stringify({i}))
      await until(`${before} events counted`, async () => ((await counted(base)) === before ? true : undefined), 10_000)

      await stopProcess(sandbox().state, 'nats-1')
      const downAt = Date.now()
      // /metrics keeps answering while NATS is away, with the state of the connection; /readyz says why not ready.
      const state = await until('a disconnected state', async () => {
        const s = await connectionState(base)
        return s && s !== 'connected' ? s : undefined
      }, 5000)
      expect(['disconnected', 'reconnecting']).toContain(state)
      const notReady = await readyStatus(base)
      expect(notReady?.status).toBe(503)
      expect(notReady?.text).toMatch(/^not ready: NATS (disconnected|reconnecting)/)
      expect(await counted(base)).toBe(before)

      // Published during the outage by a publisher that retries until JetStream acknowledges (the event
      // id makes a retry of a stored event a duplicate the server drops): they land once the server is back.
      const during = 40
      const duringDone = (async () => {
        for (let i = 0; i < during; i++) await publishUntilStored(js, `cim.workflow.workflow.during-${i}.StepCompleted`, `during-${i}`, 30_000)
      })()
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)))
      expect(await connectionState(base)).not.toBe('connected')

      await restartProcess(sandbox().state, 'nats-1')
      // Stored at once, most likely while the monitor is still waiting out its backoff.
      const after = 60
      await until('the publisher to reconnect', async () => (publisher.isClosed() ? undefined : (await publisher.flush(), true)), 10_000)
      await until('JetStream to answer', async () => ((await streamLastSeq(publisher)) > 0 ? true : undefined), 10_000)
      for (let i = 0; i < after / 2; i++) await js.publish(`cim.agent.agent.after-${i}.AgentStarted`, JSON.stringify({i}))
      await until('the monitor to reconnect', async () => ((await connectionState(base)) === 'connected' ? true : undefined), 15_000)
      for (let i = after / 2; i < after; i++) await js.publish(`cim.agent.agent.after-${i}.AgentStarted`, JSON.stringify({i}))
      await duringDone

      const stored = (await streamLastSeq(publisher)) - startSeq
      expect(stored).toBe(before + during + after)
      await until(`${stored} events counted`, async () => ((await counted(base)) === stored ? true : undefined), 20_000)
      // And it stays there: a resumed consumer must not deliver anything twice.
      await sleep(2500)
      const text = (await scrape(base))!
      const byType = Object.fromEntries(samples(text, 'cim_events_total').map((s) => [`${s.labels.domain}/${s.labels.event_type}`, s.value]))
      expect(byType).toEqual({'graph/NodeAdded': before, 'workflow/StepCompleted': during, 'agent/AgentStarted': after})
      expect(samples(text, 'cim_monitor_counted_sequence')[0]?.value).toBe(startSeq + stored)
      expect((await readyStatus(base))?.status).toBe(200)
    } finally {
      await publisher.close()
      child.kill('SIGTERM')
      const result = await done
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toMatch(/lost the NATS connection/)
      expect(result.stderr).toMatch(/reconnected to NATS/)
    }
  }, 90_000)

  it('starts while NATS is down, serves /metrics meanwhile, and counts once the server is up', async () => {
    const servers = sandbox().state.natsServers
    await stopProcess(sandbox().state, 'nats-1')
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const child = startCli(['monitor', '--listen', `127.0.0.1:${port}`, '--refresh', '1s', '--nats-url', servers.join(',')], home.env)
    const done = finished(child)
    let publisher: NatsConnection | undefined
    try {
      expect(await until('/metrics while NATS is down', async () => connectionState(base), 15_000)).not.toBe('connected')
      expect((await readyStatus(base))?.status).toBe(503)
      await sleep(1500)
      await restartProcess(sandbox().state, 'nats-1')
      await until('/readyz 200', async () => ((await readyStatus(base))?.status === 200 ? true : undefined), 20_000)
      publisher = await connect({servers})
      const js = jetstream(publisher)
      for (let i = 0; i < 5; i++) await js.publish(`cim.document.doc.late-${i}.DocumentArchived`, '{}')
      await until('5 events counted', async () => ((await counted(base)) === 5 ? true : undefined), 10_000)
    } finally {
      await publisher?.close()
      child.kill('SIGINT')
      const result = await done
      expect(result.code, result.stderr).toBe(130)
      expect(result.stderr).toMatch(/waiting for NATS: cannot reach nats/)
    }
  }, 60_000)

  it('stops at once on SIGTERM while NATS is away, with exit 0', async () => {
    const servers = sandbox().state.natsServers
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const child = startCli(['monitor', '--listen', `127.0.0.1:${port}`, '--refresh', '1s', '--nats-url', servers.join(',')], home.env)
    const done = finished(child)
    try {
      await until('/readyz 200', async () => ((await readyStatus(base))?.status === 200 ? true : undefined), 15_000)
      await stopProcess(sandbox().state, 'nats-1')
      await until('a disconnected state', async () => ((await connectionState(base)) !== 'connected' ? true : undefined), 5000)
    } finally {
      const stopAt = performance.now()
      child.kill('SIGTERM')
      const result = await done
      expect(result.code, result.stderr).toBe(0)
      expect(performance.now() - stopAt).toBeLessThan(2500)
      await restartProcess(sandbox().state, 'nats-1')
    }
  }, 40_000)

  it('follows the stream when it is deleted and created anew, counting on', async () => {
    const servers = sandbox().state.natsServers
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const child = startCli(['monitor', '--listen', `127.0.0.1:${port}`, '--refresh', '500ms', '--nats-url', servers.join(',')], home.env)
    const done = finished(child)
    const nc = await connect({servers})
    try {
      await until('/readyz 200', async () => ((await readyStatus(base))?.status === 200 ? true : undefined), 15_000)
      const jsm = await jetstreamManager(nc)
      const js = jetstream(nc)
      await js.publish('cim.graph.node.old-1.NodeAdded', '{}')
      await until('1 event counted', async () => ((await counted(base)) === 1 ? true : undefined), 10_000)
      const {config} = await jsm.streams.info('EVENTS')
      await jsm.streams.delete('EVENTS')
      await until('/readyz to wait for the stream', async () => ((await readyStatus(base))?.text.includes('waiting for stream EVENTS') ? true : undefined), 10_000)
      await jsm.streams.add({name: 'EVENTS', subjects: config.subjects, storage: config.storage})
      for (let i = 0; i < 3; i++) await js.publish(`cim.graph.node.new-${i}.NodeAdded`, '{}')
      await until('4 events counted', async () => ((await counted(base)) === 4 ? true : undefined), 15_000)
      expect((await readyStatus(base))?.status).toBe(200)
      expect(samples((await scrape(base))!, 'cim_monitor_counted_sequence')[0]?.value).toBe(3)
    } finally {
      await nc.close()
      child.kill('SIGTERM')
      const result = await done
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toContain('was created anew')
    }
  }, 40_000)
})
