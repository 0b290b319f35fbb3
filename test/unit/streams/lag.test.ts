import {describe, expect, it} from 'vitest'

import {consumerVerdict, measureConsumer, unprocessedPercent} from '../../../src/lib/streams/lag.js'
import {consumer, NOW, secondsAgo} from './fixtures.js'

const thresholds = {lagWarn: 10, lagCrit: 60, stallAfter: 300}

describe('measureConsumer', () => {
  it('lag is now minus the oldest unacked time; pending is unprocessed + ack pending', () => {
    const m = measureConsumer(consumer({unprocessed: 40, ackPending: 12, ackFloor: {streamSeq: 10, consumerSeq: 10, lastActive: secondsAgo(7)}}), {messages: 400}, secondsAgo(90), NOW)
    expect(m).toEqual({lagSeconds: 90, pending: 52, unprocessedPercent: 10, idleSeconds: 2, lastDeliverySeconds: 2, lastAckSeconds: 7})
  })

  it('is 0 lag when nothing is outstanding; idle counts from creation when nothing was delivered', () => {
    const m = measureConsumer(consumer({delivered: {streamSeq: 0, consumerSeq: 0}, ackFloor: {streamSeq: 0, consumerSeq: 0}, created: secondsAgo(50)}), {messages: 0}, undefined, NOW)
    expect(m).toMatchObject({lagSeconds: 0, pending: 0, unprocessedPercent: 0, idleSeconds: 50, lastDeliverySeconds: undefined, lastAckSeconds: undefined})
  })

  it('unprocessed % is floored and capped at 100 (natscli)', () => {
    expect(unprocessedPercent(1, 3)).toBe(33)
    expect(unprocessedPercent(500, 400)).toBe(100)
    expect(unprocessedPercent(5, 0)).toBe(0)
  })
})

describe('consumerVerdict', () => {
  const base = {pending: 5, unprocessedPercent: 1, idleSeconds: 1}
  it.each([
    [5, 'OK'],
    [10, 'WARNING'],
    [59.9, 'WARNING'],
    [60, 'CRITICAL'],
  ])('lag %ss is %s', (lagSeconds, status) => {
    expect(consumerVerdict({...base, lagSeconds}, thresholds).status).toBe(status)
  })

  it('pending thresholds apply only when given, and name the threshold crossed', () => {
    expect(consumerVerdict({...base, pending: 5000, lagSeconds: 1}, thresholds).status).toBe('OK')
    const warn = consumerVerdict({...base, pending: 1500, lagSeconds: 1}, {...thresholds, pendingWarn: 1000, pendingCrit: 10_000})
    expect(warn).toEqual({status: 'WARNING', stalled: false, reasons: ['pending 1500 >= 1000']})
    const crit = consumerVerdict({...base, pending: 10_000, lagSeconds: 61}, {...thresholds, pendingWarn: 1000, pendingCrit: 10_000})
    expect(crit).toEqual({status: 'CRITICAL', stalled: false, reasons: ['lag 1m1s >= 1m', 'pending 10000 >= 10000']})
  })

  it('work pending with no delivery for stallAfter is stalled: CRITICAL', () => {
    expect(consumerVerdict({...base, lagSeconds: 1, idleSeconds: 300}, thresholds)).toMatchObject({status: 'CRITICAL', stalled: true})
    expect(consumerVerdict({...base, pending: 0, lagSeconds: 0, idleSeconds: 9999}, thresholds)).toMatchObject({status: 'OK', stalled: false})
  })

  it('says how long since the last delivery, or that there never was one with the age of the pending work, not a time since creation', () => {
    const delivered = consumerVerdict({...base, lagSeconds: 1, idleSeconds: 361, lastDeliverySeconds: 361}, thresholds, {stallAfter: 'default'})
    expect(delivered.reasons).toEqual(['stalled: no delivery for 6m1s >= 5m (default)'])
    const never = consumerVerdict({...base, pending: 12, lagSeconds: 7200, idleSeconds: 361}, {...thresholds, lagCrit: 86_400}, {stallAfter: 'default'})
    expect(never).toEqual({status: 'CRITICAL', stalled: true, reasons: ['lag 2h >= 10s', 'never delivered; 12 pending for 2h, created 6m1s ago >= 5m (default)']})
    expect(never.reasons.join()).not.toContain('no delivery for')
  })

  it('unknown lag is UNKNOWN, but a crossed threshold still wins as CRITICAL', () => {
    expect(consumerVerdict({...base}, thresholds)).toEqual({status: 'UNKNOWN', stalled: false, reasons: ['lag unknown']})
    expect(consumerVerdict({...base, idleSeconds: 301}, thresholds).status).toBe('CRITICAL')
  })
})
