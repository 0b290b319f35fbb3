import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {jetstream} from '@nats-io/jetstream'
import {connect} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {isolatedHome, okJson, runCli} from '../helpers/cli.js'
import {promotesInPlace, withJsm} from '../helpers/sites.js'

interface PromoteJson {
  stream: string
  promotedStream: string
  mode: 'update' | 'new-stream'
  subjects: string[]
  subjectsFrom: string
  fenced: {done: boolean; target: string; reason: string}
  originLastSeq?: number
  copyLastSeq: number
  eventsLacking?: number
  dryRun: boolean
  opsLog?: {recorded: boolean; seq?: number}
}

interface DrStatusJson {
  primaries: Array<{context: string; stream: string; promotedFrom: {stream: string; domain?: string}}>
  splitBrain: Array<{a: {stream: string}; b: {stream: string}; summary: string}>
}

interface ResyncJson {
  stream: string
  promotedStream: string
  commonUpTo: number
  onlyAtOldSite?: {fromSeq: number; toSeq: number; events: number}
  exported?: {file: string; events: number}
  steps: Array<{what: string; command?: string; done?: boolean}>
  warnings: string[]
}

const SEED_SUBJECTS = ['cim.graph.>', 'cim.workflow.>', 'cim.agent.>', 'cim.identity.>', 'cim.document.>']
/** Bounds of the fault: publishes at most, and how long the publisher may run. */
const FAULT_PUBLISHES_MAX = 20_000
const FAULT_MS_MAX = 15_000
/** Acknowledged publishes before the primary is killed. */
const ACKED_BEFORE_KILL = 300

/** Subject and body of every message in the stream from `first` to `last`, in order, hashed: what the copy holds. */
async function digest(servers: string[], stream: string, first: number, last: number): Promise<{count: number; sha256: string}> {
  return withJsm(servers, async (jsm) => {
    const hash = createHash('sha256')
    let count = 0
    for (let seq = first; seq <= last; seq++) {
      const message = await jsm.streams.getMessage(stream, {seq})
      if (!message) continue
      hash.update(message.subject).update('\0').update(message.data).update('\0')
      count++
    }
    return {count, sha256: hash.digest('hex')}
  })
}

/** A published event's ack: which stream (and domain) stored it; retried briefly while the new subjects' interest spreads over the leaf link. */
async function publishAck(servers: string[], subject: string): Promise<{stream: string; domain?: string; seq: number}> {
  const nc = await connect({servers})
  try {
    const js = jetstream(nc, {timeout: 2000})
    for (let attempt = 0; ; attempt++) {
      try {
        return await js.publish(subject, JSON.stringify({at: Date.now()}))
      } catch (error) {
        if (attempt >= 10) throw error
        await sleep(300)
      }
    }
  } finally {
    await nc.close()
  }
}

async function twoSiteSandbox(home: Awaited<ReturnType<typeof isolatedHome>>): Promise<{primary: string[]; dr: string[]}> {
  const up = okJson<{natsServers: string[]; drNatsServers: string[]}>(await runCli(['sandbox', 'up', '--sites', '2', '--no-monitor', '--json'], home.env))
  const seed = await runCli(['sandbox', 'seed', '--json'], home.env)
  expect(seed.code, seed.stderr).toBe(0)
  return {primary: up.natsServers, dr: up.drNatsServers}
}

