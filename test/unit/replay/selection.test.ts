import {describe, expect, it} from 'vitest'

import {
  checkReplayId,
  cimParts,
  clientMatcher,
  newReplayId,
  parseSubjectMap,
  replayFilters,
  replayHeaders,
  targetSubject,
} from '../../../src/lib/replay/selection.js'

describe('replayFilters', () => {
  it('maps the CIM shortcuts onto subjects', () => {
    expect(replayFilters({})).toEqual([])
    expect(replayFilters({domain: 'graph'})).toEqual(['cim.graph.>'])
    expect(replayFilters({aggregate: 'a1'})).toEqual(['cim.*.*.a1.*'])
    expect(replayFilters({domain: 'graph', aggregate: 'a1'})).toEqual(['cim.graph.*.a1.*'])
    expect(replayFilters({aggregate: 'a1', aggregateType: 'node'})).toEqual(['cim.*.node.a1.*'])
    expect(replayFilters({domain: 'graph', eventTypes: ['NodeAdded']})).toEqual(['cim.graph.*.*.NodeAdded'])
    // several types: the last token stays a wildcard, the types are matched client-side
    expect(replayFilters({domain: 'graph', eventTypes: ['NodeAdded', 'EdgeAdded']})).toEqual(['cim.graph.*.*.*'])
    expect(replayFilters({subjects: ['cim.a.>', 'cim.b.>', 'cim.a.>']})).toEqual(['cim.a.>', 'cim.b.>'])
  })

  it('refuses mixing --subject with the shortcuts, and bad tokens', () => {
    expect(() => replayFilters({subjects: ['cim.>'], eventTypes: ['X']})).toThrow(/cannot be combined/)
    expect(() => replayFilters({aggregateType: 'a.b'})).toThrow(/invalid --aggregate-type/)
    expect(() => replayFilters({eventTypes: ['*']})).toThrow(/invalid --event-type/)
    expect(() => replayFilters({domain: 'x y'})).toThrow(/invalid --domain/)
  })
})

describe('clientMatcher', () => {
  it('matches filters and event types', () => {
    const m = clientMatcher(['cim.graph.>', 'cim.agent.*.*.*'], ['NodeAdded', 'AgentStarted'])
    expect(m('cim.graph.node.1.NodeAdded')).toBe(true)
    expect(m('cim.graph.node.1.NodeRemoved')).toBe(false)
    expect(m('cim.agent.agent.1.AgentStarted')).toBe(true)
    expect(m('cim.workflow.wf.1.NodeAdded')).toBe(false)
    expect(clientMatcher([])('anything.at.all')).toBe(true)
  })
})

describe('subject maps and targets', () => {
  it('replaces leading tokens, first map wins, then the prefix', () => {
    const maps = [parseSubjectMap('cim.graph=g'), parseSubjectMap('cim=pitr')]
    expect(targetSubject('cim.graph.node.1.X', {maps})).toBe('g.node.1.X')
    expect(targetSubject('cim.agent.a.1.X', {maps})).toBe('pitr.agent.a.1.X')
    expect(targetSubject('cimx.a', {maps})).toBe('cimx.a')
    expect(targetSubject('cim.a.>', {maps: [], prefix: 'rebuild'})).toBe('rebuild.cim.a.>')
    expect(targetSubject('cim.a.b', {maps, prefix: 'r'})).toBe('r.pitr.a.b')
  })

  it('refuses malformed maps', () => {
    for (const bad of ['cim', 'cim=', '=x', 'cim.*=x', 'a=b=c', 'a..b=c']) expect(() => parseSubjectMap(bad), bad).toThrow(/invalid --subject-map/)
  })
})

describe('replayHeaders', () => {
  it('keeps the headers, moves the event id, adds the replay headers, drops expectations', () => {
    const out = replayHeaders({'Nats-Msg-Id': ['ev-1'], 'Nats-Expected-Stream': ['EVENTS'], 'Cim-Correlation': ['c1', 'c2']}, 'rp-1', 'EVENTS', 42)
    expect(Object.fromEntries(out)).toEqual({
      'Cim-Replay-Original-Msg-Id': ['ev-1'],
      'Cim-Correlation': ['c1', 'c2'],
      'Cim-Replay-Id': ['rp-1'],
      'Cim-Replay-Source': ['EVENTS:42'],
      'Nats-Msg-Id': ['rp-1:42'],
    })
  })

  it('a replay of a replay replaces the replay headers', () => {
    const first = Object.fromEntries(replayHeaders({'Nats-Msg-Id': ['ev-1']}, 'rp-1', 'EVENTS', 1))
    const second = Object.fromEntries(replayHeaders(first, 'rp-2', 'PITR', 7))
    expect(second).toEqual({'Cim-Replay-Original-Msg-Id': ['rp-1:1'], 'Cim-Replay-Id': ['rp-2'], 'Cim-Replay-Source': ['PITR:7'], 'Nats-Msg-Id': ['rp-2:7']})
  })
})

describe('ids, times, parts', () => {
  it('makes valid, sortable replay ids and checks given ones', () => {
    const id = newReplayId(new Date('2026-11-22T03:04:05Z'))
    expect(id).toMatch(/^rp-20261122T030405-[0-9a-f]{4}$/)
    expect(() => checkReplayId(id)).not.toThrow()
    expect(() => checkReplayId('a:b')).toThrow(/invalid replay id/)
    expect(() => checkReplayId('../x')).toThrow(/invalid replay id/)
  })

  it('splits CIM subjects', () => {
    expect(cimParts('cim.graph.node.1.NodeAdded')).toEqual({domain: 'graph', eventType: 'NodeAdded'})
    expect(cimParts('other.x')).toEqual({domain: '(other)', eventType: 'x'})
  })
})
