/**
 * `consumer report` and `consumer info` against a real nats-server (the chosen server set): consumers with known
 * backlogs are built here, and every reported number is checked against the server's own
 * ConsumerInfo (nats.js jsm), fetched right after the report.
 */
import {spawn} from 'node:child_process'
import {type ConsumerInfo, type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {ConsumerReport, ConsumerRow} from '../../src/lib/streams/consumer-report.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {BIN, finished, isolatedHome, ROOT, runCli, startCli, stdoutLines} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

const STREAM = 'LAGTEST'
const NANOS_PER_MS = 1_000_000

describe('consumer report against nats-server (the chosen server set)', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection
  let jsm: JetStreamManager
  let js: JetStreamClient
  /** Keeps a pull request waiting on `waiting` while the reports run. */
  let waitingPull: Promise<unknown> | undefined
  const cli = (args: string[]) => runCli([...args, '--nats-url', sandbox().state.natsServers.join(',')], home.env)

  beforeAll(async () => {
    home = await isolatedHome()
    const {state} = sandbox()
    await seedSandbox(state.natsServers)
    nc = await connect({servers: state.natsServers})
    jsm = await jetstreamManager(nc)
    js = jetstream(nc)
    await jsm.streams.add({name: STREAM, subjects: ['lag.>'], allow_direct: true, storage: 'file'})
    // 60 messages: lag.a.<n> for even n, lag.b.<n> for odd n.
    for (let i = 1; i <= 60; i++) await js.publish(`lag.${i % 2 === 0 ? 'a' : 'b'}.${i}`, JSON.stringify({i}))

    const add = (name: string, extra: Record<string, unknown> = {}) => jsm.consumers.add(STREAM, {durable_name: name, ack_policy: 'explicit', ...extra})
    await add('caught-up')
    await add('behind') // unfiltered: 20 acked, 5 delivered unacked, 35 never delivered
    await add('behind-a', {filter_subject: 'lag.a.>'}) // filtered: nothing delivered yet
    await add('waiting', {filter_subject: 'lag.none.>'})
    await add('redelivering', {ack_wait: 500 * NANOS_PER_MS})
    await jsm.consumers.add(STREAM, {durable_name: 'pushed', ack_policy: 'explicit', deliver_subject: 'deliver.pushed'})

    await ack(js, 'caught-up', 60)
    await ack(js, 'behind', 20)
    await deliver(js, 'behind', 5)
    await deliver(js, 'redelivering', 3)
    await new Promise((resolve) => setTimeout(resolve, 700)) // ack_wait passes: the 3 come back as redeliveries
    await deliver(js, 'redelivering', 3)
    const consumer = await js.consumers.get(STREAM, 'waiting')
    waitingPull = (async () => {
      for await (const _m of await consumer.fetch({max_messages: 1, expires: 60_000})) break
    })().catch(() => undefined)
    await eventually(async () => (await jsm.consumers.info(STREAM, 'waiting')).num_waiting === 1)
  })

  afterAll(async () => {
    await nc?.close()
    await waitingPull
    await home?.cleanup()
  })

  it('reports every consumer with the numbers the server gives, and lag from the oldest unacked message', async () => {
    const result = await cli(['consumer', 'report', STREAM, '--json', '--sort', 'name', '--lag-warn', '1h', '--lag-crit', '2h'])
    const infos = await consumerInfos(jsm, STREAM)
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as ConsumerReport
    const stream = await jsm.streams.info(STREAM)
    expect(report.streams).toEqual([{name: STREAM, messages: 60, lastSeq: 60, consumers: 6}])
    expect(report.consumers.map((row) => row.name)).toEqual(['behind', 'behind-a', 'caught-up', 'pushed', 'redelivering', 'waiting'])

    for (const row of report.consumers) {
      const info = infos[row.name]
      // Unfiltered consumers, and the filtered one that has delivered nothing: num_pending is exact on 2.9.10.
      expect(row, row.name).toMatchObject({
        stream: STREAM,
        mode: info.config.deliver_subject ? 'push' : 'pull',
        ackPolicy: info.config.ack_policy,
        ackWaitSeconds: (info.config.ack_wait ?? 0) / 1e9,
        unprocessed: info.num_pending,
        unprocessedPercent: Math.floor((info.num_pending / stream.state.messages) * 100),
        ackPending: info.num_ack_pending,
        redelivered: info.num_redelivered,
        waiting: info.num_waiting,
        pending: info.num_pending + info.num_ack_pending,
        ackFloor: {streamSeq: info.ack_floor.stream_seq, consumerSeq: info.ack_floor.consumer_seq},
        delivered: {streamSeq: info.delivered.stream_seq, consumerSeq: info.delivered.consumer_seq},
        lastDelivery: isoOrNull(info.delivered.last_active),
        lastAck: isoOrNull(info.ack_floor.last_active),
        filterSubjects: info.config.filter_subject ? [info.config.filter_subject] : [],
        created: new Date(info.created).toISOString(),
      })
      // Lag: the oldest unacked message read independently (DIRECT.GET instead of the report's MSG.GET).
      const oldest = await oldestUnacked(jsm, info)
      expect(row.oldestUnacked, row.name).toBe(oldest?.toISOString() ?? null)
      // Ages are measured against the server's clock where it reports one (2.10+), else the report's instant.
      expect(row.lagSeconds, row.name).toBe(oldest ? (Date.parse(row.measuredAt) - oldest.getTime()) / 1000 : 0)
      expect(row.lastDeliverySeconds, row.name).toBe(row.lastDelivery === null ? null : (Date.parse(row.measuredAt) - Date.parse(row.lastDelivery)) / 1000)
    }
    const row = (name: string) => report.consumers.find((r) => r.name === name)!
    // What was built: sanity of the scenario itself.
    expect(row('caught-up')).toMatchObject({unprocessed: 0, ackPending: 0, lagSeconds: 0, oldestUnacked: null, status: 'OK'})
    expect(row('behind')).toMatchObject({unprocessed: 35, ackPending: 5, ackFloor: {streamSeq: 20}, pending: 40})
    expect(row('behind-a')).toMatchObject({unprocessed: 30, ackPending: 0, lastDelivery: null, filterSubjects: ['lag.a.>']})
    expect(row('redelivering').redelivered).toBeGreaterThan(0)
    expect(row('waiting')).toMatchObject({waiting: 1, pending: 0, maxWaiting: 512})
    expect(row('pushed')).toMatchObject({mode: 'push', pushBound: false})
    expect(report.consumers.every((r) => r.status === 'OK' && r.cluster === null)).toBe(true)
  })

  it('the seeded lagging projection (a filtered consumer part-way through) is reported as the server reports it', async () => {
    const result = await cli(['consumer', 'report', 'EVENTS', '--json'])
    const info = await jsm.consumers.info('EVENTS', 'workflow-analytics')
    const report = JSON.parse(result.stdout) as ConsumerReport
    const row = report.consumers.find((r) => r.name === 'workflow-analytics')!
    expect(row).toMatchObject({ackPending: 12, ackFloor: {streamSeq: info.ack_floor.stream_seq}, delivered: {streamSeq: info.delivered.stream_seq}})
    // nats-server 2.9.10 gives a filtered consumer part-way through a num_pending that changes between
    // calls (see the seed); the report shows what the server said a moment earlier, so only the range is checked.
    expect(row.unprocessed).toBeGreaterThan(0)
    expect(Math.abs(row.unprocessed - info.num_pending)).toBeLessThanOrEqual(60)
    const oldest = await oldestUnacked(jsm, info)
    expect(row.oldestUnacked).toBe(oldest!.toISOString())
    // The lag with the default thresholds (10s/60s) decides the exit code.
    expect(result.code).toBe(row.lagSeconds! >= 60 ? 2 : row.lagSeconds! >= 10 ? 1 : 0)
    expect(report.consumers[0].name).toBe('workflow-analytics') // --sort lag is the default
  })

  it('exit code is the Nagios code of the worst consumer, for lag and pending thresholds', async () => {
    const ok = await cli(['consumer', 'report', STREAM, '--lag-warn', '1h', '--lag-crit', '2h'])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^Consumer report for LAGTEST \(60 messages\) with 6 consumers/)
    expect(ok.stdout).toMatch(/\nOK 6 consumers on LAGTEST: 6 OK\n$/)
    const warn = await cli(['consumer', 'report', STREAM, '--lag-warn', '1h', '--lag-crit', '2h', '--pending-warn', '30', '--pending-crit', '100', '--json'])
    expect(warn.code).toBe(1)
    const warned = (JSON.parse(warn.stdout) as ConsumerReport).consumers.filter((r) => r.status === 'WARNING').map((r) => r.name)
    expect(warned.sort()).toEqual(['behind', 'behind-a', 'pushed', 'redelivering'])
    const crit = await cli(['consumer', 'report', STREAM, '--lag-warn', '1ms', '--lag-crit', '2ms'])
    expect(crit.code).toBe(2)
    expect(crit.stdout).toMatch(/behind +pull +explicit +35 \/ 58% +5 +0 +0 +20 /)
  })

  it('--sort pending puts the most work first', async () => {
    const result = await cli(['consumer', 'report', STREAM, '--json', '--sort', 'pending', '--lag-warn', '1h', '--lag-crit', '2h'])
    const rows = (JSON.parse(result.stdout) as ConsumerReport).consumers
    expect(rows.map((r) => r.pending)).toEqual([...rows.map((r) => r.pending)].sort((a, b) => b - a))
    // pushed (no subscriber ever bound: nothing delivered) and redelivering tie at 60 pending; their lags, both
    // about the age of the stream's first message, came out in either order on a loaded CI machine.
    expect(rows.slice(0, 2).map((r) => [r.name, r.pending]).sort()).toEqual([
      ['pushed', 60],
      ['redelivering', 60],
    ])
    expect([rows[2].name, rows[2].pending]).toEqual(['behind', 40])
  })

  it('consumer info shows one consumer with the same row', async () => {
    const result = await cli(['consumer', 'info', STREAM, 'behind', '--json'])
    expect(result.code).toBe(0)
    const row = JSON.parse(result.stdout) as ConsumerRow
    const info = await jsm.consumers.info(STREAM, 'behind')
    expect(row).toMatchObject({name: 'behind', unprocessed: info.num_pending, ackPending: info.num_ack_pending, maxAckPending: info.config.max_ack_pending})
    const text = await cli(['consumer', 'info', STREAM, 'behind'])
    expect(text.stdout).toContain('Unprocessed:     35 / 58% of the stream')
    expect(text.stdout).toContain('Ack floor:       consumer seq 20, stream seq 20')
  })

  it('consumer info with one argument shows that consumer on the events stream; with none it names what is missing', async () => {
    const one = await cli(['consumer', 'info', 'graph-projection', '--json'])
    expect(one.code).toBe(0)
    expect(JSON.parse(one.stdout)).toMatchObject({name: 'graph-projection', stream: 'EVENTS'})
    const none = await cli(['consumer', 'info'])
    expect(none.code).toBe(64)
    expect(none.stderr).toBe('cimops: missing argument CONSUMER: consumer to show (usage: cimops consumer info [STREAM] CONSUMER [flags])\n')
  })

  it('an unknown stream or consumer exits 2 naming what exists', async () => {
    const stream = await cli(['consumer', 'report', 'NOPE'])
    expect(stream.code).toBe(2)
    expect(stream.stderr).toBe('cimops: stream NOPE not found: the streams are CIM_OPS, EVENTS, LAGTEST (names are case-sensitive; `cimops stream list` shows them all)\n')
    const json = await cli(['consumer', 'report', 'NOPE', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout).error).toMatchObject({code: 'NOT_FOUND', exit: 2})
    const consumer = await cli(['consumer', 'info', STREAM, 'nope'])
    expect(consumer.code).toBe(2)
    expect(consumer.stderr).toContain('consumer nope not found on stream LAGTEST: the consumers of LAGTEST are behind, behind-a, caught-up, pushed, redelivering, waiting')
  })

  it('unreachable NATS: consumer report (a check) exits 3 UNKNOWN, consumer info 69; both name the address', async () => {
    const report = await runCli(['consumer', 'report', '--nats-url', 'nats://127.0.0.1:1', '--timeout', '1s'], home.env)
    expect(report.code).toBe(3)
    expect(report.stderr).toContain('cannot reach nats at nats://127.0.0.1:1: connection refused')
    const info = await runCli(['consumer', 'info', STREAM, 'behind', '--nats-url', 'nats://127.0.0.1:1', '--timeout', '1s'], home.env)
    expect(info.code).toBe(69)
    expect(info.stderr).toContain('cannot reach nats at nats://127.0.0.1:1')
  })

  it('--watch without a terminal prints one JSON report per refresh with backlog rate and ETA; Ctrl-C exits 130', async () => {
    const child = startCli(['consumer', 'report', STREAM, '--watch', '--interval', '400ms', '--json', '--nats-url', sandbox().state.natsServers.join(',')], home.env)
    const done = finished(child)
    const lines = stdoutLines(child)
    await lines.until(1) // the first report: no rate yet
    await ack(js, 'behind', 10) // the backlog shrinks between refreshes
    await lines.until(4) // at least two refreshes after the acks
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    const reports = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as ConsumerReport)
    expect(reports.length).toBeGreaterThanOrEqual(3)
    expect(reports[0].consumers.every((r) => r.pendingRate === null)).toBe(true)
    const behind = reports.map((r) => r.consumers.find((c) => c.name === 'behind')!)
    expect(behind.at(-1)!.pending).toBeLessThan(behind[0].pending)
    const shrinking = behind.find((row) => (row.pendingRate ?? 0) < 0)
    expect(shrinking, JSON.stringify(behind.map((b) => [b.pending, b.pendingRate]))).toBeDefined()
    expect(shrinking!.etaSeconds).toBeCloseTo(shrinking!.pending / -shrinking!.pendingRate!, 6)
    expect(reports.at(-1)!.consumers.find((c) => c.name === 'caught-up')).toMatchObject({pendingRate: 0, etaSeconds: 0})
  })

  it('--watch on a terminal redraws in place with ink and shows RATE and ETA; Ctrl-C exits 130', async () => {
    // `script` gives the CLI a pseudo-terminal, as an on-call shell would; Ctrl-C is typed into it.
    // A pty made by `script` has no size until given one; ink lays out to its width.
    const command = `stty cols 220 rows 40; ${[process.execPath, BIN, 'consumer', 'report', STREAM, '--watch', '--interval', '300ms', '--nats-url', sandbox().state.natsServers.join(',')].join(' ')}`
    const env: Record<string, string> = {...(process.env as Record<string, string>), ...home.env, NO_COLOR: '1', COLUMNS: '220', NODE_ENV: ''}
    const tty = spawn('script', ['-qfec', command, '/dev/null'], {cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe']})
    const output = finished(tty)
    // Ctrl-C once a report with rates has been drawn (a loaded machine draws it late), at most after 20 s.
    await new Promise<void>((resolve) => {
      let drawn = ''
      const timer = setTimeout(resolve, 20_000)
      tty.stdout?.on('data', (chunk: Buffer) => {
        drawn += chunk.toString('utf8')
        if (/RATE +ETA/.test(drawn) && /caught-up .* caught up/.test(drawn)) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    tty.stdin?.write('\u0003')
    const result = await output
    expect(result.code).toBe(130)
    expect(result.stdout).toContain('cimops consumer report LAGTEST — every 300ms')
    expect(result.stdout).toMatch(/RATE +ETA/)
    expect(result.stdout).toMatch(/caught-up .* caught up/)
    expect(result.stdout).toContain('\u001B[') // ink's cursor movements: redrawn in place, not appended
  })

  it('--watch without a terminal puts a line with the time of each refresh above each text report', async () => {
    const child = startCli(['consumer', 'report', STREAM, '--watch', '--interval', '300ms', '--lag-warn', '1h', '--lag-crit', '2h', '--nats-url', sandbox().state.natsServers.join(',')], home.env)
    const done = finished(child)
    const lines = stdoutLines(child)
    await lines.until(30) // a report is 12 lines: two of them and part of a third
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    const separators = result.stdout.split('\n').filter((line) => /^── \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} ──$/.test(line))
    expect(separators.length).toBeGreaterThanOrEqual(2)
    expect(result.stdout.startsWith(`${separators[0]}\nConsumer report for LAGTEST`)).toBe(true)
    expect(result.stdout).toContain(`\n${separators[1]}\nConsumer report for LAGTEST`)
  })

  it('ephemeral consumers are left out unless --all, which lists them marked; --json has the same filter and an ephemeral flag', async () => {
    const stream = 'EPHTEST'
    await jsm.streams.add({name: stream, subjects: ['eph.>'], storage: 'memory'})
    try {
      for (let i = 1; i <= 5; i++) await js.publish(`eph.${i}`, '{}')
      await jsm.consumers.add(stream, {durable_name: 'graph-projection', ack_policy: 'explicit'})
      // As the event monitor or a natscli session makes them: no durable name, the server names it.
      const ephemeral = await jsm.consumers.add(stream, {ack_policy: 'explicit', inactive_threshold: 60_000 * NANOS_PER_MS})
      expect(ephemeral.config.durable_name).toBeUndefined()

      const text = await cli(['consumer', 'report', stream])
      expect(text.stdout).toMatch(/with 1 consumer —/)
      expect(text.stdout).not.toContain(ephemeral.name)
      expect(text.stdout).toContain('1 ephemeral consumer not shown (--all shows them)')
      const all = await cli(['consumer', 'report', stream, '--all'])
      expect(all.stdout).toMatch(/with 2 consumers —/)
      expect(all.stdout).toMatch(new RegExp(`\\n${ephemeral.name} \\(ephemeral\\) +pull +explicit +5 / 100%`))

      const json = JSON.parse((await cli(['consumer', 'report', stream, '--json'])).stdout) as ConsumerReport
      expect(json.consumers.map((r) => [r.name, r.ephemeral])).toEqual([['graph-projection', false]])
      expect(json.ephemeralHidden).toBe(1)
      const jsonAll = JSON.parse((await cli(['consumer', 'report', stream, '--all', '--json', '--sort', 'name'])).stdout) as ConsumerReport
      expect(jsonAll.consumers.map((r) => [r.name, r.ephemeral]).sort()).toEqual([[ephemeral.name, true], ['graph-projection', false]].sort())
      expect(jsonAll.ephemeralHidden).toBe(0)
    } finally {
      await jsm.streams.delete(stream)
    }
  })
})

async function consumerInfos(jsm: JetStreamManager, stream: string): Promise<Record<string, ConsumerInfo>> {
  const out: Record<string, ConsumerInfo> = {}
  for await (const info of jsm.consumers.list(stream)) out[info.name] = info
  return out
}

/** First message after the ack floor matching the filter, by DIRECT.GET. */
async function oldestUnacked(jsm: JetStreamManager, info: ConsumerInfo): Promise<Date | undefined> {
  if (info.num_pending === 0 && info.num_ack_pending === 0) return undefined
  const message = await jsm.direct.getMessage(info.stream_name, {seq: info.ack_floor.stream_seq + 1, next_by_subj: info.config.filter_subject || '>'})
  return message ? new Date(message.timestamp) : undefined
}

function isoOrNull(value: unknown): string | null {
  return typeof value === 'string' && value ? new Date(value).toISOString() : null
}

async function ack(js: JetStreamClient, name: string, count: number): Promise<void> {
  const consumer = await js.consumers.get(STREAM, name)
  const batch = await consumer.fetch({max_messages: count, expires: 2000})
  const acks: Array<Promise<boolean>> = []
  for await (const message of batch) acks.push(message.ackAck())
  await Promise.all(acks)
}

async function deliver(js: JetStreamClient, name: string, count: number): Promise<void> {
  const consumer = await js.consumers.get(STREAM, name)
  for await (const _message of await consumer.fetch({max_messages: count, expires: 2000})) {
    // delivered, not acknowledged
  }
}

async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
