import {describe, expect, it} from 'vitest'

import {sourcedSequence} from '../../../src/lib/adapters/nats/failover-drill.js'
import type {StreamSummary} from '../../../src/lib/adapters/nats/jetstream.js'
import {UsageError} from '../../../src/lib/core/errors.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import {decideScope, type FailoverDrillResult, markerSubject, median, needs212Lines, parseRate, pickCopy} from '../../../src/lib/dr/drill.js'
import {renderFailoverDrill, renderFailoverDrillMarkdown} from '../../../src/lib/dr/drill-render.js'
import type {SandboxProcess, SandboxState} from '../../../src/lib/sandbox/types.js'

const ID = 'drill-20260101T000000Z'

describe('markerSubject: a CIM event subject the events stream captures, never the ops log', () => {
  it('uses cim.drill.marker.<id>.<event> when the stream captures it', () => {
    expect(markerSubject(['cim.>'], ID)).toBe(`cim.drill.marker.${ID}.MarkerPublished`)
    expect(markerSubject(['cim.drill.>', 'cim.graph.>'], ID, 'FailoverWriteChecked')).toBe(`cim.drill.marker.${ID}.FailoverWriteChecked`)
  })

  it("otherwise goes into the first CIM domain the stream captures, keeping the pattern's literal tokens", () => {
    expect(markerSubject(['cim.graph.>', 'cim.workflow.>'], ID)).toBe(`cim.graph.marker.${ID}.MarkerPublished`)
    expect(markerSubject(['cim.graph.node.*.*'], ID)).toBe(`cim.graph.node.${ID}.MarkerPublished`)
    expect(markerSubject(['cim.*.*.*.*'], ID)).toBe(`cim.drill.marker.${ID}.MarkerPublished`)
  })

  it('has none for a stream of the ops log only, of subjects outside cim., or of fixed subjects', () => {
    expect(markerSubject(['cim.ops.>'], ID)).toBeUndefined()
    expect(markerSubject(['orders.>'], ID)).toBeUndefined()
    expect(markerSubject(['cim.graph.node.created'], ID)).toBeUndefined()
    expect(markerSubject([], ID)).toBeUndefined()
  })
})

describe('the figures', () => {
  it('median is the nearest-rank middle value, 0 for none', () => {
    expect(median([])).toBe(0)
    expect(median([0.3])).toBe(0.3)
    expect(median([0.5, 0.1, 0.3])).toBe(0.3)
    expect(median([0.4, 0.1, 0.3, 0.2])).toBe(0.2)
  })

  it('parseRate takes N or N/s, and refuses zero, words and absurd rates', () => {
    expect(parseRate('100')).toBe(100)
    expect(parseRate('50/s')).toBe(50)
    expect(parseRate(' 2.5 / s ')).toBe(2.5)
    for (const bad of ['0', '-1', 'fast', '10/m', '20000']) expect(() => parseRate(bad)).toThrow(UsageError)
  })

  it("sourcedSequence reads the origin sequence from the header a sourcing stream adds (2.9's two tokens, 2.10+'s four)", () => {
    expect(sourcedSequence([['Nats-Stream-Source', ['EVENTS_DR 42']]])).toBe(42)
    expect(sourcedSequence([['Nats-Msg-Id', ['x']], ['Nats-Stream-Source', ['EVENTS_DR:a1b2 7 > >']]])).toBe(7)
    expect(sourcedSequence([['Nats-Msg-Id', ['x']]])).toBeUndefined()
    expect(sourcedSequence(undefined)).toBeUndefined()
  })
})

function stream(name: string, sources: StreamSummary['sources'] = []): StreamSummary {
  return {name, subjects: [], sources} as unknown as StreamSummary
}
const mirrorOf = (origin: string, apiPrefix?: string): StreamSummary['sources'][number] => ({name: origin, kind: 'mirror', lag: 0, ...(apiPrefix ? {apiPrefix} : {})})

