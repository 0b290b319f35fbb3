import {describe, expect, it} from 'vitest'

import type {CheckResult} from '../../../src/lib/core/check/result.js'
import {judgeAlerts, judgeBackups, judgeConsumers, judgeDrills, judgeEvents, judgeGpu, unknownArea, type AlertInput} from '../../../src/lib/morning/areas.js'

const alert = (name: string, severity: string | null, state = 'active', labels: Record<string, string> = {}): AlertInput => ({
  alertname: name,
  severity,
  state,
  labels: {alertname: name, ...(severity ? {severity} : {}), ...labels},
  annotations: {summary: `${name} summary`},
  startsAt: '2026-11-22T02:00:00Z',
  fingerprint: name,
  runbook: name === 'HighEventProcessingLag' ? {source: 'runbooks', name: 'high-event-lag'} : null,
})

const consumerCheck = (name: string, status: CheckResult['status'], lag: number, unprocessed: number, ackPending: number, stalled = false): CheckResult => ({
  name: `consumer:${name}`,
  component: 'consumers',
  status,
  summary: `${name} summary`,
  metrics: [
    {name: 'lag', value: lag, unit: 's'},
    {name: 'unprocessed', value: unprocessed},
    {name: 'ack_pending', value: ackPending},
  ],
  details: {stream: 'EVENTS', stalled},
})

