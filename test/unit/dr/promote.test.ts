import {describe, expect, it} from 'vitest'

import type {StreamSummary} from '../../../src/lib/adapters/nats/jetstream.js'
import {serverFeatures} from '../../../src/lib/adapters/nats/versions.js'
import {createStyle} from '../../../src/lib/core/output/style.js'
import {
  chooseMode,
  chooseSubjects,
  decideFence,
  describeLacking,
  estimateLacking,
  NOT_FENCED_WARNING,
  planSteps,
  type PromotionPlan,
} from '../../../src/lib/dr/promote.js'
import {renderPromotion, renderPromotionPlan} from '../../../src/lib/dr/promote-render.js'

const style = createStyle({noColor: true})
const origin = {name: 'EVENTS', subjects: ['cim.graph.>', 'cim.workflow.>'], lastSeq: 500} as unknown as StreamSummary

describe('chooseMode: in place where the server can remove a mirror, else the safest path', () => {
  it('promotes in place from API level 2 (2.12) on, whatever the version string says', () => {
    expect(chooseMode(serverFeatures('2.15.1', 5)).mode).toBe('update')
    expect(chooseMode(serverFeatures('2.12.0', 2)).mode).toBe('update')
    expect(chooseMode(serverFeatures('2.11.9', 1)).mode).toBe('new-stream')
  })

  it('takes the safest path before 2.12 and says why (10055, the release it needs)', () => {
    const {mode, reason} = chooseMode(serverFeatures('2.9.10'))
    expect(mode).toBe('new-stream')
    expect(reason).toContain('2.9.10')
    expect(reason).toContain('10055')
    expect(reason).toContain('2.12.0')
    expect(chooseMode(serverFeatures('2.10.27')).mode).toBe('new-stream')
  })
})

describe('chooseSubjects', () => {
  it('prefers --subjects, then what the origin had before it was fenced, then its subjects, then all of CIM', () => {
    expect(chooseSubjects({flag: ['cim.a.>'], fencedSubjects: ['x'], originSubjects: ['y']})).toEqual({subjects: ['cim.a.>'], from: 'flag'})
    expect(chooseSubjects({fencedSubjects: ['cim.graph.>'], originSubjects: ['cimops.fenced.EVENTS.>']})).toEqual({subjects: ['cim.graph.>'], from: 'fence-marker'})
    expect(chooseSubjects({originSubjects: ['cim.graph.>']})).toEqual({subjects: ['cim.graph.>'], from: 'origin'})
    expect(chooseSubjects({originSubjects: []})).toEqual({subjects: ['cim.>'], from: 'default'})
  })
})

describe('decideFence: fence what can be reached, say plainly what cannot', () => {
  const target = 'EVENTS@primary'
  it('fences a reachable origin that still has its subjects', () => {
    expect(decideFence({state: 'reachable', stream: origin}, {target})).toMatchObject({action: 'fence', target})
  })
  it('does not fence twice', () => {
    expect(decideFence({state: 'reachable', stream: origin, fencedSubjects: ['cim.graph.>']}, {target}).action).toBe('already-fenced')
  })
  it('an unreachable origin is not fenced, and the reason says it must be isolated before its link returns', () => {
    const fence = decideFence({state: 'unreachable', why: 'nothing answers'}, {target})
    expect(fence.action).toBe('unreachable')
    expect(fence.reason).toContain(NOT_FENCED_WARNING)
    expect(fence.reason).toContain('nothing answers')
  })
  it('--no-fence skips on purpose, even when the origin answers', () => {
    expect(decideFence({state: 'reachable', stream: origin}, {target, noFence: true})).toMatchObject({action: 'skip', reason: expect.stringContaining('--no-fence')})
  })
  it('an origin without the stream has nothing to fence', () => {
    expect(decideFence({state: 'missing'}, {target}).action).toBe('skip')
  })
})