describe('pickCopy: the DR site stream mirroring the primary events stream', () => {
  it("prefers the DR context's events stream among mirrors of the origin's domain", () => {
    const streams = [stream('CIM_OPS'), stream('OTHER', [mirrorOf('EVENTS', '$JS.primary.API')]), stream('EVENTS_DR', [mirrorOf('EVENTS', '$JS.primary.API')])]
    expect(pickCopy(streams, {stream: 'EVENTS', domain: 'primary'}, 'EVENTS_DR')?.name).toBe('EVENTS_DR')
    expect(pickCopy(streams, {stream: 'EVENTS', domain: 'primary'}, 'NOPE')?.name).toBe('OTHER')
  })

  it('skips sources (not copies that keep sequences) and mirrors of another domain when one of the right domain exists', () => {
    const streams = [stream('SOURCED', [{...mirrorOf('EVENTS'), kind: 'source'}]), stream('ELSEWHERE', [mirrorOf('EVENTS', '$JS.other.API')]), stream('RIGHT', [mirrorOf('EVENTS', '$JS.primary.API')])]
    expect(pickCopy(streams, {stream: 'EVENTS', domain: 'primary'}, 'EVENTS_DR')?.name).toBe('RIGHT')
    expect(pickCopy([stream('SOURCED', [{...mirrorOf('EVENTS'), kind: 'source'}])], {stream: 'EVENTS'}, 'EVENTS_DR')).toBeUndefined()
  })
})

function node(name: string, port: number, site: 'primary' | 'dr'): SandboxProcess {
  return {name, component: 'nats', pid: 100 + port, url: `nats://127.0.0.1:${port}`, port, site, serverId: `ID-${name}`, configFile: '', dataDir: '', logFile: '', argv: ['nats-server']}
}
const state: SandboxState = {
  version: 1,
  stateDir: '/tmp/sb',
  startedAt: '2026-01-01T00:00:00Z',
  cluster: 1,
  sites: 2,
  jetstream: true,
  processes: [node('nats-1', 4222, 'primary'), node('dr-nats-1', 5222, 'dr'), {...node('prometheus', 9090, 'primary'), component: 'prometheus'}],
  natsServers: ['nats://127.0.0.1:4222'],
  drNatsServers: ['nats://127.0.0.1:5222'],
}
const reached = {
  primary: {servers: state.natsServers, server: {address: '127.0.0.1:4222', serverId: 'ID-nats-1'}},
  dr: {servers: state.drNatsServers!, server: {address: '127.0.0.1:5222', serverId: 'ID-dr-nats-1'}},
}

describe('decideScope: servers are stopped only in the sandbox, through its own contexts', () => {
  it("stops the primary site's nats-servers of the sandbox, and nothing else it recorded", async () => {
    const scope = await decideScope({stateDir: '/tmp/sb', state}, {primary: 'sandbox', dr: 'sandbox-dr'}, reached)
    expect(scope.scope).toBe('failover')
    expect(scope.scope === 'failover' && scope.processes.map((p) => p.name)).toEqual(['nats-1'])
  })

  it('measures the lag only without a sandbox, through other contexts even to the same servers, or when a server is not the one recorded', async () => {
    const none = await decideScope({stateDir: '/tmp/sb', state: undefined}, {primary: 'sandbox', dr: 'sandbox-dr'}, reached)
    expect(none).toMatchObject({scope: 'lag-only', reason: expect.stringContaining('none is recorded in /tmp/sb')})
    const byHand = await decideScope({stateDir: '/tmp/sb', state}, {primary: 'mine', dr: 'sandbox-dr'}, reached)
    expect(byHand).toMatchObject({scope: 'lag-only', reason: expect.stringContaining('not mine and sandbox-dr')})
    const restarted = await decideScope({stateDir: '/tmp/sb', state}, {primary: 'sandbox', dr: 'sandbox-dr'}, {...reached, primary: {...reached.primary, server: {address: '127.0.0.1:4222', serverId: 'SOMEONE-ELSE'}}})
    expect(restarted).toMatchObject({scope: 'lag-only', reason: expect.stringContaining('SOMEONE-ELSE')})
    const swapped = await decideScope({stateDir: '/tmp/sb', state}, {primary: 'sandbox', dr: 'sandbox-dr'}, {primary: reached.dr, dr: reached.primary})
    expect(swapped.scope).toBe('lag-only')
  })
})

