import {describe, expect, it} from 'vitest'

import {failedShare, judgeDomain, judgeSilence, projectionState, summarizeDomains, type JudgeInput} from '../../../src/lib/domains/judge.js'
import {DEFAULT_DOMAIN_THRESHOLDS, type ProjectionHealth} from '../../../src/lib/domains/model.js'
import {countsOf} from '../../../src/lib/domains/service.js'

const NOW = new Date('2026-11-22T08:00:00Z')
const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000)
const window = (seconds: number, count: number) => ({seconds, count, overLimit: false, limit: 1000, ratePerSecond: count / seconds})

function input(overrides: Partial<JudgeInput> = {}): JudgeInput {
  return {
    domain: 'graph',
    events: {stored: 100, lastFiveMinutes: window(300, 30), lastHour: window(3600, 100), prometheus: {ratePerSecond: null, lastHour: null, failedLastHour: null}, oldestAt: null, newestAt: null, newestAgeSeconds: 5},
    silence: {silent: false, typicalGapSeconds: 10, silentAfterSeconds: 900},
    failed: {stored: 0, byType: {}, lastHour: null, shareLastHour: null},
    projections: [],
    storage: {bytes: 1000, estimated: true, share: 0.5},
    alerts: [],
    ...overrides,
  }
}

const projection = (state: ProjectionHealth['state'], status: ProjectionHealth['status']): ProjectionHealth => ({consumer: `graph-${state}`, projection: state, state, status, lagSeconds: 3, pending: 4, reasons: [`${state} reason`]})

describe('projectionState', () => {
  it('paused before stalled before unknown lag before behind', () => {
    const row = {paused: null, stalled: false, lagSeconds: 0, status: 'OK' as const}
    expect(projectionState(row)).toBe('ok')
    expect(projectionState({...row, lagSeconds: 20, status: 'WARNING'})).toBe('behind')
    expect(projectionState({...row, lagSeconds: null, status: 'UNKNOWN'})).toBe('unknown')
    expect(projectionState({...row, stalled: true, status: 'CRITICAL'})).toBe('stalled')
    expect(projectionState({...row, paused: {until: null, remainingSeconds: null}, stalled: false, status: 'WARNING'})).toBe('paused')
  })
})

describe('judgeSilence', () => {
  const rule = {silenceFactor: 10, silenceMinSeconds: 60}
  it('the usual gap is the mean over the stored events; silent past factor × gap and the minimum', () => {
    // 11 events over 100 s: one every 10 s; silent from 100 s.
    const events = {stored: 11, oldestAt: secondsAgo(200), newestAt: secondsAgo(100)}
    expect(judgeSilence(events, NOW, rule)).toEqual({silent: true, typicalGapSeconds: 10, silentAfterSeconds: 100})
    expect(judgeSilence({...events, newestAt: secondsAgo(99.5), oldestAt: secondsAgo(199.5)}, NOW, rule).silent).toBe(false)
  })
  it('the minimum holds when the domain is usually busy', () => {
    const busy = {stored: 1001, oldestAt: secondsAgo(130), newestAt: secondsAgo(30)}
    expect(judgeSilence(busy, NOW, rule)).toMatchObject({silent: false, typicalGapSeconds: 0.1, silentAfterSeconds: 60})
    expect(judgeSilence({...busy, oldestAt: secondsAgo(160), newestAt: secondsAgo(60)}, NOW, rule).silent).toBe(true)
  })
  it('too few events, none, or counts unknown: never silent', () => {
    expect(judgeSilence({stored: 9, oldestAt: secondsAgo(1e6), newestAt: secondsAgo(1e5)}, NOW, rule)).toEqual({silent: false, typicalGapSeconds: null, silentAfterSeconds: null})
    expect(judgeSilence({stored: 0, oldestAt: undefined, newestAt: undefined}, NOW, rule).silent).toBe(false)
    expect(judgeSilence({stored: null, oldestAt: secondsAgo(10), newestAt: secondsAgo(5)}, NOW, rule).silent).toBe(false)
  })
})

