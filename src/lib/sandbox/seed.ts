import {setTimeout as sleep} from 'node:timers/promises'
import {withBackpressureRetry} from '../adapters/nats/backpressure.js'
import {clusterSize, type JetStreamClient, type JetStreamManager, type NatsConnection} from '../adapters/nats/connection.js'
import {isConsumerNotFound, isStreamNotFound} from '../adapters/nats/jetstream.js'
import {opsLogStreamConfig} from '../adapters/nats/ops-events.js'
import {
  connectDirect,
  type Consumer,
  durableState,
  type DurableSpec,
  ensureDurable,
  ensureStream,
  fileStreamSetup,
  jetstreamManagerOf,
  jetstreamOf,
  mirrorStreamSetup,
  setAckWait,
  storedMessages,
  type StreamSetup,
  subjectCounts,
  whenReachable,
} from '../adapters/nats/seed-setup.js'
import {opsLogSpec} from '../audit/ops-log.js'
import {DEFAULTS} from '../core/context-types.js'
import {OperationError} from '../core/errors.js'
import {assertSandboxServer, type SandboxGuard} from './guard.js'
import {buildSeedEvents, SEED_DOMAINS, type SeedEvent} from './seed-events.js'
import {drMirrorName, SANDBOX_SITES, type CatchUpOptions, type CatchUpResult, type SandboxSite, type SeedConsumer, type SeedMirror, type SeedOptions, type SeedResult} from './types.js'

type Log = (line: string) => void

const CONNECT_TIMEOUT_MS = 5000
/** In-flight js.publish calls: nats.js v3 has no publishAsync; ~100-1000 is its sweet spot. */
const PUBLISH_WINDOW = 256
const FETCH_BATCH = 200
const FETCH_EXPIRES_MS = 2000

/** The deliberately lagging projection: acks the first part of its events, leaves some unacked. */
const LAGGING_CONSUMER = {name: 'workflow-analytics', domain: 'workflow', ackedShare: 0.6, unacked: 12}
/** Long enough that its unacked deliveries stay pending (not redelivered) through a working day. */
const LAGGING_ACK_WAIT_MS = 24 * 60 * 60 * 1000
/** While catching up: its unacknowledged deliveries come back this soon. */
const CATCH_UP_ACK_WAIT_MS = 500
const CATCH_UP_TIMEOUT_MS = 30_000
/** How long the seed waits for the new mirror to hold the seeded events; it keeps copying after that. */
const MIRROR_WAIT_MS = 15_000
const MIRROR_POLL_MS = 200

/**
 * Fill a sandbox with realistic CIM data: streams EVENTS and CIM_OPS, a few hundred domain events,
 * caught-up projection consumers and one that is behind. With a two-site sandbox, also a mirror of
 * the events stream at the DR site. Safe to run again: what is stored already is skipped, existing
 * streams and consumers are left as they are.
 */
export async function seedSandbox(natsServers: string[], opts: SeedOptions = {}): Promise<SeedResult> {
  const log = opts.log ?? (() => {})
  const eventsStream = opts.eventsStream ?? DEFAULTS.streams.events
  const opsLogStream = DEFAULTS.streams.ops

  const address = natsServers.join(',')
  const nc = await connectSeed(natsServers, opts.sandbox)
  try {
    const jsm = await jetstreamManagerOf(nc).catch((error: Error) => {
      throw new OperationError('cannot seed the sandbox', `JetStream at ${address}: ${error.message}`, {cause: error})
    })
    const js = await jetstreamOf(nc)
    const replicas = Math.min(3, clusterSize(nc, natsServers))

    await Promise.all([
      ensureSeedStream(jsm, eventsStreamSetup(eventsStream, replicas), log),
      ensureSeedStream(jsm, opsLogStreamConfig(opsLogSpec(opsLogStream, replicas)), log),
    ])
    const {published, duplicates} = await publishMissing(js, jsm, eventsStream, buildSeedEvents(opts.now ?? new Date()))
    log(`published ${published} events to ${eventsStream} (${duplicates} already stored)`)

    const consumers = await seedConsumers(js, jsm, eventsStream, log)
    const drServers = opts.sandbox?.state?.drNatsServers
    if (!drServers) return {streams: [eventsStream, opsLogStream], published, duplicates, consumers}
    const mirror = await seedDrMirror(drServers, eventsStream, await storedMessages(jsm, eventsStream), opts.sandbox, log)
    return {streams: [eventsStream, opsLogStream], published, duplicates, consumers, mirror}
  } finally {
    await nc.close()
  }
}

/**
 * Lets the seed's lagging projection (workflow-analytics) catch up, as its service would once healthy
 * again: everything it was given and everything still waiting is acknowledged, so its lag drops to 0
 * and the alert on it resolves. Only that consumer, which the seed created: acknowledging is what a
 * projection does once it has processed an event, so doing it to a real one would drop its work.
 *
 * Its 12 unacknowledged deliveries are redelivered only after its ack wait (a day), so the ack wait
 * is shortened for the duration, then put back. Bounded: gives up after `timeoutMs` (default 30s).
 */