describe('estimateLacking: counted when the origin answers, bounded when it does not', () => {
  const copy = {lastSeq: 480, sources: [{name: 'EVENTS', kind: 'mirror' as const, lag: 3, activeSeconds: 12.5}]}
  it('origin last sequence minus the copy, with the oldest missing time', () => {
    const lacking = estimateLacking(copy, {lastSeq: 500, oldestMissing: new Date('2026-12-05T03:00:00Z')})
    expect(lacking).toEqual({known: true, events: 20, oldestTime: '2026-12-05T03:00:00.000Z'})
    expect(describeLacking(lacking)).toBe('20 events, the oldest stored at 2026-12-05T03:00:00.000Z')
  })
  it('never negative: a copy ahead (deletes at the origin are not replicated) lacks nothing', () => {
    expect(estimateLacking(copy, {lastSeq: 470})).toEqual({known: true, events: 0})
  })
  it('without the origin: the lag and the last contact, as an upper bound', () => {
    const lacking = estimateLacking(copy)
    expect(lacking).toMatchObject({known: false, lagAtLastContact: 3, lastContactSecondsAgo: 12.5})
    expect(describeLacking(lacking)).toContain('3 events behind 12.5s ago')
  })
  it('a copy that never heard from its origin cannot know', () => {
    expect(describeLacking(estimateLacking({lastSeq: 0, sources: [{name: 'EVENTS', kind: 'mirror', lag: 0}]}))).toContain('never heard')
  })
})

function plan(over: Partial<PromotionPlan> = {}): PromotionPlan {
  const base: Omit<PromotionPlan, 'steps'> = {
    stream: 'EVENTS_DR',
    promotedStream: 'EVENTS_DR',
    mode: 'update',
    modeReason: 'nats-server 2.15.1 removes a mirror',
    continuing: false,
    origin: {stream: 'EVENTS', domain: 'primary', apiPrefix: '$JS.primary.API'},
    subjects: ['cim.graph.>'],
    subjectsFrom: 'origin',
    fence: {action: 'fence', target: 'EVENTS@primary', reason: 'its subjects are taken away'},
    copyLastSeq: 500,
    copyMessages: 500,
    originLastSeq: 500,
    lacking: {known: true, events: 0},
    warnings: [],
    ...over,
  }
  return {...base, steps: over.steps ?? planSteps(base)}
}

describe('planSteps: the plan says what will happen, in order', () => {
  it('fences, waits for the copy, then promotes in place and records', () => {
    const steps = plan().steps
    expect(steps[0]).toMatch(/^fence the old primary: EVENTS@primary gets subjects cimops\.fenced\.EVENTS\.>/)
    expect(steps[1]).toMatch(/^wait until EVENTS_DR holds every event/)
    expect(steps[2]).toMatch(/^promote EVENTS_DR in place/)
    expect(steps.at(-1)).toContain('ops log')
  })
  it('the safest path creates, waits, switches, and explains the cost; without fencing no wait for the origin', () => {
    const steps = plan({mode: 'new-stream', promotedStream: 'EVENTS_DR_PROMOTED', fence: {action: 'unreachable', target: 'EVENTS@primary', reason: NOT_FENCED_WARNING}}).steps
    expect(steps.some((s) => s.startsWith('fence'))).toBe(false)
    expect(steps[0]).toMatch(/^create EVENTS_DR_PROMOTED .* sourcing EVENTS_DR, with no subjects/)
    expect(steps.join('\n')).toMatch(/renumbered from 1 .* timed at the copy/)
    expect(steps.join('\n')).toContain('keep EVENTS_DR as evidence')
  })
  it('an interrupted safest path continues without creating the stream again', () => {
    expect(plan({mode: 'new-stream', promotedStream: 'EVENTS_DR_PROMOTED', continuing: true}).steps.some((s) => s.startsWith('create'))).toBe(false)
  })
})

describe('render', () => {
  it('the plan shows the mode, subjects, old primary and what the copy lacks; an unfenced primary as a warning', () => {
    const text = renderPromotionPlan(plan({fence: {action: 'unreachable', target: 'EVENTS@primary', reason: NOT_FENCED_WARNING}, warnings: [NOT_FENCED_WARNING]}), style, {dryRun: true})
    expect(text).toMatch(/^\[dry run\] Promote EVENTS_DR \(mirror of EVENTS@primary\)/)
    expect(text).toContain(`old primary:   EVENTS@primary: ${NOT_FENCED_WARNING}`)
    expect(text).toContain('copy lacks:    none')
    // Said once, not again as a separate warning.
    expect(text.split(NOT_FENCED_WARNING)).toHaveLength(2)
  })
  it('the result says where the stream is writable and whether the old primary is fenced', () => {
    const p = plan()
    const text = renderPromotion(
      {...p, fenced: {done: false, target: 'EVENTS@primary', reason: NOT_FENCED_WARNING}, dryRun: false, durationSeconds: 0.2, opsLog: {recorded: true, seq: 7}},
      style,
    )
    expect(text).toContain('EVENTS_DR is writable on cim.graph.>')
    expect(text).toContain(`Old primary EVENTS@primary: ${NOT_FENCED_WARNING}`)
    expect(text).toContain('(seq 7)')
  })
})
