import {setTimeout as sleep} from 'node:timers/promises'
import {jetstream} from '@nats-io/jetstream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {isProcessAlive} from '../../src/lib/sandbox/processes.js'
import {readSandboxState, stopProcess} from '../../src/lib/sandbox/index.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {withJsm} from '../helpers/sites.js'

interface StatusProcess {
  name: string
  component: string
  site?: string
  pid: number
  healthy: boolean
  detail: string
}

/** Bounded: the mirror copies within seconds on every server set (2.11+ only slows down after an outage). */
const MIRROR_WAIT_MS = 20_000

async function waitForMessages(servers: string[], stream: string, expected: number): Promise<number> {
  const deadline = Date.now() + MIRROR_WAIT_MS
  for (;;) {
    const messages = await withJsm(servers, async (jsm) => (await jsm.streams.info(stream)).state.messages)
    if (messages >= expected || Date.now() > deadline) return messages
    await sleep(200)
  }
}

/** Two NATS sites as a user drives them: `cimops sandbox up --sites 2`, seed, status, down, in an isolated home. */
describe('two-site sandbox: a DR site as a leaf node with its own JetStream domain', () => {
  let home: Awaited<ReturnType<typeof isolatedHome>>
  let stateDir: string
  let primary: string[]
  let dr: string[]
  beforeAll(async () => {
    home = await isolatedHome()
  })
  afterAll(async () => {
    await runCli(['sandbox', 'down'], home.env)
    await home.cleanup()
  })

  it('starts both sites, each with its own context, and status shows both with their servers', async () => {
    const up = await runCli(['sandbox', 'up', '--sites', '2', '--no-monitor', '--json'], home.env)
    expect(up.code, up.stderr).toBe(0)
    const started = JSON.parse(up.stdout) as {stateDir: string; sites: number; context: string; drContext: string; natsServers: string[]; drNatsServers: string[]}
    expect(started).toMatchObject({sites: 2, context: 'sandbox', drContext: 'sandbox-dr'})
    ;({stateDir, natsServers: primary, drNatsServers: dr} = started)
    expect(dr).toHaveLength(1)
    expect(dr).not.toEqual(primary)

    const status = await runCli(['sandbox', 'status', '--json'], home.env)
    expect(status.code, status.stderr).toBe(0)
    const report = JSON.parse(status.stdout) as {sites: number; healthy: boolean; processes: StatusProcess[]}
    expect(report).toMatchObject({sites: 2, healthy: true})
    const nats = report.processes.filter((p) => p.component === 'nats')
    expect(nats.map((p) => [p.name, p.site])).toEqual([
      ['nats-1', 'primary'],
      ['dr-nats-1', 'dr'],
    ])
    // Ready means linked: the DR node counts as ready only once its leaf connection to the primary is up.
    expect(nats[1]?.detail).toBe('ready, leaf of the primary site')
    const text = await runCli(['sandbox', 'status'], home.env)
    expect(text.stdout).toMatch(/dr-nats-1\s+dr\s+up/)

    // Each site answers as its own JetStream domain.
    for (const [servers, domain] of [[primary, 'primary'], [dr, 'dr']] as const) {
      expect(await withJsm(servers, async (jsm) => (await jsm.getAccountInfo()).domain)).toBe(domain)
    }
    const drContext = await runCli(['context', 'show', 'sandbox-dr', '--json'], home.env)
    expect(drContext.code, drContext.stderr).toBe(0)
    expect(drContext.stdout).toContain(dr[0])
    // Its events stream is the DR copy, so checks on the DR site look at what the site holds.
    expect(drContext.stdout).toContain('"EVENTS_DR"')
    const current = await runCli(['context', 'show', '--json'], home.env)
    expect(JSON.parse(current.stdout)).toMatchObject({name: 'sandbox'})
  })

  it('seed creates EVENTS_DR at the DR site, a mirror of EVENTS through the primary domain, and it catches up', async () => {
    const seed = await runCli(['sandbox', 'seed', '--json'], home.env)
    expect(seed.code, seed.stderr).toBe(0)
    const result = JSON.parse(seed.stdout) as {published: number; mirror: {stream: string; origin: string; messages: number; originMessages: number}}
    expect(result.published).toBeGreaterThan(100)
    expect(result.mirror).toMatchObject({stream: 'EVENTS_DR', origin: 'EVENTS', originMessages: result.published})

    const info = await withJsm(dr, (jsm) => jsm.streams.info('EVENTS_DR'))
    expect(info.config.mirror).toMatchObject({name: 'EVENTS', external: {api: '$JS.primary.API'}})
    expect(info.config.subjects ?? []).toEqual([])
    expect(await waitForMessages(dr, 'EVENTS_DR', result.published)).toBe(result.published)

    // Events published at the primary after the seed reach the DR copy too, with their origin sequence.
    const extra = 25
    const lastSeq = await withJsm(primary, async (_jsm, nc) => {
      const js = jetstream(nc)
      let seq = 0
      for (let i = 0; i < extra; i++) seq = (await js.publish('cim.graph.sites-test', JSON.stringify({i}))).seq
      return seq
    })
    expect(await waitForMessages(dr, 'EVENTS_DR', result.published + extra)).toBe(result.published + extra)
    const [origin, copy] = await Promise.all([
      withJsm(primary, (jsm) => jsm.streams.getMessage('EVENTS', {seq: lastSeq})),
      withJsm(dr, (jsm) => jsm.streams.getMessage('EVENTS_DR', {seq: lastSeq})),
    ])
    expect(copy?.subject).toBe('cim.graph.sites-test')
    expect(copy?.timestamp).toBe(origin?.timestamp)

    // Seeding again changes nothing, and the DR site itself is never seeded (a second writable copy).
    const again = await runCli(['sandbox', 'seed', '--json'], home.env)
    expect(JSON.parse(again.stdout)).toMatchObject({published: 0, mirror: {messages: result.published + extra}})
    const refused = await runCli(['sandbox', 'seed', '--context', 'sandbox-dr'], home.env)
    expect(refused.code).toBe(64)
    expect(refused.stderr).toContain("belongs to the sandbox's dr site")
  })

  it("a command recorded at the linked DR site goes into the primary's ops log: the DR site makes no second one (an ops-log split brain)", async () => {
    const declared = await runCli(['incident', 'declare', '--context', 'sandbox-dr', '--title', 'recorded across the link', '--severity', 'minor', '--no-snapshot', '--json'], home.env)
    expect(declared.code, declared.stderr).toBe(0)
    const {id} = (JSON.parse(declared.stdout) as {incident: {id: string}}).incident
    const listed = await runCli(['incident', 'list', '--context', 'sandbox-dr', '--json'], home.env)
    expect(listed.stdout).toContain(id)
    expect(await withJsm(dr, async (jsm) => (await jsm.streams.names().next()).sort())).toEqual(['EVENTS_DR'])
    expect(await withJsm(primary, async (jsm) => (await jsm.streams.info('CIM_OPS', {subjects_filter: 'cim.ops.incident.>'})).state.messages)).toBeGreaterThan(0)
    const status = await runCli(['dr', 'status', '--all-contexts', '--json'], home.env)
    expect(JSON.parse(status.stdout)).toMatchObject({status: 'OK', splitBrain: []})
  })

  it("the DR site's JetStream keeps answering with the primary site down (a domain of its own, not a shared meta group)", async () => {
    const state = await readSandboxState(stateDir)
    await stopProcess(state!, 'nats-1')
    const info = await withJsm(dr, (jsm) => jsm.streams.info('EVENTS_DR'))
    expect(info.state.messages).toBeGreaterThan(100)
    // Alone, the DR site keeps its own ops log: a recorded command creates it there.
    const declared = await runCli(['incident', 'declare', '--context', 'sandbox-dr', '--title', 'primary site lost', '--severity', 'critical', '--no-snapshot'], home.env)
    expect(declared.code, declared.stderr).toBe(0)
    expect(await withJsm(dr, async (jsm) => (await jsm.streams.names().next()).sort())).toEqual(['CIM_OPS', 'EVENTS_DR'])
    const status = await runCli(['sandbox', 'status', '--json'], home.env)
    expect(status.code).toBe(1)
    const processes = (JSON.parse(status.stdout) as {processes: StatusProcess[]}).processes
    expect(processes.find((p) => p.name === 'nats-1')).toMatchObject({healthy: false, detail: 'not running'})
  })

  it('down stops both sites', async () => {
    const before = await readSandboxState(stateDir)
    const down = await runCli(['sandbox', 'down', '--json'], home.env)
    expect(JSON.parse(down.stdout).stopped).toEqual(['dr-nats-1', 'prometheus', 'alertmanager']) // nats-1 was stopped above
    for (const proc of before!.processes) expect(isProcessAlive(proc)).toBe(false)
  })
})
