import {describe, expect, it} from 'vitest'

import type {ConsumerSummary} from '../../../src/lib/adapters/nats/jetstream.js'
import {DEFAULTS} from '../../../src/lib/core/context-types.js'
import {UnreachableError} from '../../../src/lib/core/errors.js'
import {consumerOutcome} from '../../../src/lib/health/checks/consumers.js'
import {failedCheck} from '../../../src/lib/core/check/deadline.js'
import {summarize} from '../../../src/lib/core/check/result.js'
import {worstStatus} from '../../../src/lib/core/check/status.js'
import {healthScore} from '../../../src/lib/health/score.js'
import {thresholdSet} from '../streams/fixtures.js'

const now = new Date('2026-11-22T03:00:00Z')
const consumer = (over: Partial<ConsumerSummary> = {}): ConsumerSummary => ({
  stream: 'EVENTS',
  name: 'graph-projection',
  durable: true,
  mode: 'pull',
  ackPolicy: 'explicit',
  filterSubject: 'cim.graph.>',
  unprocessed: 0,
  ackPending: 0,
  redelivered: 0,
  waiting: 0,
  delivered: {streamSeq: 10, consumerSeq: 10, lastActive: new Date(now.getTime() - 2000)},
  ackFloor: {streamSeq: 10, consumerSeq: 10},
  created: new Date('2026-11-01T00:00:00Z'),
  ...over,
})
const t = thresholdSet({lagWarn: DEFAULTS.thresholds.lagWarn, lagCrit: DEFAULTS.thresholds.lagCrit, stallAfter: DEFAULTS.thresholds.stallAfter})

describe('consumer status', () => {
  it('is OK when caught up, however long ago the last delivery', () => {
    const out = consumerOutcome(consumer({delivered: {streamSeq: 10, consumerSeq: 10, lastActive: new Date('2026-11-01T00:00:00Z')}}), {messages: 10}, undefined, now, t)
    expect(out.status).toBe('OK')
    expect(out.summary).toMatch(/^caught up/)
  })

  it.each([
    [5, 'OK'],
    [10, 'WARNING'],
    [59, 'WARNING'],
    [60, 'CRITICAL'],
  ])('lag of %ds (oldest unacked message age) is %s with the 10s/60s defaults', (seconds, status) => {
    const out = consumerOutcome(consumer({unprocessed: 4, ackPending: 1}), {messages: 100}, new Date(now.getTime() - seconds * 1000), now, t)
    expect(out.status).toBe(status)
    expect(out.metrics.find((m) => m.name === 'lag')?.value).toBe(seconds)
  })

  it('is a CRITICAL stall with pending work and no delivery for stallAfter, even with small lag thresholds not reached', () => {
    const idle = consumer({unprocessed: 3, delivered: {streamSeq: 10, consumerSeq: 10, lastActive: new Date(now.getTime() - 301_000)}})
    const out = consumerOutcome(idle, {messages: 13}, new Date(now.getTime() - 5000), now, thresholdSet({lagWarn: 3600, lagCrit: 7200, stallAfter: 300}, 'context'))
    expect(out.status).toBe('CRITICAL')
    expect(out.summary).toContain('STALLED')
    expect(out.summary).toContain('3 unprocessed (23%)')
  })

  it('a consumer that never delivered (restored, new) says so with the age of its pending work, not "no delivery for" its age', () => {
    const restored = consumer({unprocessed: 12, delivered: {streamSeq: 0, consumerSeq: 0}, ackFloor: {streamSeq: 0, consumerSeq: 0}, created: new Date(now.getTime() - 361_000)})
    const out = consumerOutcome(restored, {messages: 437}, new Date(now.getTime() - 3_600_000), now, t)
    expect(out.status).toBe('CRITICAL')
    expect(out.summary).toContain('never delivered; 12 pending for 1h')
    expect(out.summary).not.toMatch(/no delivery for|STALLED/)
  })

  it('a paused consumer (2.11+) is paused, not stalled: WARNING with the time left, however old its backlog', () => {
    const paused = consumer({unprocessed: 3, delivered: {streamSeq: 10, consumerSeq: 10, lastActive: new Date(now.getTime() - 3600_000)}, paused: {until: new Date(now.getTime() + 7200_000), remainingSeconds: 7200}})
    const out = consumerOutcome(paused, {messages: 13}, new Date(now.getTime() - 3600_000), now, t)
    expect(out.status).toBe('WARNING')
    expect(out.summary).toMatch(/^PAUSED for 2h more, /)
    expect(out.summary).not.toContain('STALLED')
    expect(out.details).toMatchObject({stalled: false, pausedUntil: '2026-11-22T05:00:00.000Z'})
  })
})

