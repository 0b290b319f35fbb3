import type {ConsumerDetails, StreamSummary, UnlistedEntry} from '../../../src/lib/adapters/nats/jetstream.js'
import type {ConsumerThresholds, ThresholdSource} from '../../../src/lib/streams/lag.js'
import type {JetStreamReader} from '../../../src/lib/streams/reader.js'
import type {ConsumerThresholdSet} from '../../../src/lib/streams/thresholds.js'

export const NOW = new Date('2026-11-22T03:00:00Z')
export const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000)

export function stream(over: Partial<StreamSummary> = {}): StreamSummary {
  return {
    name: 'EVENTS',
    subjects: ['cim.graph.>'],
    storage: 'file',
    retention: 'limits',
    replicas: 1,
    allowDirect: true,
    created: new Date('2026-11-01T00:00:00Z'),
    messages: 1000,
    bytes: 100_000,
    firstSeq: 1,
    lastSeq: 1000,
    firstTime: secondsAgo(3600),
    lastTime: secondsAgo(1),
    consumers: 0,
    deleted: 0,
    apiLevel: 0,
    sources: [],
    limits: {discard: 'old'},
    ...over,
  }
}

export function consumer(over: Partial<ConsumerDetails> = {}): ConsumerDetails {
  return {
    stream: 'EVENTS',
    name: 'graph-projection',
    durable: true,
    mode: 'pull',
    ackPolicy: 'explicit',
    ackWaitSeconds: 30,
    deliverPolicy: 'all',
    filterSubject: 'cim.graph.>',
    filterSubjects: ['cim.graph.>'],
    unprocessed: 0,
    ackPending: 0,
    redelivered: 0,
    waiting: 0,
    delivered: {streamSeq: 1000, consumerSeq: 1000, lastActive: secondsAgo(2)},
    ackFloor: {streamSeq: 1000, consumerSeq: 1000, lastActive: secondsAgo(2)},
    created: new Date('2026-11-01T00:00:00Z'),
    apiLevel: 0,
    priorityGroups: [],
    ...over,
  }
}

/** Command thresholds as consumerThresholds gives them, every one from one source. */
export function thresholdSet(values: ConsumerThresholds, source: ThresholdSource = 'default'): ConsumerThresholdSet {
  return {values, sources: Object.fromEntries(Object.keys(values).map((key) => [key, source])), metadataKeys: {}}
}

/** An in-memory JetStream: streams, their consumers, and the oldest unacked time per consumer (or an error). */
export function fakeReader(data: {
  streams: StreamSummary[]
  consumers: ConsumerDetails[]
  oldest?: Record<string, Date | Error>
  delayMs?: number
  unlistedStreams?: UnlistedEntry[]
  unlistedConsumers?: Record<string, UnlistedEntry[]>
}) {
  let inFlight = 0
  const stats = {maxInFlight: 0, oldestCalls: 0}
  const reader: JetStreamReader = {
    serverVersion: '2.9.10',
    streams: async () => ({items: data.streams, unlisted: data.unlistedStreams ?? []}),
    stream: async (name) => data.streams.find((s) => s.name === name),
    streamNames: async () => data.streams.map((s) => s.name).sort(),
    consumers: async (name) => ({items: data.consumers.filter((c) => c.stream === name), unlisted: data.unlistedConsumers?.[name] ?? []}),
    consumer: async (name, c) => data.consumers.find((x) => x.stream === name && x.name === c),
    oldestUnacked: async (c) => {
      stats.oldestCalls++
      inFlight++
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight)
      await new Promise((resolve) => setTimeout(resolve, data.delayMs ?? 0))
      inFlight--
      const value = data.oldest?.[c.name]
      if (value instanceof Error) throw value
      return value
    },
  }
  return {reader, stats}
}
