/**
 * `cimops monitor`: follows the events stream with an ordered consumer (counting events by domain and
 * type, failed events, messages by subject prefix), reads stream and consumer state every refresh
 * (lag, queues, deliveries, storage), and serves it all as Prometheus metrics on /metrics, with
 * /healthz (process up) and /readyz (connected, state read, caught up with the stream as it was
 * when the monitor found it, still counting, and a quorum of the stream's replicas answering its leader).
 *
 * A service, not a command: /metrics answers from the start, also while NATS is down or the stream
 * does not exist yet. NATS may come and go for as long as it likes: the connection reconnects
 * without limit (connection.ts, reconnect 'forever'), and the follower resumes after the last
 * sequence counted, so an outage neither counts an event twice nor loses one stored meanwhile.
 *
 * Its parts: where it stands with NATS (state.ts, every transition in one place), counting the stream
 * (follow.ts, tally.ts), the metrics (metrics.ts) and the HTTP endpoints (http.ts).
 */
import {randomBytes} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'

import type {NatsConnection} from '../adapters/nats/connection.js'
import type {ResolvedContext} from '../core/context-types.js'
import {isCimopsError, OperationError, TimeoutError, UnreachableError} from '../core/errors.js'
import {FOLLOW_FAILED, notFound, StreamCounter} from './follow.js'
import {closeServer, formatHost, type Readiness, serve} from './http.js'
import type {MonitorMetrics, ProjectionState} from './metrics.js'
import {ProblemLog} from './problems.js'
import {quorumLoss} from './quorum.js'
import {connectionState, INITIAL_STATE, type JetStreamLink, type MonitorEvent, type MonitorState, transition} from './state.js'
import {parseProjectionName} from './subject.js'
import {DeliveryTally, EventTally} from './tally.js'

export interface MonitorOptions {
  host: string
  port: number
  stream: string
  fromStart: boolean
  /** How often stream and consumer state is read. */
  refreshMs: number
  /** Messages per pull of the follower [default 2500: fewer round trips keep the lag under a second at 50k events/s]. */
  batch?: number
  signal: AbortSignal
  log: (line: string) => void
}

/** Ordered consumers of monitors are named with this prefix, so refreshes leave them out. */
const OWN_CONSUMER_PREFIX = 'cimops_monitor_'
const DEFAULT_BATCH = 2500
/**
 * Unread events and none read for this long (at least), or the stream not read for this long: not counting.
 * /readyz says 503, and the follower is restarted from the last counted sequence.
 */
const MIN_NOT_COUNTING_MS = 3000

const REFRESH_FAILED = 'reading stream and consumer state failed'

export async function runMonitor(ctx: ResolvedContext, options: MonitorOptions): Promise<void> {
  if (options.signal.aborted) return
  const monitor = new EventMonitor(ctx, options, await loadModules())
  await monitor.run()
}

async function loadModules() {
  const [metrics, connection, session, jetstream, messages, lag, versions] = await Promise.all([
    import('./metrics.js'),
    import('../adapters/nats/connection.js'),
    import('../adapters/nats/session.js'),
    import('../adapters/nats/jetstream.js'),
    import('../adapters/nats/messages.js'),
    import('../streams/lag.js'),
    import('../adapters/nats/versions.js'),
  ])
  return {metrics, connection, session, jetstream, messages, lag, versions}
}

type Modules = Awaited<ReturnType<typeof loadModules>>

class EventMonitor {
  private readonly events = new EventTally()
  private readonly deliveries = new DeliveryTally()
  private readonly address: string
  private readonly startedAt = new Date()
  private readonly problems: ProblemLog
  private readonly counter: StreamCounter
  private metrics!: MonitorMetrics
  private state: MonitorState = INITIAL_STATE
  private refreshed = false
  /** When the events stream's state was last read (listing the streams succeeded). */
  private streamReadAt = 0
  private refreshTimer?: NodeJS.Timeout

  constructor(
    private readonly ctx: ResolvedContext,
    private readonly options: MonitorOptions,
    private readonly m: Modules,
  ) {
    this.address = ctx.nats.servers.join(',')
    this.problems = new ProblemLog(options.log)
    this.counter = new StreamCounter(this.events, m.messages, {
      stream: options.stream,
      fromStart: options.fromStart,
      batch: options.batch ?? DEFAULT_BATCH,
      namePrefix: `${OWN_CONSUMER_PREFIX}${randomBytes(4).toString('hex')}`,
      address: this.address,
      timeoutMs: ctx.timeoutMs,
      stalledAfterMs: this.notCountingAfterMs(),
      signal: options.signal,
      log: options.log,
      problems: this.problems,
    })
  }

