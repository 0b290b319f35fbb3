/**
 * The wire side of `cimops drill --failover`: acknowledged publishes timed to the ack, the origin sequence a sourced
 * copy carries (`Nats-Stream-Source`), and the sandbox's put-back (a stream deleted, a drill's subject purged, the DR
 * mirror created again). Reading streams goes through promotion.ts's endpoints.
 */
import type {JetStreamClient, StreamConfig} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

import {isStreamNotFound, toJetStreamError} from './jetstream.js'
import type {JetStreamEndpoint} from './promotion.js'
import {parseStreamSource, STREAM_SOURCE_HEADER} from './replication.js'
import type {StreamSetup} from './seed-setup.js'

export {STREAM_SOURCE_HEADER}

/** The server a connection reached, as it reports itself (sandbox/guard.ts compares it with the sandbox's record). */
export function connectedServer(nc: NatsConnection): {address: string; serverId: string; serverName?: string} {
  return {address: nc.getServer(), serverId: nc.info?.server_id ?? 'unknown', ...(nc.info?.server_name ? {serverName: nc.info.server_name} : {})}
}

export interface StoredAck {
  stream: string
  seq: number
  domain?: string
}

/**
 * One event published and acknowledged. With `expectStream` the server refuses it unless that stream stores the
 * subject, so an ack proves that stream took it (not some other stream on overlapping subjects).
 */
export async function publishAcked(js: JetStreamClient, subject: string, body: unknown, options: {msgID: string; expectStream?: string; timeoutMs: number}): Promise<StoredAck> {
  const ack = await js.publish(subject, JSON.stringify(body), {
    msgID: options.msgID,
    timeout: options.timeoutMs,
    ...(options.expectStream ? {expect: {streamName: options.expectStream}} : {}),
  })
  return {stream: ack.stream, seq: ack.seq, ...(ack.domain ? {domain: ack.domain} : {})}
}

/** The sequence the message had in the stream it was sourced from (its Nats-Stream-Source header); undefined when it was not sourced. */
export function sourcedSequence(headers: Array<[string, string[]]> | undefined): number | undefined {
  return parseStreamSource(headers?.find(([key]) => key.toLowerCase() === STREAM_SOURCE_HEADER.toLowerCase())?.[1][0])?.seq
}

/** Deletes the stream; false when there was none. */
export async function deleteStreamAt(endpoint: JetStreamEndpoint, name: string): Promise<boolean> {
  try {
    return await endpoint.jsm.streams.delete(name)
  } catch (error) {
    if (isStreamNotFound(error)) return false
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}

/** Removes every message on `subject` from the stream; returns how many went. */
export async function purgeSubject(endpoint: JetStreamEndpoint, stream: string, subject: string): Promise<number> {
  try {
    return (await endpoint.jsm.streams.purge(stream, {filter: subject})).purged
  } catch (error) {
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}

/** Creates the stream as set up (seed-setup.ts's mirrorStreamSetup for a DR copy). */
export async function createStream(endpoint: JetStreamEndpoint, setup: StreamSetup): Promise<void> {
  try {
    await endpoint.jsm.streams.add(setup as Partial<StreamConfig> & {name: string})
  } catch (error) {
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}
