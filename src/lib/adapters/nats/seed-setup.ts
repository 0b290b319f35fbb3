/**
 * The JetStream side of the sandbox seed, in plain units: a direct connection, file streams and
 * durable consumers created when missing, a consumer's ack wait and counts. The seed decides what.
 */
import type {Consumer, JetStreamClient, JetStreamManager, StreamConfig} from '@nats-io/jetstream'
import type {NatsConnection} from '@nats-io/transport-node'

import {UnreachableError} from '../../core/errors.js'
import {isConsumerNotFound, isNoPeersForPlacement, isNoResponders, isRequestTimeout, isStreamNotFound, NANOS_PER_MS} from './jetstream.js'

export type {Consumer}

/** A stream as the seed creates it: the wire config, from fileStreamSetup or opsLogStreamConfig. */
export type StreamSetup = Partial<StreamConfig> & {name: string}

/** Plain connect (no context auth); with `ignoreClusterUpdates` the connection stays on the servers given. */
export async function connectDirect(servers: string[], options: {name: string; timeoutMs: number; ignoreClusterUpdates: boolean}): Promise<NatsConnection> {
  const {connect} = await import('@nats-io/transport-node')
  return connect({servers, name: options.name, timeout: options.timeoutMs, ignoreClusterUpdates: options.ignoreClusterUpdates}).catch((error: Error) => {
    throw new UnreachableError('nats', servers.join(','), error.message, {cause: error})
  })
}

export async function jetstreamManagerOf(nc: NatsConnection): Promise<JetStreamManager> {
  const {jetstreamManager} = await import('@nats-io/jetstream')
  return jetstreamManager(nc)
}

export async function jetstreamOf(nc: NatsConnection): Promise<JetStreamClient> {
  const {jetstream} = await import('@nats-io/jetstream')
  return jetstream(nc)
}

/** File storage, limits retention, direct gets; a message id seen within the duplicate window is dropped. */
export function fileStreamSetup(spec: {name: string; subjects: string[]; replicas: number; duplicateWindowMs: number}): StreamSetup {
  return {
    name: spec.name,
    subjects: spec.subjects,
    storage: 'file' as StreamConfig['storage'],
    retention: 'limits' as StreamConfig['retention'],
    num_replicas: spec.replicas,
    duplicate_window: spec.duplicateWindowMs * NANOS_PER_MS,
    allow_direct: true,
  }
}

/**
 * A copy, at this server's JetStream domain, of stream `origin` of another domain (site), reached through
 * that domain's API prefix across the leaf connection. A mirror keeps the origin's sequences, times and
 * message ids, and takes no subjects of its own: nothing but the origin writes to it.
 */
export function mirrorStreamSetup(spec: {name: string; origin: string; originDomain: string; replicas: number}): StreamSetup {
  return {
    name: spec.name,
    storage: 'file' as StreamConfig['storage'],
    retention: 'limits' as StreamConfig['retention'],
    num_replicas: spec.replicas,
    // `deliver` stays empty: a deliver prefix is only for a mirror in another account.
    mirror: {name: spec.origin, external: {api: `$JS.${spec.originDomain}.API`, deliver: ''}},
  }
}

/** The messages a stream holds now. */
export async function storedMessages(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages
}

/** Creates the stream when missing; true when it did. */
export async function ensureStream(jsm: JetStreamManager, setup: StreamSetup): Promise<boolean> {
  try {
    await jsm.streams.info(setup.name)
    return false
  } catch (error) {
    if (!isStreamNotFound(error)) throw error
  }
  await addWhenPlaceable(jsm, setup, PLACEMENT_WAIT_MS)
  return true
}

const PLACEMENT_WAIT_MS = 10_000

/**
 * Waits until the cluster at `servers` places a stream of `replicas` replicas: a throwaway file stream
 * is created (retried while the cluster answers "no suitable peers") and deleted. Meant for a sandbox
 * that was just started, so its first replicated stream, the user's or a test's, is never refused.
 */
