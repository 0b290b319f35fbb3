/**
 * The wire side of `cimops dr promote`: reaching a stream through another JetStream domain's API prefix, fencing
 * the old origin (its subjects swapped for ones CIM never publishes to), promoting a mirror in place (2.12+:
 * STREAM.UPDATE of the whole config minus `mirror`), and the older servers' safest path (a new stream sourcing the
 * mirror, then given the subjects). Reference: shared/reference/nats-sites-dr.md §3.
 */
import type {JetStreamManager, StreamConfig, StreamInfo} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

import {UnreachableError} from '../../core/errors.js'
import {stripUserinfo} from '../redact.js'
import {findStream, listStreams, type MessageMeta, nextMessageMeta, type StreamSummary, toJetStreamError} from './jetstream.js'

/** A JetStream API reached over a connection: the server's own, or another domain's through its prefix. */
export interface JetStreamEndpoint {
  nc: NatsConnection
  jsm: JetStreamManager
  /** `$JS.API`, `$JS.<domain>.API`, or a mirror's `external.api`. */
  apiPrefix: string
  /** The server connected to, without credentials: for errors. */
  address: string
  timeoutMs: number
}

/**
 * A manager on `apiPrefix` that does not ask `$JS.API.INFO` first: a DR read must work where the other site's
 * meta group has no leader, and an origin behind a dead link must fail on the call that needs it (§6 pitfall 10).
 */
export async function jetstreamEndpoint(nc: NatsConnection, apiPrefix: string, timeoutMs: number): Promise<JetStreamEndpoint> {
  const {jetstreamManager} = await import('@nats-io/jetstream')
  const jsm = await jetstreamManager(nc, {apiPrefix, checkAPI: false, timeout: timeoutMs})
  return {nc, jsm, apiPrefix, address: stripUserinfo(nc.getServer()), timeoutMs}
}

/** The JetStream domain an API prefix names (`$JS.<domain>.API`); undefined for the plain `$JS.API` or a custom prefix. */
export function domainOfApiPrefix(prefix: string | undefined): string | undefined {
  const match = /^\$JS\.([^.]+)\.API$/.exec(prefix ?? '')
  return match?.[1]
}

/**
 * The stream through the endpoint, or undefined when it does not exist there. Nobody answering on the prefix (nats.js
 * says "jetstream is not enabled" for the 503) is another site that is down or cut off, more often than one without JetStream.
 */
export async function streamAt(endpoint: JetStreamEndpoint, name: string): Promise<StreamSummary | undefined> {
  try {
    return await findStream(endpoint.jsm, name, endpoint.address, endpoint.timeoutMs)
  } catch (error) {
    if (error instanceof Error && error.name === 'JetStreamNotEnabled') {
      throw new UnreachableError('nats', `${endpoint.apiPrefix} via ${endpoint.address}`, 'nothing answers there: the site is down, the link to it is cut, or JetStream is off there', {hint: 'check the site and the link'})
    }
    throw error
  }
}

/** The first message at or after `seq` in the stream at the endpoint; undefined when none. */
export function messageAtOrAfter(endpoint: JetStreamEndpoint, stream: string, seq: number): Promise<MessageMeta | undefined> {
  return nextMessageMeta(endpoint.nc, stream, seq, '>', {jsApiPrefix: endpoint.apiPrefix, timeoutMs: endpoint.timeoutMs})
}