  async run(): Promise<void> {
    const {signal} = this.options
    this.metrics = await this.m.metrics.createMetrics({stream: this.options.stream, events: this.events, deliveries: this.deliveries, countedSeq: () => this.counter.countedSeq})
    this.m.metrics.setConnectionState(this.metrics, connectionState(this.state))
    const server = await serve(this.options, this.metrics, () => this.readiness())
    this.options.log(`serving http://${formatHost(this.options.host)}:${this.options.port}/metrics (stream ${this.options.stream}, ${this.options.fromStart ? 'from the start' : 'from now'})`)
    let nc: NatsConnection | undefined
    try {
      nc = await this.connect()
      if (!nc) return
      await this.openJetStream(nc)
      if (signal.aborted) return
      const closed = nc.closed().then((error) => {
        this.enter({type: 'closed'})
        return error
      })
      void this.watchStatus(nc)
      this.scheduleRefresh(0)
      const outcome = await Promise.race([closed, abortion(signal)])
      if (!signal.aborted) {
        throw new UnreachableError('nats', this.address, `the connection was closed${outcome instanceof Error ? `: ${outcome.message}` : ''}`)
      }
    } finally {
      clearTimeout(this.refreshTimer)
      await this.counter.stop()
      await closeServer(server)
      if (nc && !nc.isClosed()) await nc.close().catch(() => undefined)
    }
  }

  /** Every change of connection state goes through here: the state machine (state.ts), then the metric. */
  private enter(event: MonitorEvent): void {
    this.state = transition(this.state, event)
    this.m.metrics.setConnectionState(this.metrics, connectionState(this.state))
  }

  /** /readyz: connected, state read, the stream found and counted up to where it was when found. */
  private readiness(): Readiness {
    const connection = connectionState(this.state)
    if (connection !== 'connected') return {ready: false, reason: `NATS ${connection}`}
    if (!this.refreshed) return {ready: false, reason: 'reading state'}
    const {stream, countedSeq, caughtUpAt} = this.counter
    if (!stream) return {ready: false, reason: `waiting for stream ${this.options.stream}`}
    if (countedSeq < caughtUpAt) return {ready: false, reason: `counting: at sequence ${countedSeq} of ${caughtUpAt}`}
    // Connected is not counting: a cluster node that held the stream's leader or the follower's consumer may be gone.
    const limit = this.notCountingAfterMs()
    const unreadFor = Date.now() - this.streamReadAt
    if (unreadFor > limit) {
      const problem = this.problems.current
      return {ready: false, reason: `stream ${this.options.stream} not read for ${Math.round(unreadFor / 1000)}s${problem ? ` (${problem})` : ''}`}
    }
    // Nothing new can be stored, so nothing new can be counted; its leader may not know yet and still answers.
    const lostQuorum = quorumLoss(stream)
    if (lostQuorum) return {ready: false, reason: lostQuorum}
    const unread = stream.lastSeq - countedSeq
    const idleFor = Date.now() - this.counter.progressAt
    if (unread > 0 && idleFor > limit) return {ready: false, reason: `not counting: ${unread} events unread, none read for ${Math.round(idleFor / 1000)}s`}
    return {ready: true}
  }

  /** Long enough that a slow read or a busy refresh is not "not counting": a few refreshes, or two timeouts. */
  private notCountingAfterMs(): number {
    return Math.max(MIN_NOT_COUNTING_MS, 3 * this.options.refreshMs, 2 * this.ctx.timeoutMs)
  }