export async function waitForPlacement(servers: string[], replicas: number, timeoutMs: number): Promise<void> {
  const nc = await connectDirect(servers, {name: 'cimops-sandbox-ready', timeoutMs, ignoreClusterUpdates: false})
  try {
    const jsm = await jetstreamManagerOf(nc)
    const name = `CIMOPS_READY_${process.pid}_${Date.now()}`
    await addWhenPlaceable(jsm, {name, subjects: [`_cimops.ready.${name}`], storage: 'file' as StreamConfig['storage'], num_replicas: replicas}, timeoutMs)
    await jsm.streams.delete(name)
  } finally {
    await nc.close()
  }
}

/**
 * A cluster that just elected its meta leader may not yet have heard its peers' resources, and
 * refuses a replicated stream for a moment; the seed runs right after `sandbox up`, so it waits a
 * bounded time for placement instead of failing. On a loaded machine a 2.10 cluster was seen to
 * refuse placement for over 20 s after every node was ready, so the sandbox waits up to a minute.
 * It was also seen to leave the create unanswered (2.10.27 in CI): asked again, an identical create
 * is answered with the stream, made or not the first time.
 */
async function addWhenPlaceable(jsm: JetStreamManager, setup: StreamSetup, waitMs: number): Promise<void> {
  await retryWhile((error) => isNoPeersForPlacement(error) || isRequestTimeout(error), () => jsm.streams.add(setup), waitMs, 250)
}

/** How long a new stream or consumer may take to be reachable from every node of a cluster. */
const REACHABLE_WAIT_MS = 10_000

/**
 * A stream or consumer just created in a cluster answers from every node only once its leader's interest
 * has crossed the routes; until then a publish or pull meets no responders (seen on nats-server 2.15.1
 * under load) and nothing was stored or delivered, so it is sent again, for a bounded time.
 */
export function whenReachable<T>(action: () => Promise<T>): Promise<T> {
  return retryWhile(isNoResponders, action, REACHABLE_WAIT_MS, 100)
}

/** Runs `action` again every `pollMs` while it fails with an error `transient` accepts, for at most `waitMs`. */
async function retryWhile<T>(transient: (error: unknown) => boolean, action: () => Promise<T>, waitMs: number, pollMs: number): Promise<T> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      return await action()
    } catch (error) {
      if (!transient(error) || Date.now() >= deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, pollMs))
    }
  }
}

/** Messages stored per subject. */
export async function subjectCounts(jsm: JetStreamManager, stream: string): Promise<Record<string, number>> {
  return (await jsm.streams.info(stream, {subjects_filter: '>'})).state.subjects ?? {}
}

/** An explicitly acknowledged pull consumer delivering everything on one filter. */
export interface DurableSpec {
  name: string
  filterSubject: string
  /** The server's default (30s) when absent. */
  ackWaitMs?: number
}

/** Creates the durable consumer when missing; true when it did. */
export async function ensureDurable(jsm: JetStreamManager, stream: string, spec: DurableSpec): Promise<boolean> {
  try {
    await jsm.consumers.info(stream, spec.name)
    return false
  } catch (error) {
    if (!isConsumerNotFound(error)) throw error
  }
  await jsm.consumers.add(stream, {
    durable_name: spec.name,
    ack_policy: 'explicit',
    deliver_policy: 'all',
    filter_subject: spec.filterSubject,
    ...(spec.ackWaitMs === undefined ? {} : {ack_wait: spec.ackWaitMs * NANOS_PER_MS}),
  } as Parameters<JetStreamManager['consumers']['add']>[1])
  return true
}

export interface DurableState {
  pending: number
  ackPending: number
  ackWaitMs?: number
}

/** Throws what the server says, "not found" included (see isConsumerNotFound / isStreamNotFound). */
export async function durableState(jsm: JetStreamManager, stream: string, name: string): Promise<DurableState> {
  const info = await jsm.consumers.info(stream, name)
  const ackWait = info.config.ack_wait
  return {pending: info.num_pending, ackPending: info.num_ack_pending, ...(ackWait === undefined ? {} : {ackWaitMs: ackWait / NANOS_PER_MS})}
}

export async function setAckWait(jsm: JetStreamManager, stream: string, name: string, ackWaitMs: number): Promise<void> {
  // Rounded: the server wants whole nanoseconds, and a value read by durableState comes back exactly.
  await jsm.consumers.update(stream, name, {ack_wait: Math.round(ackWaitMs * NANOS_PER_MS)})
}
