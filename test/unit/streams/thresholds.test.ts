import {describe, expect, it} from 'vitest'

import {consumerOutcome} from '../../../src/lib/health/checks/consumers.js'
import {streamOutcome} from '../../../src/lib/health/checks/streams.js'
import {consumerReport} from '../../../src/lib/streams/consumer-report.js'
import {measureConsumer} from '../../../src/lib/streams/lag.js'
import {consumerThresholdsFor, judgeConsumer} from '../../../src/lib/streams/thresholds.js'
import {consumer, fakeReader, NOW, secondsAgo, stream, thresholdSet} from './fixtures.js'

const PENDING_KEY = 'io.nats.monitor.unprocessed-critical'
const DELIVERY_KEY = 'io.nats.monitor.last-delivery-critical'
const fromContext = thresholdSet({lagWarn: 10, lagCrit: 60, stallAfter: 300}, 'context')
const withMetadata = (thresholds: {unprocessedCritical?: number; lastDeliveryCritical?: number}, invalid: Array<{key: string; value: string; expected: string}> = []) => ({monitor: {thresholds, invalid}})

describe('threshold precedence: flag > metadata on the object > context > default', () => {
  it('metadata replaces the context threshold it maps to, naming its key; the others keep their source', () => {
    const set = consumerThresholdsFor(fromContext, withMetadata({unprocessedCritical: 5, lastDeliveryCritical: 120}).monitor)
    expect(set.values).toEqual({lagWarn: 10, lagCrit: 60, stallAfter: 120, pendingCrit: 5})
    expect(set.sources).toEqual({lagWarn: 'context', lagCrit: 'context', stallAfter: 'metadata', pendingCrit: 'metadata'})
    expect(set.metadataKeys).toEqual({stallAfter: DELIVERY_KEY, pendingCrit: PENDING_KEY})
  })

  it("a flag of the command wins over the object's metadata", () => {
    const flags = {...fromContext, values: {...fromContext.values, pendingCrit: 1000}, sources: {...fromContext.sources, pendingCrit: 'flag' as const}}
    const set = consumerThresholdsFor(flags, withMetadata({unprocessedCritical: 5}).monitor)
    expect(set.values.pendingCrit).toBe(1000)
    expect(set.sources.pendingCrit).toBe('flag')
  })

  it('no metadata (nats-server 2.9, or none set) leaves the base thresholds as they are', () => {
    expect(consumerThresholdsFor(fromContext, undefined)).toEqual(fromContext)
  })
})

describe('judgeConsumer', () => {
  const busy = consumer({unprocessed: 12, ackPending: 0})
  const measures = measureConsumer(busy, {messages: 1000}, secondsAgo(1), NOW)

  it('judges by the metadata threshold and says so in the reason', () => {
    expect(judgeConsumer(busy, measures, fromContext).verdict.status).toBe('OK')
    const {verdict} = judgeConsumer({...busy, ...withMetadata({unprocessedCritical: 5})}, measures, fromContext)
    expect(verdict).toEqual({status: 'CRITICAL', stalled: false, reasons: [`pending 12 >= 5 (metadata)`]})
  })

  it('an unreadable value is a WARNING naming the object, key and value; the context threshold applies', () => {
    const idle = consumer({unprocessed: 3, delivered: {streamSeq: 10, consumerSeq: 10, lastActive: secondsAgo(200)}})
    const bad = {...idle, ...withMetadata({}, [{key: DELIVERY_KEY, value: '300', expected: 'a duration such as 30s, 5m, 1h30m or 1d'}])}
    const {verdict, thresholds} = judgeConsumer(bad, measureConsumer(bad, {messages: 13}, secondsAgo(1), NOW), fromContext)
    expect(thresholds.values.stallAfter).toBe(300)
    expect(verdict.status).toBe('WARNING')
    expect(verdict.reasons).toEqual([
      `invalid metadata on consumer EVENTS > graph-projection: ${DELIVERY_KEY}="300" is not a duration such as 30s, 5m, 1h30m or 1d; stall after 5m (context) applies`,
    ])
  })

  it('an unreadable pending threshold leaves pending unchecked, as without it', () => {
    const bad = {...busy, ...withMetadata({}, [{key: PENDING_KEY, value: 'many', expected: 'a whole number'}])}
    expect(judgeConsumer(bad, measures, fromContext).verdict.reasons).toEqual([
      `invalid metadata on consumer EVENTS > graph-projection: ${PENDING_KEY}="many" is not a whole number; pending crit stays off`,
    ])
  })
})