/** Names of the streams at the endpoint whose subjects overlap `subject` (the server's own overlap rule). */
export async function streamsOverlapping(endpoint: JetStreamEndpoint, subject: string): Promise<string[]> {
  try {
    const names: string[] = []
    for await (const name of endpoint.jsm.streams.names(subject)) names.push(name)
    return names.sort((a, b) => a.localeCompare(b))
  } catch (error) {
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}

/** The JetStream domain of the server behind the endpoint (`$JS.API.INFO`); undefined when it has none. */
export async function jetstreamDomain(endpoint: JetStreamEndpoint): Promise<string | undefined> {
  try {
    return (await endpoint.jsm.getAccountInfo()).domain || undefined
  } catch (error) {
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}

/** Every stream at the endpoint, by name. */
export function streamsAt(endpoint: JetStreamEndpoint): Promise<StreamSummary[]> {
  return listStreams(endpoint.jsm, endpoint.address, endpoint.timeoutMs)
}

/** Where a marker goes: metadata on servers that keep it (2.10+; 2.9 drops the field), the description always can. */
export interface StreamMarker {
  metadata?: Record<string, string>
  description?: string
}

async function update(endpoint: JetStreamEndpoint, name: string, change: (config: StreamConfig) => Partial<StreamConfig>): Promise<StreamInfo> {
  try {
    const {config} = await endpoint.jsm.streams.info(name)
    // nats.js merges the change into the config it fetched; `mirror: undefined` drops out of the JSON, so the
    // server receives the whole config without it.
    return await endpoint.jsm.streams.update(name, change(config))
  } catch (error) {
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}

function withMarker(config: StreamConfig, marker: StreamMarker): Partial<StreamConfig> {
  return {
    ...(marker.metadata ? {metadata: {...config.metadata, ...marker.metadata}} : {}),
    ...(marker.description === undefined ? {} : {description: marker.description}),
  }
}

/** Takes the stream's subjects away (replaced by `fencedSubjects`) and leaves the marker saying what they were. */
export async function fenceStream(endpoint: JetStreamEndpoint, name: string, fencedSubjects: string[], marker: StreamMarker): Promise<void> {
  await update(endpoint, name, (config) => ({subjects: fencedSubjects, ...withMarker(config, marker)}))
}

/** 2.12+: the mirror becomes a writable stream on `subjects`, keeping its messages, their sequences and times. */
export async function promoteMirrorInPlace(endpoint: JetStreamEndpoint, name: string, subjects: string[], marker: StreamMarker): Promise<void> {
  await update(endpoint, name, (config) => ({mirror: undefined, subjects, ...withMarker(config, marker)}))
}

/** The limits of a stream that a copy of it keeps. */
const KEPT_LIMITS = ['retention', 'storage', 'num_replicas', 'max_msgs', 'max_bytes', 'max_age', 'max_msg_size', 'max_msgs_per_subject', 'discard', 'duplicate_window', 'allow_direct'] as const

/**
 * The safest path before 2.12 (§3.2), step 1: a new stream with the mirror's limits that sources it and has no
 * subjects, so nothing but the copy writes to it yet.
 */
export async function createSourcingStream(endpoint: JetStreamEndpoint, name: string, mirror: string): Promise<void> {
  try {
    const {config} = await endpoint.jsm.streams.info(mirror)
    const limits = Object.fromEntries(KEPT_LIMITS.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]))
    await endpoint.jsm.streams.add({...limits, name, subjects: [], sources: [{name: mirror}]} as Partial<StreamConfig> & {name: string})
  } catch (error) {
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}

/** The safest path, last step: the sources dropped and the subjects taken; the stream is writable from now on. */
export async function openSourcedStream(endpoint: JetStreamEndpoint, name: string, subjects: string[], marker: StreamMarker): Promise<void> {
  await update(endpoint, name, (config) => ({sources: [], subjects, ...withMarker(config, marker)}))
}

/** Where fencing leaves what it took: metadata (servers >= 2.10) and the description (every server). */
export const FENCED_SUBJECTS_METADATA = 'io.cimops.dr.fenced-subjects'
const FENCED_DESCRIPTION_PREFIX = 'cimops: fenced by dr promote; subjects were '

/** The subjects CIM never publishes to that a fenced stream listens on instead of its own. */
export function fencedSubjectsFor(stream: string): string[] {
  return [`cimops.fenced.${stream}.>`]
}

/** The fence marker: the subjects taken away, so that `dr resync` (or an operator) can give them back. */
export function fenceMarker(subjects: string[], options: {metadata: boolean}): StreamMarker {
  return {
    ...(options.metadata ? {metadata: {[FENCED_SUBJECTS_METADATA]: subjects.join(',')}} : {}),
    description: `${FENCED_DESCRIPTION_PREFIX}${subjects.join(',')}`,
  }
}

/** The subjects a fenced stream had, from its marker; undefined when cimops has not fenced it. */
export function readFenceMarker(metadata: Record<string, string> | undefined, description: string | undefined): string[] | undefined {
  const listed = metadata?.[FENCED_SUBJECTS_METADATA] ?? (description?.startsWith(FENCED_DESCRIPTION_PREFIX) ? description.slice(FENCED_DESCRIPTION_PREFIX.length) : undefined)
  const subjects = listed?.split(',').map((s) => s.trim()).filter(Boolean)
  return subjects?.length ? subjects : undefined
}

/** The subjects the stream had before cimops fenced it; undefined when it is not fenced (or does not exist). */
export async function fencedSubjectsOf(endpoint: JetStreamEndpoint, name: string): Promise<string[] | undefined> {
  try {
    const {config} = await endpoint.jsm.streams.info(name)
    return readFenceMarker(config.metadata, config.description)
  } catch (error) {
    throw toJetStreamError(error, endpoint.address, endpoint.timeoutMs)
  }
}
