import {describe, expect, it} from 'vitest'

import type {ConsumerReport, ConsumerRow} from '../../../src/lib/streams/consumer-report.js'
import {backlogTrend, withTrends} from '../../../src/lib/streams/rates.js'

describe('backlogTrend', () => {
  it('no rate on the first sample; caught up is ETA 0', () => {
    expect(backlogTrend(undefined, {pending: 10, at: 1000})).toEqual({pendingRate: null, etaSeconds: null})
    expect(backlogTrend(undefined, {pending: 0, at: 1000})).toEqual({pendingRate: null, etaSeconds: 0})
  })

  it('shrinking: negative rate and the time to zero at that rate', () => {
    expect(backlogTrend({pending: 1000, at: 0}, {pending: 800, at: 2000})).toEqual({pendingRate: -100, etaSeconds: 8})
  })

  it('growing or flat: no ETA', () => {
    expect(backlogTrend({pending: 100, at: 0}, {pending: 150, at: 5000})).toEqual({pendingRate: 10, etaSeconds: null})
    expect(backlogTrend({pending: 100, at: 0}, {pending: 100, at: 5000})).toEqual({pendingRate: 0, etaSeconds: null})
  })

  it('just caught up: the rate that got it there, ETA 0', () => {
    expect(backlogTrend({pending: 50, at: 0}, {pending: 0, at: 1000})).toEqual({pendingRate: -50, etaSeconds: 0})
  })
})

describe('withTrends', () => {
  /** Rows whose delivered sequence moves with `moved`, on a stream whose last sequence is `lastSeq`. */
  const report = (at: string, rows: Array<[string, number, number?]>, lastSeq = 100) =>
    ({
      checkedAt: at,
      streams: [{name: 'EVENTS', messages: lastSeq, lastSeq, consumers: rows.length}],
      consumers: rows.map(([name, pending, moved = 0]) => ({stream: 'EVENTS', name, pending, ackPending: 0, delivered: {streamSeq: moved, consumerSeq: moved}, ackFloor: {streamSeq: moved, consumerSeq: moved}}) as ConsumerRow),
    }) as ConsumerReport

  it('matches consumers by stream and name between refreshes; a new consumer has no rate yet', () => {
    const first = withTrends(undefined, report('2026-11-22T03:00:00Z', [['a', 100], ['b', 10]]))
    expect(first.consumers.map((r) => [r.pendingRate, r.etaSeconds])).toEqual([[null, null], [null, null]])
    const second = withTrends(first, report('2026-11-22T03:00:05Z', [['a', 50, 50], ['b', 20], ['c', 7]], 110))
    expect(second.consumers.map((r) => [r.name, r.pendingRate, r.etaSeconds])).toEqual([
      ['a', -10, 5],
      ['b', 2, null],
      ['c', null, null],
    ])
  })

  it('nothing delivered, acked or stored in between: no change, whatever num_pending wandered to (2.9.10)', () => {
    const first = withTrends(undefined, report('2026-11-22T03:00:00Z', [['stuck', 44, 301]]))
    const second = withTrends(first, report('2026-11-22T03:00:03Z', [['stuck', 30, 301]]))
    expect(second.consumers[0]).toMatchObject({pending: 30, pendingRate: 0, etaSeconds: null})
  })
})