export async function catchUpSandbox(natsServers: string[], opts: CatchUpOptions = {}): Promise<CatchUpResult> {
  const log = opts.log ?? (() => {})
  const stream = opts.eventsStream ?? DEFAULTS.streams.events
  const {name} = LAGGING_CONSUMER
  const nc = await connectSeed(natsServers, opts.sandbox)
  try {
    const jsm = await jetstreamManagerOf(nc)
    let info
    try {
      info = await durableState(jsm, stream, name)
    } catch (error) {
      if (isConsumerNotFound(error) || isStreamNotFound(error)) {
        throw new OperationError(`cannot catch up ${name}`, `there is no consumer ${name} on ${stream}`, {hint: 'seed the sandbox first: `cimops sandbox seed`'})
      }
      throw error
    }
    const {ackWaitMs} = info
    const deadline = Date.now() + (opts.timeoutMs ?? CATCH_UP_TIMEOUT_MS)
    let acked = 0
    if (info.ackPending > 0) await setAckWait(jsm, stream, name, CATCH_UP_ACK_WAIT_MS)
    try {
      const consumer = await (await jetstreamOf(nc)).consumers.get(stream, name)
      for (;;) {
        const batch = await consumer.fetch({max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS})
        const acks: Array<Promise<boolean>> = []
        for await (const message of batch) acks.push(message.ackAck())
        await Promise.all(acks)
        acked += acks.length
        info = await durableState(jsm, stream, name)
        // Not num_pending alone (2.9.10 miscounts it for this filter): a fetch that found nothing, and nothing unacknowledged.
        if (acks.length === 0 && info.ackPending === 0) break
        if (Date.now() > deadline) {
          throw new OperationError(`cannot catch up ${name}`, `${info.ackPending} events still unacknowledged after ${Math.round((opts.timeoutMs ?? CATCH_UP_TIMEOUT_MS) / 1000)}s`, {hint: 'run it again'})
        }
      }
    } finally {
      if (ackWaitMs !== undefined && info.ackWaitMs !== ackWaitMs) await setAckWait(jsm, stream, name, ackWaitMs).catch(() => undefined)
    }
    log(`acknowledged ${acked} events on ${name}`)
    return {consumer: name, stream, acked, pending: info.pending, ackPending: info.ackPending}
  } finally {
    await nc.close()
  }
}

/**
 * The DR site's copy of the events stream: a mirror pulled by the DR site's JetStream from the primary's
 * domain over the leaf connection (the server copies; the seed only creates it). Waits, bounded, until it
 * holds what the origin held after seeding, so a report right after the seed sees it complete.
 */
async function seedDrMirror(drServers: string[], origin: string, originMessages: number, guard: SandboxGuard | undefined, log: Log): Promise<SeedMirror> {
  const name = drMirrorName(origin)
  const nc = await connectSeed(drServers, guard, SANDBOX_SITES.dr)
  try {
    const jsm = await jetstreamManagerOf(nc)
    const replicas = Math.min(3, clusterSize(nc, drServers))
    const setup = mirrorStreamSetup({name, origin, originDomain: SANDBOX_SITES.primary, replicas})
    if (await ensureStream(jsm, setup)) log(`created stream ${name} (R${replicas}) at the DR site, mirroring ${origin} of the primary site`)
    const deadline = Date.now() + MIRROR_WAIT_MS
    let messages = await storedMessages(jsm, name)
    while (messages < originMessages && Date.now() < deadline) {
      await sleep(MIRROR_POLL_MS)
      messages = await storedMessages(jsm, name)
    }
    log(`${name} holds ${messages} of ${originMessages} events${messages < originMessages ? ' (still copying)' : ''}`)
    return {stream: name, origin, messages, originMessages}
  } finally {
    await nc.close()
  }
}

/**
 * With a guard, nothing is sent before the server proves it is the sandbox's, at the site expected;
 * cluster updates are ignored so the connection stays on the servers checked.
 */
async function connectSeed(natsServers: string[], guard: SandboxGuard | undefined, site: SandboxSite = SANDBOX_SITES.primary): Promise<NatsConnection> {
  const nc = await connectDirect(natsServers, {name: 'cimops-sandbox-seed', timeoutMs: CONNECT_TIMEOUT_MS, ignoreClusterUpdates: guard !== undefined})
  if (!guard) return nc
  try {
    assertSandboxServer(guard, natsServers, {address: nc.getServer(), serverId: nc.info?.server_id ?? 'unknown', serverName: nc.info?.server_name}, site)
  } catch (error) {
    await nc.close()
    throw error
  }
  return nc
}

function eventsStreamSetup(name: string, replicas: number): StreamSetup {
  return fileStreamSetup({
    name,
    // One wildcard per domain rather than `cim.>`: that would overlap CIM_OPS's `cim.ops.>`, and
    // JetStream refuses streams with overlapping subjects.
    subjects: SEED_DOMAINS.map((domain) => `cim.${domain}.>`),
    replicas,
    // Re-publishing an event with the same message id within this window is dropped by the server.
    duplicateWindowMs: 2 * 60 * 1000,
  })
}

