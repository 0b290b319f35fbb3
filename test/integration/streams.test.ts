/**
 * `stream list | info | report` against a real nats-server (the chosen server set): a mirror, a filtered source, a
 * memory stream with an interior delete, and the seeded CIM streams; every number is checked against
 * the server's own StreamInfo (nats.js jsm).
 */
import {type JetStreamManager, jetstream, jetstreamManager, type StreamInfo} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {StreamReport, StreamRow} from '../../src/lib/streams/stream-report.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

describe("stream commands against the sandbox's nats-server", () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection
  let jsm: JetStreamManager
  const cli = (args: string[]) => runCli([...args, '--nats-url', sandbox().state.natsServers.join(',')], home.env)

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
    nc = await connect({servers: sandbox().state.natsServers})
    jsm = await jetstreamManager(nc)
    const js = jetstream(nc)
    await jsm.streams.add({name: 'MEM', subjects: ['mem.>'], storage: 'memory', max_msgs: 1000, max_age: 3600 * 1e9})
    for (let i = 1; i <= 10; i++) await js.publish(`mem.${i % 3}`, `m${i}`)
    await jsm.streams.deleteMessage('MEM', 5)
    await jsm.streams.add({name: 'EVENTS_MIRROR', mirror: {name: 'EVENTS'}})
    await jsm.streams.add({name: 'GRAPH_COPY', sources: [{name: 'EVENTS', filter_subject: 'cim.graph.>'}]})
    const graph = (await jsm.streams.info('EVENTS', {subjects_filter: 'cim.graph.>'})).state.subjects ?? {}
    const graphCount = Object.values(graph).reduce((a, b) => a + b, 0)
    await eventually(async () => {
      const [mirror, copy] = await Promise.all([jsm.streams.info('EVENTS_MIRROR'), jsm.streams.info('GRAPH_COPY')])
      return mirror.state.messages === 437 && copy.state.messages === graphCount
    })
  })

  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
  })

  /** The row the CLI gave against the StreamInfo the server gives now. */
  function expectRowMatches(row: StreamRow, info: StreamInfo): void {
    expect(row, row.name).toMatchObject({
      name: info.config.name,
      subjects: info.config.subjects ?? [],
      storage: info.config.storage,
      retention: info.config.retention,
      replicas: info.config.num_replicas,
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      firstTime: info.state.messages > 0 ? new Date(info.state.first_ts).toISOString() : null,
      lastTime: info.state.messages > 0 ? new Date(info.state.last_ts).toISOString() : null,
      consumers: info.state.consumer_count,
      deleted: info.state.num_deleted ?? 0,
      subjectCount: info.state.num_subjects ?? null,
      allowDirect: info.config.allow_direct === true,
      created: new Date(info.created).toISOString(),
    })
    const sources = [...(info.mirror ? [info.mirror] : []), ...(info.sources ?? [])]
    expect(row.sources.map((s) => [s.name, s.lag])).toEqual(sources.map((s) => [s.name, s.lag]))
  }

  it('stream report --json: every stream, each number as the server has it', async () => {
    const result = await cli(['stream', 'report', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as StreamReport
    expect(report.serverVersion).toBe(nc.info!.version)
    expect(report.streams.map((s) => s.name)).toEqual(['CIM_OPS', 'EVENTS', 'EVENTS_MIRROR', 'GRAPH_COPY', 'MEM'])
    for (const row of report.streams) expectRowMatches(row, await jsm.streams.info(row.name))
    const mem = report.streams.find((s) => s.name === 'MEM')!
    expect(mem).toMatchObject({storage: 'memory', messages: 9, deleted: 1, firstSeq: 1, lastSeq: 10, limits: {maxMessages: 1000, maxAgeSeconds: 3600, discard: 'old'}})
    expect(report.streams.find((s) => s.name === 'EVENTS_MIRROR')!.sources).toEqual([expect.objectContaining({name: 'EVENTS', kind: 'mirror', lag: 0})])
    expect(report.streams.find((s) => s.name === 'GRAPH_COPY')!.sources).toEqual([expect.objectContaining({name: 'EVENTS', kind: 'source', filterSubject: 'cim.graph.>', lag: 0})])
    expect(report.totals).toEqual({
      streams: 5,
      messages: report.streams.reduce((a, s) => a + s.messages, 0),
      bytes: report.streams.reduce((a, s) => a + s.bytes, 0),
      consumers: report.streams.reduce((a, s) => a + s.consumers, 0),
    })
  })

  it('stream report text: the table, and a replication table for the mirror and the source', async () => {
    const result = await cli(['stream', 'report'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Stream report: 5 streams, \d+ messages, [\d.]+ KiB, 6 consumers\n/)
    expect(result.stdout).toMatch(/\nMEM +memory +9 +[\d.]+ [KMGi]*B +0 +1 \(\d.*\) +10 \(.*\) +1 +R1\n/)
    expect(result.stdout).toMatch(/\nReplication\n\nSTREAM +KIND +SOURCE +FILTER +LAG +ACTIVE +ERROR\nEVENTS_MIRROR +mirror +EVENTS +0 /)
    expect(result.stdout).toMatch(/\nGRAPH_COPY +source +EVENTS +cim\.graph\.> +0 /)
  })

  it('--sort and --subject', async () => {
    const bytes = JSON.parse((await cli(['stream', 'report', '--json', '--sort', 'bytes'])).stdout) as StreamReport
    expect(bytes.streams.map((s) => s.bytes)).toEqual([...bytes.streams.map((s) => s.bytes)].sort((a, b) => b - a))
    const consumers = JSON.parse((await cli(['stream', 'list', '--json', '--sort', 'consumers'])).stdout) as StreamReport
    expect(consumers.streams[0].name).toBe('EVENTS')
    const mem = JSON.parse((await cli(['stream', 'report', '--json', '--subject', 'mem.1'])).stdout) as StreamReport
    expect(mem.streams.map((s) => s.name)).toEqual(['MEM'])
    expect(mem.subject).toBe('mem.1')
  })

  it('stream list: one line per stream', async () => {
    const result = await cli(['stream', 'list'])
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n')[0]).toMatch(/^STREAM +SUBJECTS +STORAGE +REPLICAS +MESSAGES +BYTES +CONSUMERS +LAST MESSAGE$/)
    expect(result.stdout).toMatch(/\nEVENTS +cim\.graph\.>, cim\.workflow\.>, cim\.agent\.>, cim\.identity\.>, cim\.document\.> +file +1 +437 +[\d.]+ KiB +6 +\S+ ago\n/)
  })

  it('stream info: one stream in detail, matching the server', async () => {
    const json = await cli(['stream', 'info', 'EVENTS', '--json'])
    expect(json.code).toBe(0)
    expectRowMatches(JSON.parse(json.stdout) as StreamRow, await jsm.streams.info('EVENTS'))
    const events = await cli(['stream', 'info', '--json'])
    expect(JSON.parse(events.stdout)).toMatchObject({name: 'EVENTS'}) // the context's events stream
    const text = await cli(['stream', 'info', 'MEM'])
    expect(text.stdout).toContain('Storage:           memory, limits retention, 1 replica')
    expect(text.stdout).toMatch(/Messages: +9 \(/)
    expect(text.stdout).toMatch(/Deleted: +1\n/)
    expect(text.stdout).toContain('messages 1000, bytes unlimited, age 1h')
  })

  it('an unknown stream exits 2 naming the streams that exist; unreachable NATS exits 69 with the address', async () => {
    const missing = await cli(['stream', 'info', 'NOPE'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe('cimops: stream NOPE not found: the streams are CIM_OPS, EVENTS, EVENTS_MIRROR, GRAPH_COPY, MEM (names are case-sensitive; `cimops stream list` shows them all)\n')
    const down = await runCli(['stream', 'report', '--nats-url', 'nats://127.0.0.1:1', '--timeout', '1s'], home.env)
    expect(down.code).toBe(69)
    expect(down.stderr).toContain('cannot reach nats at nats://127.0.0.1:1: connection refused')
    const json = await runCli(['stream', 'list', '--json', '--nats-url', 'nats://127.0.0.1:1', '--timeout', '1s'], home.env)
    expect(json.code).toBe(69)
    expect(JSON.parse(json.stdout).error).toMatchObject({code: 'UNREACHABLE', exit: 69})
  })
})

async function eventually(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