describe('dr promote with the primary site up: plan, then a fenced promotion', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let primary: string[]
  let dr: string[]
  beforeAll(async () => {
    home = await isolatedHome()
    ;({primary, dr} = await twoSiteSandbox(home))
  })
  afterAll(async () => {
    await runCli(['sandbox', 'down'], home.env)
    await home.cleanup()
  })

  it('--dry-run shows the plan, reports nothing lacking, and changes nothing; without a terminal it refuses without --yes', async () => {
    const dry = okJson<PromoteJson>(await runCli(['dr', 'promote', 'EVENTS_DR', '--context', 'sandbox-dr', '--dry-run', '--json'], home.env))
    const inPlace = await promotesInPlace(dr)
    expect(dry).toMatchObject({stream: 'EVENTS_DR', dryRun: true, eventsLacking: 0, subjects: SEED_SUBJECTS, mode: inPlace ? 'update' : 'new-stream', fenced: {done: false, target: 'EVENTS@primary'}})
    expect(dry.originLastSeq).toBe(dry.copyLastSeq)

    const refused = await runCli(['dr', 'promote', 'EVENTS_DR', '--context', 'sandbox-dr'], home.env)
    expect(refused.code).toBe(64)
    expect(refused.stderr).toContain('pass --yes to proceed')

    // Still a mirror with no subjects; the origin keeps its subjects; no new stream.
    const copy = await withJsm(dr, (jsm) => jsm.streams.info('EVENTS_DR'))
    expect(copy.config.mirror?.name).toBe('EVENTS')
    expect(copy.config.subjects ?? []).toEqual([])
    expect(await withJsm(primary, async (jsm) => (await jsm.streams.info('EVENTS')).config.subjects)).toEqual(SEED_SUBJECTS)
    expect(await withJsm(dr, async (jsm) => (await jsm.streams.find('cim.graph.x').catch(() => undefined)) ?? null)).toBeNull()
  })

  it('fences the old primary before promoting: no event of the primary is left behind, and the primary stores no CIM event after', async () => {
    const originBefore = await withJsm(primary, async (jsm) => (await jsm.streams.info('EVENTS')).state.last_seq)
    const result = okJson<PromoteJson>(await runCli(['dr', 'promote', 'EVENTS_DR', '--context', 'sandbox-dr', '--yes', '--json'], home.env))
    expect(result).toMatchObject({dryRun: false, fenced: {done: true}, subjects: SEED_SUBJECTS, eventsLacking: 0, opsLog: {recorded: true}})
    expect(result.copyLastSeq).toBe(originBefore)

    const origin = await withJsm(primary, (jsm) => jsm.streams.info('EVENTS'))
    expect(origin.config.subjects).toEqual(['cimops.fenced.EVENTS.>'])
    expect(origin.config.description).toContain(SEED_SUBJECTS.join(','))

    // A CIM event published at the old primary is stored by the promoted stream at the DR site, not by EVENTS.
    const ack = await publishAck(primary, 'cim.graph.planned-failover.after')
    expect(ack).toMatchObject({stream: result.promotedStream, domain: 'dr'})
    expect(await withJsm(primary, async (jsm) => (await jsm.streams.info('EVENTS')).state.last_seq)).toBe(origin.state.last_seq)

    const promoted = await withJsm(dr, (jsm) => jsm.streams.info(result.promotedStream))
    expect(promoted.config.mirror).toBeUndefined()
    expect(promoted.config.subjects).toEqual(SEED_SUBJECTS)
    expect(promoted.state.messages).toBe(origin.state.messages + 1)

    // dr status afterwards: the promoted stream is the new primary, and the fenced origin is no second writable copy.
    const status = await runCli(['dr', 'status', '--context', 'sandbox', '--context', 'sandbox-dr', '--json'], home.env)
    const report = JSON.parse(status.stdout) as DrStatusJson
    expect(report.primaries).toEqual([expect.objectContaining({context: 'sandbox-dr', stream: result.promotedStream, promotedFrom: expect.objectContaining({stream: 'EVENTS', domain: 'primary'})})])
    expect(report.splitBrain.filter((found) => [found.a.stream, found.b.stream].includes('EVENTS'))).toEqual([])
  })

  it('dr resync prints the way back for the old primary, knows what only it holds, checks an export of it, and changes nothing', async () => {
    const inPlace = await promotesInPlace(dr)
    const origin = await withJsm(primary, (jsm) => jsm.streams.info('EVENTS'))
    const resync = okJson<ResyncJson>(await runCli(['dr', 'resync', 'EVENTS', '--context', 'sandbox', '--from-context', 'sandbox-dr', '--json'], home.env))
    expect(resync).toMatchObject({stream: 'EVENTS', promotedStream: inPlace ? 'EVENTS_DR' : 'EVENTS_DR_PROMOTED', newPrimaryDomain: 'dr', changed: false, oldSite: {fenced: true, subjects: SEED_SUBJECTS, lastSeq: origin.state.last_seq}})
    const commands = resync.steps.map((step) => step.command ?? '')
    expect(commands.some((c) => c.includes('stream edit'))).toBe(false) // fenced already
    expect(commands).toContain(`nats --server ${primary[0]} stream rm EVENTS -f`)
    expect(commands.find((c) => c.includes('stream add'))).toContain('"mirror":{"name":"' + resync.promotedStream + '","external":{"api":"$JS.dr.API"}}')
    if (inPlace) {
      // Promoted in place after the fence: the copy holds every event of the old primary at the same sequences.
      expect(resync.commonUpTo).toBe(origin.state.last_seq)
      expect(resync.onlyAtOldSite).toBeUndefined()
      expect(commands.some((c) => c.includes('--to-file'))).toBe(false)
    } else {
      // Renumbered by the safest path: no range matches by sequence, so the whole old stream is to be exported.
      expect(resync.onlyAtOldSite).toEqual({fromSeq: origin.state.first_seq, toSeq: origin.state.last_seq, events: origin.state.messages})
      expect(resync.warnings.join()).toContain('renumbers')
      const file = join(home.dir, 'only-old.jsonl')
      const short = await runCli(['replay', '--context', 'sandbox', '--stream', 'EVENTS', '--from-seq', '2', '--to-file', file, '--quiet'], home.env)
      expect(short.code, short.stderr).toBe(0)
      const refused = await runCli(['dr', 'resync', 'EVENTS', '--context', 'sandbox', '--from-context', 'sandbox-dr', '--exported-to', file], home.env)
      expect(refused.code).toBe(65)
      expect(refused.stderr).toContain('does not hold the events only the old site has')
      const whole = await runCli(['replay', '--context', 'sandbox', '--stream', 'EVENTS', '--to-file', file, '--quiet'], home.env)
      expect(whole.code, whole.stderr).toBe(0)
      const checked = okJson<ResyncJson>(await runCli(['dr', 'resync', 'EVENTS', '--context', 'sandbox', '--from-context', 'sandbox-dr', '--exported-to', file, '--json'], home.env))
      expect(checked.exported).toEqual({file, events: origin.state.messages})
      expect(checked.steps.find((step) => step.command?.includes('--to-file'))?.done).toBe(true)
    }
    // Nothing changed at either site.
    expect((await withJsm(primary, (jsm) => jsm.streams.info('EVENTS'))).state).toMatchObject({messages: origin.state.messages, last_seq: origin.state.last_seq})
    expect(await withJsm(primary, async (jsm) => (await jsm.streams.info('EVENTS')).config.mirror)).toBeUndefined()
  })
})

