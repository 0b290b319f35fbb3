import {describe, expect, it} from 'vitest'

import {ApiError} from '../../../src/lib/core/errors.js'
import {consumerInfo, consumerReport, reportExitCode, sortConsumers} from '../../../src/lib/streams/consumer-report.js'
import {NotFoundError} from '../../../src/lib/streams/errors.js'
import {consumer, fakeReader, NOW, secondsAgo, stream, thresholdSet} from './fixtures.js'

const thresholds = thresholdSet({lagWarn: 10, lagCrit: 60, stallAfter: 300})
const now = () => NOW

function seeded() {
  return fakeReader({
    streams: [stream(), stream({name: 'CIM_OPS', subjects: ['cim.ops.>'], messages: 10, lastSeq: 10})],
    consumers: [
      consumer({name: 'graph-projection'}),
      consumer({name: 'workflow-analytics', unprocessed: 44, ackPending: 12, ackFloor: {streamSeq: 301, consumerSeq: 62, lastActive: secondsAgo(5)}}),
      consumer({name: 'agent-projection', unprocessed: 3, ackFloor: {streamSeq: 990, consumerSeq: 500}}),
      consumer({stream: 'CIM_OPS', name: 'ops-audit', unprocessed: 2000}),
    ],
    oldest: {'workflow-analytics': secondsAgo(3600), 'agent-projection': secondsAgo(4), 'ops-audit': secondsAgo(20)},
  })
}