  /**
   * The first connection, retried with a backoff while NATS cannot be reached (a monitor may start
   * before its server); anything else (bad credentials, bad TLS files) fails at once.
   */
  private async connect(): Promise<NatsConnection | undefined> {
    const {signal} = this.options
    const delay = this.m.connection.reconnectBackoff()
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        // A session per attempt: its connect is tried once, and this loop retries it with a backoff.
        const {nc} = await this.m.session.openNatsSession(this.ctx.nats, {timeoutMs: this.ctx.timeoutMs, name: 'cimops-monitor', reconnect: 'forever'}).connection()
        this.enter({type: 'connected', nc})
        if (attempt > 0) {
          this.options.log(`connected to NATS at ${this.address}`)
          this.counter.startedLate(this.startedAt)
        }
        this.problems.clear()
        return nc
      } catch (error) {
        if (!(error instanceof UnreachableError || error instanceof TimeoutError)) throw error
        this.enter({type: 'connect-failed'})
        this.problems.report(`waiting for NATS: ${error.line}`)
        await pause(delay(), signal)
      }
    }
    return undefined
  }

  /** The JetStream manager and client; retried while JetStream is not answering yet (a server just started). */
  private async openJetStream(nc: NatsConnection): Promise<void> {
    const {signal} = this.options
    const delay = this.m.connection.reconnectBackoff()
    while (!signal.aborted) {
      try {
        const features = this.m.versions.serverFeatures(this.m.connection.serverInfo(nc).version)
        if (!features.has('consumersApi')) {
          throw new OperationError('cannot follow the events stream', `this needs nats-server >= ${features.requires('consumersApi')}; this server is ${features.version}`, {hint: 'upgrade the server'})
        }
        const jsm = await this.m.connection.jetstreamManagerFor(nc, this.ctx.nats, this.ctx.timeoutMs)
        const js = await this.m.messages.jetstreamClientFor(nc, this.ctx.nats, this.ctx.timeoutMs)
        this.enter({type: 'jetstream', link: {nc, jsm, js, jsApiPrefix: this.m.jetstream.jsApiPrefix(this.ctx.nats.jsDomain)}})
        return
      } catch (error) {
        if (error instanceof OperationError) throw error
        this.problems.report(`waiting for JetStream: ${describe(error)}`)
        await pause(delay(), signal)
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.enter({type: 'disconnect'})
        this.options.log(`lost the NATS connection (${status.server}); reconnecting`)
      } else if (status.type === 'reconnecting') {
        this.enter({type: 'reconnecting'})
      } else if (status.type === 'reconnect') {
        this.enter({type: 'reconnect'})
        this.options.log(`reconnected to NATS (${status.server}); counting on after sequence ${this.counter.countedSeq}`)
        this.scheduleRefresh(0)
      }
    }
  }

  private scheduleRefresh(delayMs: number): void {
    clearTimeout(this.refreshTimer)
    if (this.options.signal.aborted) return
    this.refreshTimer = setTimeout(() => {
      this.refresh()
        .then(() => this.problems.resolve(REFRESH_FAILED, 'state read again'))
        .catch((error: unknown) => this.problems.report(`${REFRESH_FAILED}: ${describe(error)}`))
        .finally(() => this.scheduleRefresh(this.options.refreshMs))
    }, delayMs)
  }

  /**
   * One read of stream and consumer state; also starts, restarts or watches the follower. The follower
   * comes first: the consumers' state may be unreadable for minutes (CONSUMER.LIST times out while a dead
   * node holds one of them, such as this monitor's own previous consumer), and that must not stop counting.
   */
  private async refresh(): Promise<void> {
    // While disconnected every request would wait out its timeout: the last values stay until NATS is back.
    if (this.state.name !== 'subscribed') return
    const {link} = this.state
    const {jetstream: js, lag} = this.m
    const {timeoutMs} = this.ctx
    const streams = await js.listStreams(link.jsm, this.address, timeoutMs)
    const events = streams.find((s) => s.name === this.options.stream)
    this.streamReadAt = Date.now()
    this.m.metrics.setStreamState(this.metrics, streams, events)

    // Its own problem, retried at every refresh; the consumers' state is still read meanwhile.
    if (events) await this.counter.follow(events, link).catch((error: unknown) => this.problems.report(`${FOLLOW_FAILED}: ${describe(error)}; retrying after sequence ${this.counter.countedSeq}`))
    else {
      this.counter.missing()
      this.problems.report(`${notFound(this.options.stream)} (${streams.length > 0 ? `the streams are ${streams.map((s) => s.name).join(', ')}` : 'there are no streams'}); waiting for it`)
    }

    const now = new Date()
    const consumers = events ? await js.listConsumers(link.jsm, events.name, this.address, timeoutMs) : []
    const others = consumers.filter((c) => !c.name.startsWith(OWN_CONSUMER_PREFIX))
    const projections: ProjectionState[] = []
    for (const consumer of others) {
      const names = consumer.durable ? parseProjectionName(consumer.name) : undefined
      if (!names || !events) continue
      const oldest = await js.oldestUnackedTime(link.nc, consumer, events, {jsApiPrefix: link.jsApiPrefix, timeoutMs})
      const measures = lag.measureConsumer(consumer, events, oldest, now)
      projections.push({consumer, ...names, lag: measures.lagSeconds, pending: measures.pending})
    }

    // Everything read: the values are swapped in one go.
    this.m.metrics.setProjectionState(this.metrics, projections)
    // From the start, deliveries made before the monitor started count too; from now, they are the baseline.
    this.deliveries.observe(
      others.map((c) => ({name: c.name, filterSubjects: c.filterSubjects, delivered: c.delivered.consumerSeq})),
      !this.refreshed && !this.options.fromStart,
    )
    this.metrics.lastRefresh.set(Date.now() / 1000)
    this.refreshed = true
  }
}

function describe(error: unknown): string {
  if (isCimopsError(error)) return error.line
  return error instanceof Error ? error.message : String(error)
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), {once: true})
  })
}

/** Waits, or less if the signal aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, {signal}).catch(() => undefined)
}