describe('status arithmetic', () => {
  it('orders CRITICAL > UNKNOWN > WARNING > OK', () => {
    expect(worstStatus(['OK', 'WARNING', 'UNKNOWN'])).toBe('UNKNOWN')
    expect(worstStatus(['UNKNOWN', 'CRITICAL'])).toBe('CRITICAL')
    expect(worstStatus([])).toBe('OK')
  })

  it('summarizes the worst checks first', () => {
    const report = summarize(
      [
        {name: 'a', component: 'x', status: 'WARNING', summary: 'meh', metrics: []},
        {name: 'b', component: 'x', status: 'CRITICAL', summary: 'down', metrics: []},
        {name: 'c', component: 'x', status: 'OK', summary: 'fine', metrics: []},
      ],
      0.1,
    )
    expect(report.status).toBe('CRITICAL')
    expect(report.summary).toBe('b: down; a: meh')
  })

  it('maps an unreachable component to CRITICAL with its address, and other failures to UNKNOWN', () => {
    const down = failedCheck({name: 'nats', component: 'nats'}, new UnreachableError('nats', 'nats://n1:4222', 'connection refused'))
    expect(down).toMatchObject({status: 'CRITICAL', summary: 'cannot reach nats at nats://n1:4222: connection refused'})
    expect(failedCheck({name: 'disk', component: 'system'}, new Error('EACCES: permission denied')).status).toBe('UNKNOWN')
  })
})

describe('health score', () => {
  const weights = DEFAULTS.scoreWeights
  const all = (status: 'OK' | 'CRITICAL') => [
    {component: 'consumers', name: 'consumer:a', status},
    {component: 'nats', name: 'nats', status: 'OK' as const},
    {component: 'system', name: 'memory', status: 'OK' as const},
    {component: 'system', name: 'disk:/', status: 'OK' as const},
  ]

  it('is 100 when all is well and weighs groups like the seed composite', () => {
    expect(healthScore(all('OK'), weights).score).toBe(100)
    // events weigh 40 of 100 here: a dead event pipeline costs 40 points.
    expect(healthScore(all('CRITICAL'), weights).score).toBe(60)
  })

  it('reads the same checks as the verdict: a CRITICAL check anywhere costs points', () => {
    // A critical alert firing (monitoring) and a CPU overload: the verdict is CRITICAL, so the score is not 100.
    for (const bad of [{component: 'alertmanager', name: 'alertmanager'}, {component: 'system', name: 'cpu'}, {component: 'gpu', name: 'gpu:0'}]) {
      const checks = [...all('OK'), {...bad, status: 'CRITICAL' as const}]
      expect(worstStatus(checks.map((c) => c.status))).toBe('CRITICAL')
      expect(healthScore(checks, weights).score, bad.name).toBeLessThan(100)
    }
    expect(healthScore([...all('OK'), {component: 'alertmanager', name: 'alertmanager', status: 'CRITICAL'}], weights).score).toBe(91)
  })

  it('is never 100 with a check not OK, however many checks are OK', () => {
    const many = Array.from({length: 400}, (_, i) => ({component: 'consumers', name: `consumer:${i}`, status: 'OK' as const}))
    expect(healthScore([...many, {component: 'consumers', name: 'consumer:late', status: 'WARNING'}], weights).score).toBe(99)
  })

  it('counts a group the weights do not name', () => {
    expect(healthScore([{component: 'prometheus', name: 'prometheus', status: 'WARNING'}], {}).score).toBe(60)
  })
})