async function ensureSeedStream(jsm: JetStreamManager, setup: StreamSetup, log: Log): Promise<void> {
  if (await ensureStream(jsm, setup)) log(`created stream ${setup.name} (R${setup.num_replicas})`)
}

/**
 * Publish the seed events the stream does not hold yet. Per subject, the first N seed events are
 * taken as stored when the stream has N messages on it: events are published in a fixed order,
 * so this holds across runs, also after the 2-minute duplicate window is over.
 */
async function publishMissing(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  events: SeedEvent[],
): Promise<{published: number; duplicates: number}> {
  const stored = await subjectCounts(jsm, stream)
  const seenPerSubject = new Map<string, number>()
  const missing = events.filter((event) => {
    const nth = (seenPerSubject.get(event.subject) ?? 0) + 1
    seenPerSubject.set(event.subject, nth)
    return nth > (stored[event.subject] ?? 0)
  })

  let published = 0
  let duplicates = events.length - missing.length
  for (let start = 0; start < missing.length; start += PUBLISH_WINDOW) {
    const window = missing.slice(start, start + PUBLISH_WINDOW)
    const acks = await Promise.all(
      window.map((event) => whenReachable(() => withBackpressureRetry(() => js.publish(event.subject, JSON.stringify(event.body), {msgID: event.body.id})))),
    )
    for (const ack of acks) {
      if (ack.duplicate) duplicates++
      else published++
    }
  }
  return {published, duplicates}
}

/** Projections are independent, so they are set up concurrently: on a cluster each consumer waits for its own RAFT group. */
async function seedConsumers(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  log: Log,
): Promise<SeedConsumer[]> {
  const caughtUp = SEED_DOMAINS.map(async (domain) => {
    const name = `${domain}-projection`
    await ensureConsumer(jsm, stream, projectionConfig(name, domain), log)
    const consumer = await js.consumers.get(stream, name)
    await ackNext(consumer, (await durableState(jsm, stream, name)).pending)
    return name
  })
  const lagging = (async () => {
    const {name, domain, ackedShare, unacked} = LAGGING_CONSUMER
    const config = {...projectionConfig(name, domain), ackWaitMs: LAGGING_ACK_WAIT_MS}
    // Only when new: a second seed must not move it further along.
    if (await ensureConsumer(jsm, stream, config, log)) {
      const consumer = await js.consumers.get(stream, name)
      // num_pending is exact on a consumer that has delivered nothing yet (see the 2.9.10 note below).
      await ackNext(consumer, Math.floor((await durableState(jsm, stream, name)).pending * ackedShare))
      await deliverWithoutAck(consumer, unacked)
    }
    return name
  })()

  const names = await Promise.all([...caughtUp, lagging])
  return Promise.all(names.map((name) => consumerSummary(jsm, stream, name)))
}

function projectionConfig(name: string, domain: string): DurableSpec {
  return {name, filterSubject: `cim.${domain}.>`}
}

/** Creates the durable consumer when missing; true when it did. */
async function ensureConsumer(jsm: JetStreamManager, stream: string, spec: DurableSpec, log: Log): Promise<boolean> {
  const created = await ensureDurable(jsm, stream, spec)
  if (created) log(`created consumer ${spec.name} on ${stream}`)
  return created
}

/** Fetch and acknowledge up to `count` messages; ackAck, so the counts are final when this returns. */
async function ackNext(consumer: Consumer, count: number): Promise<void> {
  let remaining = count
  while (remaining > 0) {
    const acks = await whenReachable(async () => {
      const batch = await consumer.fetch({max_messages: Math.min(remaining, FETCH_BATCH), expires: FETCH_EXPIRES_MS})
      const pending: Array<Promise<boolean>> = []
      for await (const message of batch) pending.push(message.ackAck())
      return pending
    })
    if (acks.length === 0) return
    await Promise.all(acks)
    remaining -= acks.length
  }
}

/** Delivered and left unacknowledged: they stay "ack pending" and age. */
async function deliverWithoutAck(consumer: Consumer, count: number): Promise<void> {
  await whenReachable(async () => {
    const batch = await consumer.fetch({max_messages: count, expires: FETCH_EXPIRES_MS})
    for await (const _message of batch) {
      // Draining the batch is the point: no ack.
    }
  })
}


/**
 * As the server reports it. nats-server 2.9.10 miscounts num_pending of a filtered consumer once it
 * has delivered part of its range (with the seed data, `workflow-analytics` shows values that change
 * between calls and exceed the true count), so it is only a sign of "behind", not an exact figure.
 */
async function consumerSummary(jsm: JetStreamManager, stream: string, name: string): Promise<SeedConsumer> {
  const {pending, ackPending} = await durableState(jsm, stream, name)
  return {name, stream, pending, ackPending}
}