describe('morning areas', () => {
  it('alerts: firing critical is CRITICAL, warning WARNING; silenced ones are counted, not judged', () => {
    const area = judgeAlerts([alert('Info', 'info'), alert('HighEventProcessingLag', 'warning', 'active', {domain: 'workflow'}), alert('Muted', 'critical', 'silenced')], [
      {alertname: 'DiskSpaceLow', labels: {}, from: '2026-11-21T22:00:00Z', to: '2026-11-21T23:00:00Z', stillFiring: false, durationSeconds: 3600},
    ])
    expect(area.status).toBe('WARNING')
    expect(area.summary).toBe('2 firing (1 warning, 1 info); 1 episode resolved in the window; 1 silenced or inhibited')
    expect(area.active[0]).toEqual({alertname: 'HighEventProcessingLag', severity: 'warning', labels: {severity: 'warning', domain: 'workflow'}, summary: 'HighEventProcessingLag summary', startsAt: '2026-11-22T02:00:00Z', runbook: 'high-event-lag'})
    expect(judgeAlerts([alert('X', 'critical')], {error: 'prometheus down'})).toMatchObject({status: 'CRITICAL', historyError: 'prometheus down', summary: '1 firing (1 critical); history unavailable'})
    expect(judgeAlerts([], [])).toMatchObject({status: 'OK', summary: 'nothing firing; 0 episodes resolved in the window'})
  })

  it('events: no event at all in the window is a warning', () => {
    expect(judgeEvents({source: 'jetstream', stream: 'EVENTS', domains: [{domain: 'graph', ratePerSecond: null, windowCount: null, stored: 5}], windowCount: 0, ratePerSecond: 0, windowSeconds: 43200})).toMatchObject({
      status: 'WARNING',
      summary: 'no events in the last 12h on EVENTS',
    })
    expect(judgeEvents({source: 'prometheus', domains: [{domain: 'a', ratePerSecond: 2.5, windowCount: 90000}, {domain: 'b', ratePerSecond: 0.01, windowCount: 400}], windowCount: 90400, ratePerSecond: 2.51, windowSeconds: 43200})).toMatchObject({
      status: 'OK',
      summary: '90,400 events in 12h, 2.5/s now; 2 domains',
    })
  })

  it('consumers: worst first, with the backlog trend since the previous check', () => {
    const area = judgeConsumers(
      [consumerCheck('graph-projection', 'OK', 0, 0, 0), consumerCheck('workflow-analytics', 'WARNING', 75, 40, 12), {name: 'cpu', component: 'system', status: 'CRITICAL', summary: '', metrics: []}],
      {at: '2026-11-21T08:00:00Z', pending: {'EVENTS/workflow-analytics': 30, 'EVENTS/graph-projection': 0}},
    )
    expect(area.status).toBe('WARNING')
    expect(area.consumers.map((c) => [c.name, c.pending, c.trend?.direction])).toEqual([
      ['workflow-analytics', 52, 'growing'],
      ['graph-projection', 0, 'steady'],
    ])
    expect(area.summary).toBe('1 of 2 consumers behind: workflow-analytics lag 1m15s, 52 pending, backlog growing (+22 since the last check)')
    expect(judgeConsumers([consumerCheck('a', 'OK', 0, 0, 0)], undefined)).toMatchObject({status: 'OK', summary: 'all 1 consumer within thresholds'})
    expect(judgeConsumers([{name: 'consumers', component: 'consumers', status: 'CRITICAL', summary: 'stream EVENTS does not exist, so no projection can consume', metrics: []}], undefined)).toMatchObject({
      status: 'CRITICAL',
      summary: 'stream EVENTS does not exist, so no projection can consume',
    })
  })

  it('gpu: a node not active, or unhealthy, needs a look', () => {
    expect(judgeGpu({status: 'OK', summary: 'no GPU on this host'}, [])).toMatchObject({status: 'OK', summary: 'no GPU on this host; no fleet registered'})
    expect(judgeGpu(undefined, [{node: 'gpu-01', state: 'active', health: 'OK'}, {node: 'gpu-02', state: 'draining', reason: 'Xid 79'}])).toMatchObject({status: 'WARNING', summary: '2 nodes, gpu-02 draining'})
    expect(judgeGpu(undefined, [{node: 'gpu-01', state: 'active', health: 'CRITICAL'}])).toMatchObject({status: 'CRITICAL', summary: '1 node, all active, unhealthy: gpu-01'})
    expect(judgeGpu({status: 'OK', summary: 'no GPU on this host'}, [], 'cannot reach nats')).toMatchObject({status: 'UNKNOWN', summary: 'no GPU on this host; fleet could not be read: cannot reach nats', error: 'cannot reach nats'})
  })

  it('backups: the newest set\'s age against warn and crit; none at all is a warning', () => {
    const set = (name: string, days: number) => ({name, path: `/b/${name}`, time: '', ageSeconds: days * 86400, streams: ['EVENTS']})
    const limits = {warnSeconds: 26 * 3600, critSeconds: 3 * 86400}
    const events = ['EVENTS']
    expect(judgeBackups('/b', [set('old', 9), set('newer', 5)], events, limits)).toMatchObject({status: 'CRITICAL', summary: 'newest set newer is 5d old (critical from 3d); 2 sets', newest: {name: 'newer'}})
    expect(judgeBackups('/b', [set('a', 1.5)], events, limits)).toMatchObject({status: 'WARNING', summary: 'newest set a is 1d12h old (warning from 1d2h); 1 set'})
    expect(judgeBackups('/b', [set('a', 0.5)], events, limits)).toMatchObject({status: 'OK'})
    expect(judgeBackups('/b', [], events, limits)).toMatchObject({status: 'WARNING', summary: 'no backup set in /b: never backed up here', sets: 0})
  })

  it('backups: each stream that matters by the newest set holding it; a fresh set of a test stream does not count', () => {
    const limits = {warnSeconds: 26 * 3600, critSeconds: 3 * 86400}
    const sets = [
      {name: 'test-only', path: '/b/test-only', time: '', ageSeconds: 600, streams: ['TEST']},
      {name: 'nightly', path: '/b/nightly', time: '', ageSeconds: 4 * 86400, streams: ['EVENTS']},
    ]
    expect(judgeBackups('/b', sets, ['EVENTS', 'CIM_OPS'], limits)).toMatchObject({
      status: 'CRITICAL',
      summary: 'EVENTS last in nightly, 4d old (critical from 3d); CIM_OPS never backed up here; 2 sets',
      streams: [
        {stream: 'EVENTS', status: 'CRITICAL', set: 'nightly'},
        {stream: 'CIM_OPS', status: 'WARNING'},
      ],
    })
  })

  it('drills: the last successful one within the interval; a failed last drill warns', () => {
    const warn = 35 * 86400
    const drill = (id: string, days: number, passed: boolean) => ({id, time: '', ageSeconds: days * 86400, passed})
    expect(judgeDrills([], warn)).toMatchObject({status: 'WARNING', summary: 'never drilled: no drill in the ops log'})
    expect(judgeDrills([drill('a', 40, true)], warn)).toMatchObject({status: 'WARNING', summary: 'last successful drill 40d ago (due every 35d)'})
    expect(judgeDrills([drill('a', 10, true), drill('b', 2, false)], warn)).toMatchObject({status: 'WARNING', summary: 'last successful drill 10d ago; the last one failed 2d ago'})
    expect(judgeDrills([drill('a', 10, true)], warn)).toMatchObject({status: 'OK', lastSuccessful: {id: 'a'}})
    expect(judgeDrills([drill('b', 2, false)], warn)).toMatchObject({status: 'WARNING', summary: 'no successful drill; the last one failed 2d ago'})
  })

  it('an area that cannot be read is UNKNOWN with why', () => {
    expect(unknownArea(new Error('connection refused'))).toEqual({status: 'UNKNOWN', summary: 'could not be read: connection refused', error: 'connection refused'})
  })
})