describe('dr promote after the primary site is killed mid-traffic', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let dr: string[]
  let primary: string[]
  beforeAll(async () => {
    home = await isolatedHome()
    ;({primary, dr} = await twoSiteSandbox(home))
  })
  afterAll(async () => {
    await runCli(['sandbox', 'down'], home.env)
    await home.cleanup()
  })

  it('makes the DR copy writable and keeps every event it held; says the old primary is not fenced; records it at the DR site', async () => {
    const status = okJson<{processes: Array<{name: string; pid: number}>}>(await runCli(['sandbox', 'status', '--json'], home.env))
    const primaryPid = status.processes.find((p) => p.name === 'nats-1')!.pid

    // Acknowledged publishes at the primary, bounded in count and time, until it dies under them.
    const nc = await connect({servers: primary, reconnect: false})
    const js = jetstream(nc, {timeout: 1000})
    let acked = 0
    let killed = false
    const started = Date.now()
    for (let i = 0; i < FAULT_PUBLISHES_MAX && Date.now() - started < FAULT_MS_MAX; i++) {
      try {
        await js.publish(`cim.graph.fault.${i}`, JSON.stringify({i}))
        acked++
      } catch {
        break
      }
      if (acked === ACKED_BEFORE_KILL && !killed) {
        process.kill(primaryPid, 'SIGKILL')
        killed = true
      }
    }
    await nc.close().catch(() => undefined)
    expect(killed).toBe(true)

    // What the DR copy held before the promotion: every event of it must still be there after.
    const before = await withJsm(dr, (jsm) => jsm.streams.info('EVENTS_DR'))
    expect(before.state.messages).toBeGreaterThan(400)
    const held = await digest(dr, 'EVENTS_DR', before.state.first_seq, before.state.last_seq)

    const result = okJson<PromoteJson>(await runCli(['dr', 'promote', 'EVENTS_DR', '--context', 'sandbox-dr', '--yes', '--json'], home.env))
    const inPlace = await promotesInPlace(dr)
    expect(result).toMatchObject({mode: inPlace ? 'update' : 'new-stream', promotedStream: inPlace ? 'EVENTS_DR' : 'EVENTS_DR_PROMOTED', fenced: {done: false}, copyLastSeq: before.state.last_seq})
    expect(result.fenced.reason).toContain('old primary not reachable: not fenced')
    expect(result.eventsLacking).toBeUndefined()
    // The origin cannot say its subjects, so the copy takes all of CIM's (and this site's ops log goes there too).
    expect(result).toMatchObject({subjects: ['cim.>'], subjectsFrom: 'default'})

    // Writable: a CIM event published at the DR site is acknowledged by the promoted stream.
    const ack = await publishAck(dr, 'cim.graph.after-failover.created')
    expect(ack.stream).toBe(result.promotedStream)
    // In place the copy's sequences continue; the safest path renumbers from 1 in the same order.
    const after = inPlace
      ? await digest(dr, result.promotedStream, before.state.first_seq, before.state.last_seq)
      : await digest(dr, result.promotedStream, 1, before.state.messages)
    expect(after).toEqual(held)
    expect(ack.seq).toBeGreaterThan(inPlace ? before.state.last_seq : before.state.messages)

    // Recorded in the surviving site's ops log, saying the old primary was not fenced.
    const recorded = await withJsm(dr, async (jsm) => {
      const subject = `cim.ops.dr.${result.promotedStream}.promoted`
      const stream = await jsm.streams.find(subject)
      return (await jsm.streams.getMessage(stream, {last_by_subj: subject}))?.json<{type: string; data: {fenced: {done: boolean}; mode: string}}>()
    })
    expect(recorded).toMatchObject({type: 'StreamPromoted', data: {fenced: {done: false}, mode: result.mode}})

    // dr status at the surviving site shows the new primary.
    const report = JSON.parse((await runCli(['dr', 'status', '--context', 'sandbox-dr', '--json'], home.env)).stdout) as DrStatusJson
    expect(report.primaries).toEqual([expect.objectContaining({stream: result.promotedStream, promotedFrom: expect.objectContaining({stream: 'EVENTS', domain: 'primary'})})])
  })

  it('a second promotion is refused: the stream is no longer a mirror', async () => {
    const inPlace = await promotesInPlace(dr)
    const again = await runCli(['dr', 'promote', 'EVENTS_DR', '--context', 'sandbox-dr', '--yes'], home.env)
    // In place the copy is no mirror any more (64); on the safest path it still is, but its new stream exists and is no longer sourcing it (64).
    expect(again.code, again.stderr).toBe(64)
    expect(again.stderr).toMatch(inPlace ? /promoted already/ : /does not source EVENTS_DR/)
  })
})