describe('judgeDomain', () => {
  it('OK says the rate, the newest event and the projections', () => {
    const judged = judgeDomain(input({projections: [projection('ok', 'OK')]}), DEFAULT_DOMAIN_THRESHOLDS)
    expect(judged).toMatchObject({status: 'OK', reasons: [], summary: '0.1/s now, newest event 5s ago, 1 projection ok'})
  })
  it('Prometheus rate wins in the summary when the monitor has one', () => {
    const events = {...input().events, prometheus: {ratePerSecond: 2.5, lastHour: 9000, failedLastHour: 0}}
    expect(judgeDomain(input({events}), DEFAULT_DOMAIN_THRESHOLDS).summary).toMatch(/^2\.5\/s now/)
  })
  it('a stalled projection is CRITICAL, a paused one WARNING, worst first', () => {
    const judged = judgeDomain(input({projections: [projection('paused', 'WARNING'), projection('stalled', 'CRITICAL')]}), DEFAULT_DOMAIN_THRESHOLDS)
    expect(judged.status).toBe('CRITICAL')
    expect(judged.reasons).toEqual(['graph-stalled stalled: stalled reason', 'graph-paused paused: paused reason'])
  })
  it('silence is a WARNING naming the usual gap', () => {
    const judged = judgeDomain(input({silence: {silent: true, typicalGapSeconds: 0.02, silentAfterSeconds: 900}, events: {...input().events, newestAgeSeconds: 7200}}), DEFAULT_DOMAIN_THRESHOLDS)
    expect(judged).toMatchObject({status: 'WARNING', reasons: ['silent: newest event 2h ago, usually one every 0.1s']})
  })
  it('failed share of the last hour at the threshold is a WARNING; below it, or with no failure, is not', () => {
    const failed = (lastHour: number, all: number) => ({stored: 3, byType: {XFailed: 3}, lastHour, shareLastHour: failedShare(lastHour, all)})
    expect(judgeDomain(input({failed: failed(5, 100)}), DEFAULT_DOMAIN_THRESHOLDS)).toMatchObject({status: 'WARNING', reasons: ['5 failed events in the last hour (5% >= 5%)']})
    expect(judgeDomain(input({failed: failed(4, 100)}), DEFAULT_DOMAIN_THRESHOLDS).status).toBe('OK')
    expect(judgeDomain(input({failed: failed(0, 0)}), DEFAULT_DOMAIN_THRESHOLDS).status).toBe('OK')
  })
  it('alerts: critical CRITICAL, warning WARNING, info listed only; Alertmanager unreadable UNKNOWN', () => {
    const alert = (severity: string) => ({alertname: `A-${severity}`, severity, startsAt: NOW.toISOString()})
    expect(judgeDomain(input({alerts: [alert('info')]}), DEFAULT_DOMAIN_THRESHOLDS).status).toBe('OK')
    expect(judgeDomain(input({alerts: [alert('warning')]}), DEFAULT_DOMAIN_THRESHOLDS).status).toBe('WARNING')
    expect(judgeDomain(input({alerts: [alert('warning'), alert('critical')]}), DEFAULT_DOMAIN_THRESHOLDS)).toMatchObject({status: 'CRITICAL', reasons: ['alert A-critical firing (critical)', 'alert A-warning firing (warning)']})
    const unknown = judgeDomain(input({alertsError: 'connection refused'}), DEFAULT_DOMAIN_THRESHOLDS)
    expect(unknown).toMatchObject({status: 'UNKNOWN', reasons: ['alerts unknown: connection refused']})
    expect(unknown).not.toHaveProperty('alertsError')
  })
})

describe('countsOf', () => {
  it('the domain\'s stored events and those of a *Failed type, from per-subject counts', () => {
    const subjects = {'cim.workflow.workflow.w1.WorkflowStarted': 1, 'cim.workflow.workflow.w1.WorkflowFailed': 1, 'cim.workflow.workflow.w2.WorkflowFailed': 2, 'cim.workflowx.a.b.CFailed': 5, 'cim.graph.node.n.NodeAdded': 4}
    expect(countsOf(subjects, 'workflow')).toEqual({stored: 4, failed: 3, failedByType: {WorkflowFailed: 3}})
    expect(countsOf(subjects, 'identity')).toEqual({stored: 0, failed: 0, failedByType: {}})
  })
})

describe('summarizeDomains', () => {
  it('counts per status, then the worst domains\' first reason', () => {
    const ok = judgeDomain(input({domain: 'agent'}), DEFAULT_DOMAIN_THRESHOLDS)
    const bad = judgeDomain(input({domain: 'workflow', projections: [projection('stalled', 'CRITICAL')]}), DEFAULT_DOMAIN_THRESHOLDS)
    expect(summarizeDomains([ok, bad], 'EVENTS')).toBe('2 domains on EVENTS: 1 CRITICAL, 1 OK — workflow: graph-stalled stalled: stalled reason')
    expect(summarizeDomains([], 'EVENTS')).toMatch(/^no domains on EVENTS/)
  })
})
