/**
 * `events view | tail | subjects` against a real nats-server (the chosen server set) with the seeded EVENTS stream.
 * What the CLI prints is checked against the stream read independently, message by message (DIRECT.GET).
 */
import {type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {EventRecord} from '../../src/lib/streams/events.js'
import type {SubjectCounts} from '../../src/lib/streams/events.js'
import {serverFeatures} from '../../src/lib/adapters/nats/versions.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, runCli, startCli, stdoutLines} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

interface Stored {
  seq: number
  subject: string
  time: string
  data: string
}

describe("events commands against the sandbox's nats-server", () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection
  let jsm: JetStreamManager
  let js: JetStreamClient
  /** Every seeded event, read by sequence. */
  let stored: Stored[]
  const url = () => sandbox().state.natsServers.join(',')
  const cli = (args: string[]) => runCli([...args, '--nats-url', url()], home.env)
  const view = async (args: string[]) => {
    const result = await cli(['events', 'view', ...args, '--json'])
    expect(result.code, result.stderr).toBe(0)
    return JSON.parse(result.stdout) as EventRecord[]
  }
  const seqs = (events: Array<{seq: number}>) => events.map((e) => e.seq)

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
    nc = await connect({servers: sandbox().state.natsServers})
    jsm = await jetstreamManager(nc)
    js = jetstream(nc)
    const info = await jsm.streams.info('EVENTS')
    stored = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.direct.getMessage('EVENTS', {seq})
      if (m) stored.push({seq: m.seq, subject: m.subject, time: m.time.toISOString(), data: m.string()})
    }
    expect(stored).toHaveLength(437)
  })

  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
  })

  it('a page from the start: sequence, time, subject, headers and the body, as stored', async () => {
    const result = await cli(['events', 'view', '--json'])
    expect(result.code).toBe(0)
    const events = JSON.parse(result.stdout) as EventRecord[]
    expect(seqs(events)).toEqual(seqs(stored.slice(0, 20)))
    for (const [i, event] of events.entries()) {
      expect(event).toEqual({seq: stored[i].seq, time: stored[i].time, subject: stored[i].subject, headers: {'Nats-Msg-Id': JSON.parse(stored[i].data).id}, data: JSON.parse(stored[i].data)})
    }
    const text = await cli(['events', 'view', '--count', '2'])
    expect(text.stdout.startsWith(`[1] Subject: ${stored[0].subject} Received: ${stored[0].time}\nNats-Msg-Id: ${JSON.parse(stored[0].data).id}\n\n{\n  "id": `)).toBe(true)
    expect(text.stderr).toBe('2 events, sequences 1-2; next page: --seq 3\n')
  })

  it('--seq pages on and stops at the end of the stream; --raw prints the bodies exactly as stored', async () => {
    expect(seqs(await view(['--seq', '430']))).toEqual([430, 431, 432, 433, 434, 435, 436, 437])
    const raw = await cli(['events', 'view', '--seq', '100', '--count', '3', '--raw'])
    expect(raw.stdout).toBe(stored.slice(99, 102).map((s) => `${s.data}\n`).join(''))
  })

  it('--domain, --aggregate and --subject select by CIM subject; --last takes the last N of them', async () => {
    const workflow = stored.filter((s) => s.subject.startsWith('cim.workflow.'))
    expect(seqs(await view(['--domain', 'workflow', '--count', '1000']))).toEqual(seqs(workflow))
    expect(seqs(await view(['--domain', 'workflow', '--last', '5']))).toEqual(seqs(workflow.slice(-5)))

    // An aggregate id spans every domain's subject on 2.9 (cim.*.*.ID.*): it is narrowed to the stream's subjects.
    const aggregateId = workflow[0].subject.split('.')[3]
    const history = stored.filter((s) => s.subject.split('.')[3] === aggregateId)
    expect(history.length).toBeGreaterThan(2)
    expect(seqs(await view(['--aggregate', aggregateId]))).toEqual(seqs(history))
    expect(seqs(await view(['--domain', 'workflow', '--aggregate', aggregateId, '--last', '2']))).toEqual(seqs(history.slice(-2)))

    const nodes = stored.filter((s) => /^cim\.[^.]+\.node\./.test(s.subject))
    expect(seqs(await view(['--subject', 'cim.*.node.>', '--last', '7']))).toEqual(seqs(nodes.slice(-7)))
    expect(seqs(await view(['--subject', 'cim.*.node.>', '--seq', String(nodes[3].seq), '--count', '4']))).toEqual(seqs(nodes.slice(3, 7)))
  })

  it('--since takes a duration or an RFC 3339 time', async () => {
    await jsm.streams.add({name: 'TIMED', subjects: ['timed.>']})
    for (let i = 0; i < 3; i++) await js.publish('timed.early', `e${i}`)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const cut = new Date()
    await new Promise((resolve) => setTimeout(resolve, 20))
    for (let i = 0; i < 2; i++) await js.publish('timed.late', `l${i}`)
    expect((await view(['TIMED', '--since', cut.toISOString()])).map((e) => e.data)).toEqual(['l0', 'l1'])
    expect((await view(['TIMED', '--since', '1h'])).map((e) => e.data)).toEqual(['e0', 'e1', 'e2', 'l0', 'l1'])
    expect(await view(['TIMED', '--since', new Date(Date.now() + 60_000).toISOString()])).toEqual([])
  })

  it('never waits for new events: stops at the last sequence as of the start while events keep arriving', async () => {
    await jsm.streams.add({name: 'BUSY', subjects: ['busy.>']})
    for (let i = 0; i < 200; i++) await js.publish('busy.x', `${i}`)
    let publishing = true
    const publisher = (async () => {
      while (publishing) await js.publish('busy.x', 'more')
    })()
    try {
      const started = performance.now()
      const result = await cli(['events', 'view', 'BUSY', '--count', '10000', '--json'])
      const after = (await jsm.streams.info('BUSY')).state.last_seq
      expect(result.code).toBe(0)
      const events = JSON.parse(result.stdout) as EventRecord[]
      expect(events.length).toBeGreaterThanOrEqual(200)
      expect(seqs(events)).toEqual(Array.from({length: events.length}, (_, i) => i + 1))
      expect(events.at(-1)!.seq).toBeLessThan(after)
      expect(performance.now() - started).toBeLessThan(5000)
    } finally {
      publishing = false
      await publisher
    }
    // A filter that matches nothing answers at once, empty.
    const none = await cli(['events', 'view', '--subject', 'cim.graph.nothing.>', '--json'])
    expect(none.code).toBe(0)
    expect(JSON.parse(none.stdout)).toEqual([])
    // The helper consumers are gone afterwards: only the six projections remain.
    await eventuallyTrue(async () => (await jsm.streams.info('EVENTS')).state.consumer_count === 6)
  })

  it('bad selections are usage errors; an unknown stream exits 2; unreachable NATS 69', async () => {
    // Several filters are a usage error only where the server cannot filter by several subjects (before 2.10).
    const two = await cli(['events', 'view', '--subject', 'cim.graph.>', '--subject', 'cim.agent.>', '--last', '1'])
    const version = nc.info!.version
    if (serverFeatures(version).has('multipleFilters')) {
      expect(two.code, two.stderr).toBe(0)
    } else {
      expect(two.code).toBe(64)
      expect(two.stderr).toContain(`several filters need nats-server >= 2.10.0; this server is ${version}`)
    }
    expect((await cli(['events', 'view', '--domain', 'graph', '--subject', 'cim.>'])).code).toBe(64)
    expect((await cli(['events', 'view', '--seq', '3', '--last', '2'])).code).toBe(64)
    expect((await cli(['events', 'view', '--since', 'yesterday'])).code).toBe(64)
    const missing = await cli(['events', 'view', 'NOPE'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^cimops: stream NOPE not found: the streams are BUSY, CIM_OPS, EVENTS, TIMED /)
    const down = await runCli(['events', 'subjects', '--nats-url', 'nats://127.0.0.1:1', '--timeout', '1s'], home.env)
    expect(down.code).toBe(69)
  })

  it('events subjects: every subject and its count, as stream info with subjects_filter gives them', async () => {
    const result = await cli(['events', 'subjects', 'EVENTS', 'cim.workflow.>', '--json'])
    expect(result.code).toBe(0)
    const counts = JSON.parse(result.stdout) as SubjectCounts
    const server = (await jsm.streams.info('EVENTS', {subjects_filter: 'cim.workflow.>'})).state.subjects ?? {}
    expect(Object.fromEntries(counts.subjects.map((s) => [s.subject, s.messages]))).toEqual(server)
    expect(counts.subjects.map((s) => s.messages)).toEqual([...counts.subjects.map((s) => s.messages)].sort((a, b) => b - a))
    expect(counts.total).toBe(stored.filter((s) => s.subject.startsWith('cim.workflow.')).length)
    const text = await cli(['events', 'subjects', '--limit', '3'])
    expect(text.stdout.split('\n')).toHaveLength(1 + 3 + 3) // header, 3 rows, blank, total, and the final newline
    expect(text.stdout).toMatch(/\n\n\d+ subjects \(showing 3\), 437 messages in EVENTS matching >\n$/)
  })

  it('events tail follows new events until Ctrl-C (130) and prints nothing else', async () => {
    const consumers = async () => (await jsm.streams.info('EVENTS')).state.consumer_count
    const before = await consumers()
    const child = startCli(['events', 'tail', '--domain', 'graph', '--json', '--nats-url', url()], home.env)
    const done = finished(child)
    const output = stdoutLines(child)
    // Following once its consumer is on the server: waited for, not guessed (a loaded machine starts the CLI late).
    await eventuallyTrue(async () => (await consumers()) > before)
    await js.publish('cim.graph.node.tail-1.NodeAdded', JSON.stringify({n: 1}))
    await js.publish('cim.workflow.workflow.tail-1.Started', JSON.stringify({n: 2}))
    await js.publish('cim.graph.node.tail-1.NodeRemoved', JSON.stringify({n: 3}))
    await output.until(2)
    await new Promise((resolve) => setTimeout(resolve, 300)) // room for a wrong third line to show
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    expect(result.stderr).toBe('')
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as EventRecord)
    expect(lines.map((e) => [e.subject, e.data])).toEqual([
      ['cim.graph.node.tail-1.NodeAdded', {n: 1}],
      ['cim.graph.node.tail-1.NodeRemoved', {n: 3}],
    ])
  })
})

async function eventuallyTrue(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