describe('needs212Lines: which parts need 2.12+', () => {
  it('says the in-place promotion was used, or that the safest path was taken and why', () => {
    expect(needs212Lines('failover', {mode: 'update', promotedStream: 'EVENTS_DR', reason: '', durationSeconds: 0}, '2.15.1')[0]).toContain('used, the DR site runs 2.15.1')
    const older = needs212Lines('failover', {mode: 'new-stream', promotedStream: 'EVENTS_DR_PROMOTED', reason: '', durationSeconds: 0}, '2.9.10')[0]
    expect(older).toContain('2.9.10')
    expect(older).toContain('safest path (EVENTS_DR_PROMOTED')
    expect(needs212Lines('lag-only', undefined, '2.9.10')[0]).toContain('works on every server')
  })
})

const passed: FailoverDrillResult = {
  id: ID,
  kind: 'failover',
  passed: true,
  scope: 'failover',
  scopeReason: 'the sandbox in /tmp/sb',
  startedAt: '2026-01-01T00:00:00.000Z',
  completedAt: '2026-01-01T00:00:06.000Z',
  durationSeconds: 6,
  primary: {context: 'sandbox', stream: 'EVENTS', serverVersion: '2.9.10'},
  dr: {context: 'sandbox-dr', stream: 'EVENTS_DR', serverVersion: '2.9.10'},
  markers: {subject: `cim.graph.marker.${ID}.MarkerPublished`, published: 200, copied: 200, ratePerSecond: 100},
  rpo: {maxSeconds: 0.03, p50Seconds: 0.012, pollSeconds: 0.02},
  rto: {seconds: 0.085},
  promotion: {mode: 'new-stream', promotedStream: 'EVENTS_DR_PROMOTED', reason: '10055', durationSeconds: 0.05},
  digest: {fromSeq: 1, toSeq: 637, messages: 637, origin: 'ad29ad517c96ffff', promoted: 'ad29ad517c96ffff', promotedMessages: 637, comparedBy: 'origin sequence from Nats-Stream-Source'},
  writable: {stream: 'EVENTS_DR_PROMOTED', subject: `cim.graph.marker.${ID}.FailoverWriteChecked`, seq: 638},
  restore: {done: true, steps: ['deleted EVENTS_DR_PROMOTED at the DR site']},
  needs212: ['promotion in place needs nats-server 2.12+'],
  checks: [{name: 'digest', ok: true, detail: '637 events identical'}],
}

describe('rendering', () => {
  const style = createStyle({noColor: true})

  it('shows RPO, RTO, the path, the digest and the 2.12+ line', () => {
    const text = renderFailoverDrill(passed, style)
    expect(text).toContain(`Failover drill ${ID}: PASS`)
    expect(text).toMatch(/RPO:\s+max 30ms, p50 12ms/)
    expect(text).toMatch(/RTO:\s+85ms/)
    expect(text).toContain('new stream EVENTS_DR_PROMOTED (safest path)')
    expect(text).toContain('637 events, sequences 1-637: identical after the promotion')
    expect(text).toMatch(/2\.12\+:\s+promotion in place needs/)
  })

  it('a lag-only drill says so first and shows no RTO', () => {
    const lagOnly: FailoverDrillResult = {...passed, scope: 'lag-only', scopeReason: 'lag only: servers are stopped only in the sandbox cimops started', rto: undefined, promotion: undefined, digest: undefined, writable: undefined, restore: undefined}
    const text = renderFailoverDrill(lagOnly, style)
    expect(text.split('\n')[1]).toContain('lag only: servers are stopped only in the sandbox')
    expect(text).not.toContain('RTO')
    expect(renderFailoverDrillMarkdown(lagOnly)).toContain('| Scope | **lag only**: ')
  })

  it('Markdown: a table of the figures and the checks, a failure marked', () => {
    const failed: FailoverDrillResult = {...passed, passed: false, checks: [{name: 'digest', ok: false, detail: 'a|b'}], error: 'could not promote'}
    const md = renderFailoverDrillMarkdown(failed)
    expect(md).toContain(`# Failover drill ${ID}: FAIL`)
    expect(md).toContain('| RTO | 85ms')
    expect(md).toContain('| digest | **FAIL** | a\\|b |')
    expect(md).toContain('**Failed:** could not promote')
  })
})
