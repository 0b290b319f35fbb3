/**
 * `cimops replay` against a real nats-server (the chosen server set) with the seeded EVENTS stream (437 events).
 * What lands in the target is read back with the server's own API (STREAM.MSG.GET) and compared,
 * message by message and in order, with the source read the same way.
 */
import {readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

import {type JetStreamManager, jetstreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {ReplayResult, ReplayState} from '../../src/lib/replay/service.js'
import {seedSandbox} from '../../src/lib/sandbox/index.js'
import {finished, isolatedHome, runCli, startCli} from '../helpers/cli.js'
import {useSandbox} from '../helpers/sandbox.js'

interface Stored {
  seq: number
  subject: string
  time: number
  data: string
  headers: Record<string, string[]>
}

describe('replay against nats-server (the chosen server set)', () => {
  const sandbox = useSandbox({components: ['nats']})
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let nc: NatsConnection
  let jsm: JetStreamManager
  let source: Stored[]
  const url = () => sandbox().state.natsServers.join(',')
  const cli = (args: string[]) => runCli([...args, '--nats-url', url()], home.env)
  const replay = async (args: string[], exit = 0) => {
    const result = await cli(['replay', ...args, '--json', '--quiet'])
    expect(result.code, result.stderr + result.stdout).toBe(exit)
    return JSON.parse(result.stdout) as ReplayResult & {error?: {message: string; exit: number}}
  }

  const readAll = async (stream: string): Promise<Stored[]> => {
    const info = await jsm.streams.info(stream)
    const out: Stored[] = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, {seq})
      if (!m) continue
      const headers: Record<string, string[]> = {}
      if (m.header) for (const key of m.header.keys()) headers[key] = m.header.values(key)
      out.push({seq: m.seq, subject: m.subject, time: m.time.getTime(), data: new TextDecoder().decode(m.data), headers})
    }
    return out
  }
  const streamNames = async () => {
    const names: string[] = []
    for await (const name of jsm.streams.names()) names.push(name)
    return names.sort()
  }

  /** The target holds exactly `expected` (in order), republished by `replayId` on mapped subjects. */
  const expectReplayed = (target: Stored[], expected: Stored[], replayId: string, subject: (s: string) => string) => {
    expect(target.map((m) => m.subject)).toEqual(expected.map((m) => subject(m.subject)))
    expect(target.map((m) => m.data)).toEqual(expected.map((m) => m.data))
    for (const [i, m] of target.entries()) {
      const from = expected[i]
      expect(m.headers['Cim-Replay-Id']).toEqual([replayId])
      expect(m.headers['Cim-Replay-Source']).toEqual([`EVENTS:${from.seq}`])
      expect(m.headers['Nats-Msg-Id']).toEqual([`${replayId}:${from.seq}`])
      if (from.headers['Nats-Msg-Id']) expect(m.headers['Cim-Replay-Original-Msg-Id']).toEqual(from.headers['Nats-Msg-Id'])
    }
  }

  beforeAll(async () => {
    home = await isolatedHome()
    await seedSandbox(sandbox().state.natsServers)
    nc = await connect({servers: sandbox().state.natsServers})
    jsm = await jetstreamManager(nc)
    source = await readAll('EVENTS')
    expect(source).toHaveLength(437)
    await jsm.streams.add({name: 'REBUILD', subjects: ['rebuild.>']})
  })

  afterAll(async () => {
    await nc?.close()
    await home?.cleanup()
  })

  it('--dry-run counts the selection, describes it and changes nothing', async () => {
    const before = await jsm.streams.info('EVENTS')
    const streamsBefore = await streamNames()
    const result = await replay(['--domain', 'workflow', '--to-stream', 'WF', '--create-target', '--subject-map', 'cim=wf', '--dry-run'])
    const expected = source.filter((m) => m.subject.startsWith('cim.workflow.'))
    expect(result.dryRun).toBe(true)
    expect(result.selected).toBe(expected.length)
    expect(result.first?.seq).toBe(expected[0].seq)
    expect(result.last?.seq).toBe(expected.at(-1)!.seq)
    expect(result.byDomain).toEqual({workflow: expected.length})
    const types: Record<string, number> = {}
    for (const m of expected) types[m.subject.split('.')[4]] = (types[m.subject.split('.')[4]] ?? 0) + 1
    expect(result.byEventType).toEqual(types)
    expect(result.estimatedSeconds).toBeGreaterThanOrEqual(0)
    expect(await streamNames()).toEqual(streamsBefore)
    expect((await jsm.streams.info('EVENTS')).state).toMatchObject({messages: before.state.messages, last_seq: before.state.last_seq, consumer_count: before.state.consumer_count})
  })

  it('--to-stream --create-target --subject-map up to a sequence: exact contents, order and headers; a repeat does not duplicate', async () => {
    const result = await replay(['--to-seq', '300', '--to-stream', 'EVENTS_PITR', '--create-target', '--subject-map', 'cim=pitr', '--replay-id', 'pitr-1'])
    const expected = source.filter((m) => m.seq <= 300)
    expect(result).toMatchObject({replayId: 'pitr-1', source: {stream: 'EVENTS', fromSeq: 1, toSeq: 300}, selected: 300, published: 300, duplicates: 0, target: {kind: 'stream', stream: 'EVENTS_PITR', created: true}})
    const target = await readAll('EVENTS_PITR')
    expectReplayed(target, expected, 'pitr-1', (s) => s.replace(/^cim\./, 'pitr.'))

    const again = await replay(['--to-seq', '300', '--to-stream', 'EVENTS_PITR', '--subject-map', 'cim=pitr', '--replay-id', 'pitr-1'])
    expect(again).toMatchObject({selected: 300, published: 0, duplicates: 300})
    expect((await jsm.streams.info('EVENTS_PITR')).state.messages).toBe(300)
    const state = JSON.parse(await readFile(again.stateFile!, 'utf8')) as ReplayState
    expect(state).toMatchObject({status: 'completed', replayId: 'pitr-1', fromSeq: 1, toSeq: 300, doneSeq: 300})
  })

  it('--aggregate to a prefix, and --since from a time', async () => {
    const aggregate = source[5].subject.split('.')[3]
    const result = await replay(['--aggregate', aggregate, '--to-prefix', 'rebuild', '--replay-id', 'agg-1'])
    const expected = source.filter((m) => m.subject.split('.')[3] === aggregate)
    expect(result.selected).toBe(expected.length)
    const target = await readAll('REBUILD')
    expectReplayed(target, expected, 'agg-1', (s) => `rebuild.${s}`)

    const since = new Date(source[400].time).toISOString()
    const timed = await replay(['--since', since, '--to-stream', 'SINCE', '--create-target', '--subject-map', 'cim=since', '--replay-id', 'since-1'])
    const fromTime = source.filter((m) => m.time >= Date.parse(since))
    expect(timed.selected).toBe(fromTime.length)
    expectReplayed(await readAll('SINCE'), fromTime, 'since-1', (s) => s.replace(/^cim\./, 'since.'))
  })

  it('several --event-type and several --subject (client-side on 2.9), with --from-seq', async () => {
    const types = ['NodeAdded', 'EdgeAdded']
    const byType = await replay(['--domain', 'graph', '--event-type', types[0], '--event-type', types[1], '--from-seq', '50', '--to-stream', 'TYPES', '--create-target', '--subject-map', 'cim=types', '--replay-id', 'types-1'])
    const expected = source.filter((m) => m.seq >= 50 && m.subject.startsWith('cim.graph.') && types.includes(m.subject.split('.')[4]))
    expect(expected.length).toBeGreaterThan(0)
    expect(byType.selected).toBe(expected.length)
    expect(byType.source).toMatchObject({fromSeq: 50, toSeq: source.at(-1)!.seq})
    expectReplayed(await readAll('TYPES'), expected, 'types-1', (s) => s.replace(/^cim\./, 'types.'))

    const subjects = await replay(['--subject', 'cim.identity.>', '--subject', 'cim.document.>', '--to-stream', 'SUBJ', '--create-target', '--subject-map', 'cim.identity=subj.identity', '--subject-map', 'cim.document=subj.document', '--replay-id', 'subj-1'])
    const both = source.filter((m) => m.subject.startsWith('cim.identity.') || m.subject.startsWith('cim.document.'))
    expect(subjects.selected).toBe(both.length)
    expectReplayed(await readAll('SUBJ'), both, 'subj-1', (s) => s.replace(/^cim\./, 'subj.'))
  })

  it('--to-file .jsonl.gz exports every field; --from-file imports it back exactly', async () => {
    const file = join(home.dir, 'agent.jsonl.gz')
    const exported = await replay(['--domain', 'agent', '--to-file', file])
    const expected = source.filter((m) => m.subject.startsWith('cim.agent.'))
    expect(exported.selected).toBe(expected.length)
    const [format, ...lines] = gunzipSync(await readFile(file)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(format).toEqual({format: 'cimops-replay/2'})
    expect(lines.pop()).toMatchObject({end: {events: expected.length}})
    expect(lines.map((l) => [l.seq, l.subject, l.data, Date.parse(l.time)])).toEqual(expected.map((m) => [m.seq, m.subject, m.data, m.time]))
    expect(lines[0].headers).toEqual(expected[0].headers)

    const imported = await replay(['--from-file', file, '--to-stream', 'AGENT_COPY', '--create-target', '--subject-map', 'cim=copy', '--replay-id', 'file-1'])
    expect(imported.selected).toBe(expected.length)
    const target = await readAll('AGENT_COPY')
    expect(target.map((m) => m.subject)).toEqual(expected.map((m) => m.subject.replace(/^cim\./, 'copy.')))
    expect(target.map((m) => m.data)).toEqual(expected.map((m) => m.data))
    expect(target.map((m) => m.headers['Cim-Replay-Source'][0])).toEqual(expected.map((m) => `file:agent.jsonl.gz:${m.seq}`))
  })

  it('an event over the server max_payload fails with a clear error, not a dropped connection', async () => {
    const file = join(home.dir, 'big.jsonl')
    const line = (seq: number, size: number) => JSON.stringify({seq, time: '2026-11-22T01:00:00Z', subject: `cim.big.doc.d-${seq}.Stored`, headers: {}, data: 'x'.repeat(size)})
    await writeFile(file, `${line(1, 100)}\n${line(2, 1024 * 1024)}\n`)
    const result = await cli(['replay', '--from-file', file, '--to-stream', 'BIG', '--create-target', '--subject-map', 'cim=big'])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toMatch(/over the server's max_payload of 1048576/)
    expect((await jsm.streams.info('BIG')).state.messages).toBe(1)
  })

  it('--dry-run shows the selection whatever the target: a prefix no stream captures is a note; no target only looks', async () => {
    const streamsBefore = await streamNames()
    const expected = source.filter((m) => m.subject.startsWith('cim.workflow.')).length
    const uncaptured = await replay(['--domain', 'workflow', '--to-prefix', 'nowhere', '--dry-run'])
    expect(uncaptured).toMatchObject({selected: expected, target: {kind: 'prefix', prefix: 'nowhere'}})
    expect(uncaptured.target.stream).toBeUndefined()
    expect(uncaptured.target.problem).toMatch(/^no stream captures nowhere\.cim\.workflow\.>/)
    const text = await cli(['replay', '--domain', 'workflow', '--to-prefix', 'nowhere', '--dry-run'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(`${expected} events from EVENTS sequences 1-437 -> prefix nowhere\n`)
    expect(text.stdout).toMatch(/^Note: the replay itself would fail: no stream captures nowhere\.cim\.workflow\.>/m)

    const untargeted = await replay(['--domain', 'workflow', '--dry-run'])
    expect(untargeted).toMatchObject({selected: expected, target: {kind: 'none'}})
    expect((await cli(['replay', '--domain', 'workflow', '--dry-run'])).stdout).toContain('-> no target\n')
    // Without --dry-run a target is needed, and only then is --dry-run the hint.
    const none = await cli(['replay', '--domain', 'workflow'])
    expect(none.code).toBe(64)
    expect(none.stderr).toContain('add --dry-run to only look at the selection')
    const two = await cli(['replay', '--domain', 'workflow', '--to-prefix', 'a', '--to-file', 'b.jsonl', '--dry-run'])
    expect(two.code).toBe(64)
    expect(two.stderr).not.toContain('--dry-run to')
    expect(await streamNames()).toEqual(streamsBefore)
  })

  it('clear errors before anything is published', async () => {
    const before = await streamNames()
    const unknown = await cli(['replay', '--stream', 'NOPE', '--to-prefix', 'rebuild'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/NOPE/)
    const empty = await cli(['replay', '--domain', 'nosuchdomain', '--to-stream', 'EMPTY', '--create-target', '--subject-map', 'cim=empty'])
    expect(empty.code).toBe(64)
    expect(empty.stderr).toMatch(/cim\.nosuchdomain/)
    const none437 = await cli(['replay', '--domain', 'graph', '--from-seq', '437', '--to-stream', 'EMPTY', '--create-target', '--subject-map', 'cim=empty'])
    expect(none437.code).toBe(64)
    expect(none437.stderr).toMatch(/nothing to replay/)
    const into = await cli(['replay', '--domain', 'graph', '--to-stream', 'INTO', '--create-target'])
    expect(into.code).toBe(64)
    expect(into.stderr).toMatch(/overlap the source stream EVENTS/)
    const none = await cli(['replay', '--domain', 'graph'])
    expect(none.code).toBe(64)
    expect(await streamNames()).toEqual(before)
  })

  it('Ctrl-C exits 130 leaving a state file; --resume completes with every event exactly once', async () => {
    const child = startCli(['replay', '--domain', 'graph', '--to-stream', 'RESUME', '--create-target', '--subject-map', 'cim=resume', '--replay-id', 'resume-1', '--rate', '60', '--max-in-flight', '8', '--nats-url', url()], home.env)
    const done = finished(child)
    const expected = source.filter((m) => m.subject.startsWith('cim.graph.'))
    // Wait until some are stored, then interrupt.
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100))
      const info = await jsm.streams.info('RESUME').catch(() => undefined)
      if (info && info.state.messages >= 20) break
    }
    child.kill('SIGINT')
    const interrupted = await done
    expect(interrupted.code, interrupted.stderr).toBe(130)
    expect(interrupted.stderr).toMatch(/--resume resume-1/)
    const partial = (await jsm.streams.info('RESUME')).state.messages
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(expected.length)
    const stateFile = join(home.dir, 'data', 'cimops', 'replay', 'resume-1.json')
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as ReplayState
    expect(state.status).toBe('interrupted')
    expect((await stat(stateFile)).isFile()).toBe(true)

    const resumed = await replay(['--resume', 'resume-1'])
    expect(resumed.resumed).toBe(true)
    expectReplayed(await readAll('RESUME'), expected, 'resume-1', (s) => s.replace(/^cim\./, 'resume.'))
  })

  it('--resume keeps the original --rate and --max-in-flight, shows them in the hint, and a flag given again wins and is saved', async () => {
    const stateFile = join(home.dir, 'data', 'cimops', 'replay', 'paced-1.json')
    const stored = async () => (await jsm.streams.info('PACED').catch(() => undefined))?.state.messages ?? 0
    /** Polls the target every 50ms, bounded: the first time `ready` holds, with the count then. */
    const waitFor = async (ready: (count: number) => boolean, limitMs: number) => {
      const started = performance.now()
      while (performance.now() - started < limitMs) {
        const count = await stored()
        if (ready(count)) return {at: performance.now(), count}
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`PACED stuck at ${await stored()} messages after ${limitMs}ms`)
    }
    const interrupt = async (child: ReturnType<typeof startCli>, done: ReturnType<typeof finished>) => {
      child.kill('SIGINT')
      const result = await done
      expect(result.code, result.stderr).toBe(130)
      return {result, state: JSON.parse(await readFile(stateFile, 'utf8')) as ReplayState}
    }

    // A replay throttled to 50/s, interrupted.
    const first = startCli(['replay', '--to-stream', 'PACED', '--create-target', '--subject-map', 'cim=paced', '--replay-id', 'paced-1', '--rate', '50', '--max-in-flight', '4', '--nats-url', url()], home.env)
    const firstDone = finished(first)
    await waitFor((count) => count >= 20, 20_000)
    const {result: stopped, state: saved} = await interrupt(first, firstDone)
    expect(saved).toMatchObject({status: 'interrupted', rate: 50, maxInFlight: 4})
    expect(stopped.stderr).toContain('resume with: cimops replay --resume paced-1; it keeps --rate 50/s and --max-in-flight 4 unless given again')

    // Resumed without --rate: still 50/s. 100 events at 50/s take 2s; 1.5s leaves room for the 50ms polls.
    const partial = await stored()
    const second = startCli(['replay', '--resume', 'paced-1', '--nats-url', url()], home.env)
    const secondDone = finished(second)
    const resumedAt = await waitFor((count) => count > partial, 20_000)
    const hundredLater = await waitFor((count) => count >= resumedAt.count + 100, 20_000)
    expect(hundredLater.at - resumedAt.at).toBeGreaterThanOrEqual(1500)
    const {result: stoppedAgain, state: kept} = await interrupt(second, secondDone)
    expect(kept).toMatchObject({status: 'interrupted', rate: 50, maxInFlight: 4})
    expect(stoppedAgain.stderr).toContain('it keeps --rate 50/s and --max-in-flight 4')

    // Given again on resume, the flags win and are saved: 200/s, so faster than 50/s and slower than unlimited.
    const left = source.length - (await stored())
    expect(left).toBeGreaterThan(100)
    const last = await replay(['--resume', 'paced-1', '--rate', '200', '--max-in-flight', '16'])
    expect(last.resumed).toBe(true)
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toMatchObject({status: 'completed', rate: 200, maxInFlight: 16})
    expect(last.published).toBeGreaterThan(100)
    expect(last.durationSeconds).toBeGreaterThanOrEqual((last.published - 1) / 200)
    expect(last.durationSeconds).toBeLessThan(last.published / 50)
    expectReplayed(await readAll('PACED'), source, 'paced-1', (s) => s.replace(/^cim\./, 'paced.'))
  }, 90_000)

  /** Why fast batches cannot run on this server, or undefined: its API level, and allow_batched in a stream's echo. */
  const noFastBatch = async (): Promise<string | undefined> => {
    const level = (await jsm.getAccountInfo()).api.level
    if (level === undefined || level < 4) return `the server reports ${level === undefined ? 'no API level' : `API level ${level}`}: fast batch publishing needs 4`
    const probe = await jsm.streams.add({name: 'PROBE', subjects: ['probe.>'], allow_batched: true})
    await jsm.streams.delete('PROBE')
    return probe.config.allow_batched === true ? undefined : "allow_batched is missing from the server's echo"
  }

  for (const mode of ['async', 'batch'] as const) {
    it(`kill -9 mid-replay, then --resume: every event exactly once (--publish-mode ${mode})`, async (ctx) => {
      const why = mode === 'batch' ? await noFastBatch() : undefined
      if (why) {
        console.log(`skipped: kill -9 and resume in fast-batch mode: ${why}`)
        ctx.skip()
      }
      const target = `KILLED_${mode.toUpperCase()}`
      const subjects = `killed${mode}`
      const child = startCli(['replay', '--domain', 'workflow', '--to-stream', target, '--create-target', '--subject-map', `cim=${subjects}`, '--replay-id', `kill-${mode}`, '--publish-mode', mode, '--rate', '60', '--max-in-flight', '8', '--nats-url', url()], home.env)
      const done = finished(child)
      const expected = source.filter((m) => m.subject.startsWith('cim.workflow.'))
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 100))
        const info = await jsm.streams.info(target).catch(() => undefined)
        if (info && info.state.messages >= 20) break
      }
      child.kill('SIGKILL')
      await done
      const partial = (await jsm.streams.info(target)).state.messages
      expect(partial).toBeGreaterThan(0)
      expect(partial).toBeLessThan(expected.length)
      const resumed = await replay(['--resume', `kill-${mode}`])
      expect(resumed.publishMode?.mode).toBe(mode)
      // What the killed run stored after its last checkpoint is read back from the target and not sent again.
      expect(resumed.duplicates).toBeGreaterThanOrEqual(partial - 8)
      expect(resumed.published + resumed.duplicates).toBe(resumed.selected)
      expectReplayed(await readAll(target), expected, `kill-${mode}`, (s) => s.replace(/^cim\./, `${subjects}.`))
    })
  }

  it('--publish-mode: auto and batch follow the server and the target; --allow-batched-target is the only way an existing target changes', async () => {
    const why = await noFastBatch()
    await jsm.streams.add({name: 'PLAIN', subjects: ['plain.>']})
    const args = ['--domain', 'identity', '--to-stream', 'PLAIN', '--subject-map', 'cim=plain']
    const auto = await replay([...args, '--dry-run'])
    expect(auto.publishMode?.mode).toBe('async')
    const refused = await cli(['replay', ...args, '--publish-mode', 'batch'])
    expect(refused.code).toBe(64)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toMatch(/--publish-mode batch cannot be used/)
    expect((await jsm.streams.info('PLAIN')).state.messages).toBe(0)
    if (why) {
      expect(auto.publishMode?.reason).toMatch(/has no fast batch publishing/)
      const notHere = await cli(['replay', ...args, '--allow-batched-target'])
      expect(notHere.code).toBe(64)
      expect(notHere.stderr).toMatch(/--allow-batched-target cannot be used/)
      const created = await replay(['--domain', 'identity', '--to-stream', 'PLAIN_NEW', '--create-target', '--subject-map', 'cim=plainnew'])
      expect(created.publishMode?.mode).toBe('async')
      return
    }
    expect(auto.publishMode?.reason).toMatch(/does not allow batched publishing/)
    expect((await jsm.streams.info('PLAIN')).config.allow_batched).not.toBe(true)
    const plan = await replay([...args, '--allow-batched-target', '--dry-run'])
    expect(plan).toMatchObject({target: {reconfigured: false}, publishMode: {mode: 'batch'}})
    expect((await jsm.streams.info('PLAIN')).config.allow_batched).not.toBe(true)
    const batched = await replay([...args, '--allow-batched-target', '--publish-mode', 'batch', '--replay-id', 'plain-1'])
    expect(batched).toMatchObject({target: {reconfigured: true}, publishMode: {mode: 'batch'}, published: batched.selected, duplicates: 0})
    expect((await jsm.streams.info('PLAIN')).config.allow_batched).toBe(true)
    const expected = source.filter((m) => m.subject.startsWith('cim.identity.'))
    expectReplayed(await readAll('PLAIN'), expected, 'plain-1', (s) => s.replace(/^cim\./, 'plain.'))
    const text = await cli(['replay', ...args, '--replay-id', 'plain-1'])
    expect(text.stdout).toContain(`0 stored, ${expected.length} already there (duplicates)`)
    expect(text.stdout).toMatch(/^Publishing: fast batches \(target stream PLAIN allows batched publishing/m)
  })
})