describe('health-check consumers check and consumer report show the source', () => {
  it('health-check: the summary names the metadata thresholds and the crossed one; --json details carry value and source', () => {
    const out = consumerOutcome({...consumer({unprocessed: 12}), ...withMetadata({unprocessedCritical: 5})}, {messages: 1000}, secondsAgo(1), NOW, fromContext)
    expect(out.status).toBe('CRITICAL')
    expect(out.summary).toContain('pending 12 >= 5 (metadata)')
    expect(out.summary).toContain('own thresholds: pending crit 5 (metadata)')
    expect(out.details?.thresholds).toEqual({
      lagWarn: {value: 10, source: 'context'},
      lagCrit: {value: 60, source: 'context'},
      pendingCrit: {value: 5, source: 'metadata', key: PENDING_KEY},
      stallAfter: {value: 300, source: 'context'},
    })
  })

  it('consumer report: each row is judged by its own thresholds, with their sources', async () => {
    const {reader} = fakeReader({
      streams: [stream()],
      consumers: [consumer({name: 'strict', unprocessed: 12, ...withMetadata({unprocessedCritical: 5})}), consumer({name: 'plain', unprocessed: 12})],
      oldest: {strict: secondsAgo(1), plain: secondsAgo(1)},
    })
    const report = await consumerReport(reader, {stream: 'EVENTS', thresholds: fromContext, sort: 'name', now: () => NOW})
    const [plain, strict] = report.consumers
    expect([plain.name, plain.status, plain.thresholds.pendingCrit]).toEqual(['plain', 'OK', undefined])
    expect(strict).toMatchObject({status: 'CRITICAL', reasons: ['pending 12 >= 5 (metadata)'], thresholds: {pendingCrit: {value: 5, source: 'metadata', key: PENDING_KEY}, lagCrit: {value: 60, source: 'context'}}})
    expect(report.thresholdSources).toEqual({lagWarn: 'context', lagCrit: 'context', stallAfter: 'context'})
  })
})

describe('health-check streams check: natscli stream keys on mirrors and sources', () => {
  const mirrored = (monitor: NonNullable<Parameters<typeof stream>[0]>['monitor']) =>
    stream({name: 'EVENTS_DR', sources: [{name: 'EVENTS', kind: 'mirror', lag: 40, activeSeconds: 2}], monitor})

  it('lag-critical and seen-critical make the mirror CRITICAL at or above them, naming the source of the threshold', () => {
    expect(streamOutcome(mirrored(undefined)).status).toBe('OK')
    const lagging = streamOutcome(mirrored({thresholds: {lagCritical: 40}, invalid: []}))
    expect(lagging.status).toBe('CRITICAL')
    expect(lagging.summary).toContain('mirror EVENTS: lag 40 >= 40 (metadata)')
    expect(lagging.details).toEqual({thresholds: {lagCritical: {value: 40, source: 'metadata', key: 'io.nats.monitor.lag-critical'}}})
    expect(streamOutcome(mirrored({thresholds: {lagCritical: 41, seenCritical: 3}, invalid: []})).status).toBe('OK')
    expect(streamOutcome(mirrored({thresholds: {seenCritical: 2}, invalid: []})).summary).toContain('mirror EVENTS: last active 2.0s ago >= 2.0s (metadata)')
  })

  it('an unreadable stream value is a WARNING naming the stream, key and value', () => {
    const out = streamOutcome(mirrored({thresholds: {}, invalid: [{key: 'io.nats.monitor.lag-critical', value: '-3', expected: 'a whole number without sign'}]}))
    expect(out.status).toBe('WARNING')
    expect(out.summary).toContain('invalid metadata on stream EVENTS_DR: io.nats.monitor.lag-critical="-3" is not a whole number without sign; ignored')
  })
})