describe('consumerReport', () => {
  it('one row per consumer with lag from the oldest unacked message, status and summary; worst status decides', async () => {
    const {reader} = seeded()
    const report = await consumerReport(reader, {stream: 'EVENTS', thresholds, sort: 'lag', now})
    expect(report.consumers.map((r) => [r.name, r.lagSeconds, r.pending, r.status])).toEqual([
      ['workflow-analytics', 3600, 56, 'CRITICAL'],
      ['agent-projection', 4, 3, 'OK'],
      ['graph-projection', 0, 0, 'OK'],
    ])
    const behind = report.consumers[0]
    expect(behind).toMatchObject({
      stream: 'EVENTS',
      unprocessed: 44,
      unprocessedPercent: 4,
      ackPending: 12,
      ackFloor: {streamSeq: 301, consumerSeq: 62},
      lastAckSeconds: 5,
      lastDeliverySeconds: 2,
      oldestUnacked: secondsAgo(3600).toISOString(),
      reasons: ['lag 1h >= 1m (default)'],
      cluster: null,
    })
    expect(report.status).toBe('CRITICAL')
    expect(reportExitCode(report)).toBe(2)
    expect(report.summary).toBe('3 consumers on EVENTS: 1 CRITICAL, 2 OK — workflow-analytics: lag 1h >= 1m (default)')
    expect(report.streams).toEqual([{name: 'EVENTS', messages: 1000, lastSeq: 1000, consumers: 3}])
    expect(report.checkedAt).toBe(NOW.toISOString())
  })

  it('without a stream covers every stream', async () => {
    const {reader} = seeded()
    const report = await consumerReport(reader, {thresholds: thresholdSet({lagWarn: 10, lagCrit: 60, stallAfter: 300, pendingWarn: 1000, pendingCrit: 5000}), sort: 'pending', now})
    expect(report.consumers.map((r) => `${r.stream}/${r.name}:${r.status}`)).toEqual([
      'CIM_OPS/ops-audit:WARNING',
      'EVENTS/workflow-analytics:CRITICAL',
      'EVENTS/agent-projection:OK',
      'EVENTS/graph-projection:OK',
    ])
    expect(report.summary).toMatch(/^4 consumers on 2 streams: 1 CRITICAL, 1 WARNING, 2 OK/)
  })

  it('keeps at most `concurrency` lag reads in flight', async () => {
    const many = Array.from({length: 100}, (_, i) => consumer({name: `c${String(i).padStart(3, '0')}`, unprocessed: 1}))
    const {reader, stats} = fakeReader({streams: [stream()], consumers: many, delayMs: 2})
    const report = await consumerReport(reader, {stream: 'EVENTS', thresholds, sort: 'name', concurrency: 7, now})
    expect(report.consumers).toHaveLength(100)
    expect(stats.oldestCalls).toBe(100)
    expect(stats.maxInFlight).toBe(7)
  })

  it('a consumer whose lag cannot be read is UNKNOWN with the reason; the others are still reported', async () => {
    const {reader} = fakeReader({
      streams: [stream()],
      consumers: [consumer({name: 'a', unprocessed: 1}), consumer({name: 'b', unprocessed: 1})],
      oldest: {a: new ApiError('nats', 'nats://x', 'timed out'), b: secondsAgo(1)},
    })
    const report = await consumerReport(reader, {stream: 'EVENTS', thresholds, sort: 'lag', now})
    expect(report.consumers[0]).toMatchObject({name: 'a', lagSeconds: null, status: 'UNKNOWN', reasons: ['lag unknown: nats at nats://x refused the request: timed out']})
    expect(report.consumers[1]).toMatchObject({name: 'b', status: 'OK'})
    expect(report.status).toBe('UNKNOWN')
  })

  it('when every lag read fails, the error itself is thrown', async () => {
    const error = new ApiError('nats', 'nats://x', 'gone')
    const {reader} = fakeReader({streams: [stream()], consumers: [consumer({unprocessed: 1})], oldest: {'graph-projection': error}})
    await expect(consumerReport(reader, {stream: 'EVENTS', thresholds, sort: 'lag', now})).rejects.toBe(error)
  })

  it('an unknown stream is NotFoundError (exit 2) naming the streams that exist', async () => {
    const {reader} = seeded()
    const error = await consumerReport(reader, {stream: 'EVENT', thresholds, sort: 'lag', now}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(NotFoundError)
    expect(error).toMatchObject({exit: 2, code: 'NOT_FOUND', message: 'stream EVENT not found: the streams are CIM_OPS, EVENTS'})
  })

  it('no consumers is OK', async () => {
    const {reader} = fakeReader({streams: [stream()], consumers: []})
    const report = await consumerReport(reader, {stream: 'EVENTS', thresholds, sort: 'lag', now})
    expect(report).toMatchObject({status: 'OK', summary: 'no consumers on EVENTS', consumers: []})
  })

  it("the server's own clock (ts, servers >= 2.10) is used for lag when it sends one", async () => {
    const serverNow = new Date(NOW.getTime() + 30_000)
    const {reader} = fakeReader({streams: [stream()], consumers: [consumer({unprocessed: 1, serverTime: serverNow})], oldest: {'graph-projection': NOW}})
    const report = await consumerReport(reader, {stream: 'EVENTS', thresholds, sort: 'lag', now})
    expect(report.consumers[0].lagSeconds).toBe(30)
  })
})

describe('consumerInfo', () => {
  it('is the report row of one consumer', async () => {
    const {reader} = seeded()
    const row = await consumerInfo(reader, 'EVENTS', 'workflow-analytics', {thresholds, now})
    expect(row).toMatchObject({name: 'workflow-analytics', lagSeconds: 3600, status: 'CRITICAL'})
  })

  it('an unknown consumer names the consumers of the stream', async () => {
    const {reader} = seeded()
    await expect(consumerInfo(reader, 'EVENTS', 'nope', {thresholds, now})).rejects.toMatchObject({
      exit: 2,
      message: 'consumer nope not found on stream EVENTS: the consumers of EVENTS are graph-projection, workflow-analytics, agent-projection',
    })
  })
})

describe('sortConsumers', () => {
  const row = (name: string, lagSeconds: number | null, pending: number, streamName = 'EVENTS') =>
    ({name, stream: streamName, lagSeconds, pending}) as Parameters<typeof sortConsumers>[0][number]
  const rows = [row('b', 5, 100), row('a', 5, 100), row('c', null, 1), row('d', 60, 2), row('e', 0, 0, 'A')]

  it('lag: unknown first, then oldest, then most pending, then name', () => {
    expect(sortConsumers(rows, 'lag').map((r) => r.name)).toEqual(['c', 'd', 'a', 'b', 'e'])
  })
  it('pending: most first, then lag', () => {
    expect(sortConsumers(rows, 'pending').map((r) => r.name)).toEqual(['a', 'b', 'd', 'c', 'e'])
  })
  it('name: stream then consumer', () => {
    expect(sortConsumers(rows, 'name').map((r) => r.name)).toEqual(['e', 'a', 'b', 'c', 'd'])
  })

  it('shows a paused consumer with its time left and its priority groups with the pinned client; paused is not stalled', async () => {
    const {reader} = fakeReader({
      streams: [stream()],
      consumers: [
        consumer({
          name: 'workflow-analytics',
          unprocessed: 40,
          delivered: {streamSeq: 900, consumerSeq: 900, lastActive: secondsAgo(7200)},
          paused: {until: new Date(NOW.getTime() + 600_000), remainingSeconds: 600},
          priorityPolicy: 'pinned_client',
          priorityGroups: [{group: 'jobs', pinnedClientId: 'pin-1', pinnedSince: secondsAgo(60)}],
        }),
      ],
      oldest: {'workflow-analytics': secondsAgo(7200)},
    })
    const [row] = (await consumerReport(reader, {stream: 'EVENTS', thresholds, sort: 'lag', now})).consumers
    expect(row).toMatchObject({status: 'WARNING', stalled: false, reasons: ['paused (10m left), 40 pending'], paused: {until: new Date(NOW.getTime() + 600_000).toISOString(), remainingSeconds: 600}})
    expect(row.priorityPolicy).toBe('pinned_client')
    expect(row.priorityGroups).toEqual([{group: 'jobs', pinnedClientId: 'pin-1', pinnedSince: secondsAgo(60).toISOString()}])
  })

  it('an offline stream or consumer the server names is a WARNING with its reason, never silently absent', async () => {
    const {reader} = fakeReader({
      streams: [stream()],
      consumers: [consumer()],
      unlistedStreams: [{name: 'ORDERS', state: 'offline', reason: 'unsupported - required API level: 6, current API level: 5'}],
      unlistedConsumers: {EVENTS: [{name: 'billing-ledger', state: 'missing', reason: 'did not answer the listing in time'}]},
    })
    const report = await consumerReport(reader, {thresholds, sort: 'name', now})
    expect(report.status).toBe('WARNING')
    expect(report.unlisted.map((u) => [u.kind, u.stream, u.name, u.state])).toEqual([
      ['stream', 'ORDERS', 'ORDERS', 'offline'],
      ['consumer', 'EVENTS', 'billing-ledger', 'missing'],
    ])
    expect(report.summary).toContain('stream ORDERS is offline: unsupported - required API level: 6, current API level: 5')
    expect(report.summary).toContain('consumer EVENTS > billing-ledger is missing')
  })
})

describe('consumerReport and ephemeral consumers', () => {
  const reader = () =>
    fakeReader({
      streams: [stream()],
      consumers: [consumer({name: 'graph-projection'}), consumer({name: 'cimops_monitor_a1b2', durable: false, unprocessed: 900})],
      oldest: {cimops_monitor_a1b2: secondsAgo(3600)},
    }).reader

  it('by default reports the durable ones only: the ephemeral is counted, not judged', async () => {
    const report = await consumerReport(reader(), {stream: 'EVENTS', thresholds, sort: 'name', now})
    expect(report.consumers.map((r) => [r.name, r.ephemeral])).toEqual([['graph-projection', false]])
    expect(report.ephemeralHidden).toBe(1)
    expect(report.status).toBe('OK')
  })

  it('with ephemeral: true reports and judges them too, marked', async () => {
    const report = await consumerReport(reader(), {stream: 'EVENTS', thresholds, sort: 'name', now, ephemeral: true})
    expect(report.consumers.map((r) => [r.name, r.ephemeral])).toEqual([
      ['cimops_monitor_a1b2', true],
      ['graph-projection', false],
    ])
    expect(report.ephemeralHidden).toBe(0)
    expect(report.status).toBe('CRITICAL')
  })
})
