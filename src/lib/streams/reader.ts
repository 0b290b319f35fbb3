import type {ConsumerDetails, Listing, StreamSummary} from '../adapters/nats/jetstream.js'
import type {JetStreamSession} from '../adapters/nats/session.js'

/**
 * What the stream and consumer services read from JetStream. The adapters implement it over a live
 * session; unit tests give a fake. Typed data only: no wire shapes past this point.
 */
export interface JetStreamReader {
  serverVersion: string
  /** Every stream, and those the server lists as offline or missing (never silently absent). */
  streams(options?: {subject?: string}): Promise<Listing<StreamSummary>>
  /** Undefined when it does not exist. */
  stream(name: string): Promise<StreamSummary | undefined>
  streamNames(): Promise<string[]>
  consumers(stream: string): Promise<Listing<ConsumerDetails>>
  /** Undefined when it (or its stream) does not exist. */
  consumer(stream: string, name: string): Promise<ConsumerDetails | undefined>
  /** Storage time of the consumer's oldest unacknowledged message; undefined when nothing is outstanding. */
  oldestUnacked(consumer: ConsumerDetails, stream: Pick<StreamSummary, 'lastSeq'>): Promise<Date | undefined>
}

export async function sessionReader(session: JetStreamSession): Promise<JetStreamReader> {
  const adapter = await import('../adapters/nats/jetstream.js')
  const {jsm, nc, address, timeoutMs, jsApiPrefix, features} = session
  return {
    serverVersion: features.version,
    streams: (options) => adapter.listStreamsReporting(nc, {jsApiPrefix, timeoutMs, subject: options?.subject}),
    stream: (name) => adapter.findStream(jsm, name, address, timeoutMs),
    streamNames: () => adapter.listStreamNames(jsm, address, timeoutMs),
    consumers: (stream) => adapter.listConsumersReporting(nc, stream, {jsApiPrefix, timeoutMs}),
    consumer: (stream, name) => adapter.findConsumer(jsm, stream, name, address, timeoutMs),
    oldestUnacked: (consumer, stream) => adapter.oldestUnackedTime(nc, consumer, stream, {jsApiPrefix, timeoutMs}),
  }
}
