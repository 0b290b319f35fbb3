/**
 * `cimops monitor`: follows the events stream with an ordered consumer (counting events by domain and
 * type, failed events, messages by subject prefix), reads stream and consumer state every refresh
 * (lag, queues, deliveries, storage), and serves it all as Prometheus metrics on /metrics, with
 * /healthz (process up) and /readyz (connected, state read, caught up with the stream as it was
 * when the monitor found it, and still counting).
 *
 * A service, not a command: /metrics answers from the start, also while NATS is down or the stream
 * does not exist yet. NATS may come and go for as long as it likes: the connection reconnects
 * without limit (connection.ts, reconnect 'forever'), and the follower resumes after the last
 * sequence counted, so an outage neither counts an event twice nor loses one stored meanwhile.
 */
import {randomBytes} from 'node:crypto'
import type {Server} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'

import type {JetStreamClient, JetStreamManager, NatsConnection} from '../adapters/nats/connection.js'
import type {ConsumerDetails, StreamSummary} from '../adapters/nats/jetstream.js'
import type {FollowedMessage, Follower} from '../adapters/nats/messages.js'
import type {ResolvedContext} from '../core/context-types.js'
import {isCimopsError, OperationError, TimeoutError, UnreachableError} from '../core/errors.js'
import type {ConnectionState, MonitorMetrics} from './metrics.js'
import {parseProjectionName} from './subject.js'
import {DeliveryTally, EventTally, worstQueues} from './tally.js'

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
const FOLLOW_FAILED = 'cannot follow the events stream'

type Readiness = {ready: true} | {ready: false; reason: string}

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

/** Where to start counting once the stream is found. */
type CountFrom = 'first' | 'next' | {storedSince: Date}

class EventMonitor {
  private readonly events = new EventTally()
  private readonly deliveries = new DeliveryTally()
  private readonly address: string
  private readonly startedAt = new Date()
  private readonly namePrefix = `${OWN_CONSUMER_PREFIX}${randomBytes(4).toString('hex')}`
  private metrics!: MonitorMetrics
  private connection: ConnectionState = 'disconnected'
  private nc?: NatsConnection
  private jsm?: JetStreamManager
  private js?: JetStreamClient
  /** Unset until JetStream answers: the adapter's default prefix (no domain). */
  private jsApiPrefix?: string

  private countFrom: CountFrom
  /** The events stream as last read; undefined until found. */
  private stream?: StreamSummary
  /** Whether the last refresh found the stream (it may be deleted, and created anew, while the monitor runs). */
  private streamPresent = false
  private follower?: Follower
  private followerStarting = false
  /** Stream sequence of the last event counted. */
  private countedSeq = 0
  /** Ready once the counters have reached this sequence (the stream's last when it was found). */
  private catchUpTo = 0
  private delivered = 0
  /** Events read so far and when that number last grew (or there was nothing to read). */
  private progress = {delivered: 0, at: Date.now()}
  /** A restarted follower gets this long before the next restart; the progress clock keeps running meanwhile. */
  private followerStartedAt = 0
  private refreshed = false
  /** When the events stream's state was last read (listing the streams succeeded). */
  private streamReadAt = 0
  private refreshTimer?: NodeJS.Timeout
  private lastProblem?: string

  constructor(
    private readonly ctx: ResolvedContext,
    private readonly options: MonitorOptions,
    private readonly m: Modules,
  ) {
    this.address = ctx.nats.servers.join(',')
    this.countFrom = options.fromStart ? 'first' : 'next'
  }

  async run(): Promise<void> {
    const {signal} = this.options
    this.metrics = await this.m.metrics.createMetrics({stream: this.options.stream, events: this.events, deliveries: this.deliveries, countedSeq: () => this.countedSeq})
    this.setConnection('disconnected')
    const server = await serve(this.options, this.metrics, () => this.readiness())
    this.options.log(`serving http://${formatHost(this.options.host)}:${this.options.port}/metrics (stream ${this.options.stream}, ${this.options.fromStart ? 'from the start' : 'from now'})`)
    try {
      const nc = await this.connect()
      if (!nc) return
      this.nc = nc
      await this.openJetStream()
      if (signal.aborted) return
      const closed = nc.closed().then((error) => {
        this.setConnection('closed')
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
      await this.follower?.stop().catch(() => undefined)
      await closeServer(server)
      if (this.nc && !this.nc.isClosed()) await this.nc.close().catch(() => undefined)
    }
  }

  /** /readyz: connected, state read, the stream found and counted up to where it was when found. */
  private readiness(): Readiness {
    if (this.connection !== 'connected') return {ready: false, reason: `NATS ${this.connection}`}
    if (!this.refreshed) return {ready: false, reason: 'reading state'}
    if (!this.stream || !this.streamPresent) return {ready: false, reason: `waiting for stream ${this.options.stream}`}
    if (this.countedSeq < this.catchUpTo) return {ready: false, reason: `counting: at sequence ${this.countedSeq} of ${this.catchUpTo}`}
    // Connected is not counting: a cluster node that held the stream's leader or the follower's consumer may be gone.
    const limit = this.notCountingAfterMs()
    const unreadFor = Date.now() - this.streamReadAt
    if (unreadFor > limit) {
      return {ready: false, reason: `stream ${this.options.stream} not read for ${Math.round(unreadFor / 1000)}s${this.lastProblem ? ` (${this.lastProblem})` : ''}`}
    }
    const unread = this.stream.lastSeq - this.countedSeq
    const idleFor = Date.now() - this.progress.at
    if (unread > 0 && idleFor > limit) return {ready: false, reason: `not counting: ${unread} events unread, none read for ${Math.round(idleFor / 1000)}s`}
    return {ready: true}
  }

  /** Long enough that a slow read or a busy refresh is not "not counting": a few refreshes, or two timeouts. */
  private notCountingAfterMs(): number {
    return Math.max(MIN_NOT_COUNTING_MS, 3 * this.options.refreshMs, 2 * this.ctx.timeoutMs)
  }

  private setConnection(state: ConnectionState): void {
    this.connection = state
    this.m.metrics.setConnectionState(this.metrics, state)
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
        this.setConnection('connected')
        if (attempt > 0) {
          this.options.log(`connected to NATS at ${this.address}`)
          // NATS was down at start: "from now" becomes "stored since the monitor started".
          if (this.countFrom === 'next') this.countFrom = {storedSince: this.startedAt}
        }
        this.lastProblem = undefined
        return nc
      } catch (error) {
        if (!(error instanceof UnreachableError || error instanceof TimeoutError)) throw error
        this.setConnection('reconnecting')
        this.problem(`waiting for NATS: ${error.line}`)
        await pause(delay(), signal)
      }
    }
    return undefined
  }

  /** The JetStream manager and client; retried while JetStream is not answering yet (a server just started). */
  private async openJetStream(): Promise<void> {
    const {signal} = this.options
    const nc = this.nc!
    const delay = this.m.connection.reconnectBackoff()
    while (!signal.aborted) {
      try {
        const features = this.m.versions.serverFeatures(this.m.connection.serverInfo(nc).version)
        if (!features.has('consumersApi')) {
          throw new OperationError('cannot follow the events stream', `this needs nats-server >= ${features.requires('consumersApi')}; this server is ${features.version}`, {hint: 'upgrade the server'})
        }
        this.jsm = await this.m.connection.jetstreamManagerFor(nc, this.ctx.nats, this.ctx.timeoutMs)
        this.js = await this.m.messages.jetstreamClientFor(nc, this.ctx.nats, this.ctx.timeoutMs)
        this.jsApiPrefix = this.m.jetstream.jsApiPrefix(this.ctx.nats.jsDomain)
        return
      } catch (error) {
        if (error instanceof OperationError) throw error
        this.problem(`waiting for JetStream: ${describe(error)}`)
        await pause(delay(), signal)
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.setConnection('disconnected')
        this.options.log(`lost the NATS connection (${status.server}); reconnecting`)
      } else if (status.type === 'reconnecting') {
        if (this.connection !== 'connected') this.setConnection('reconnecting')
      } else if (status.type === 'reconnect') {
        this.setConnection('connected')
        this.options.log(`reconnected to NATS (${status.server}); counting on after sequence ${this.countedSeq}`)
        this.scheduleRefresh(0)
      }
    }
  }

  private scheduleRefresh(delayMs: number): void {
    clearTimeout(this.refreshTimer)
    if (this.options.signal.aborted) return
    this.refreshTimer = setTimeout(() => {
      this.refresh()
        .then(() => {
          if (this.lastProblem?.startsWith(REFRESH_FAILED)) {
            this.options.log('state read again')
            this.lastProblem = undefined
          }
        })
        .catch((error: unknown) => this.problem(`${REFRESH_FAILED}: ${describe(error)}`))
        .finally(() => this.scheduleRefresh(this.options.refreshMs))
    }, delayMs)
  }

  /** Logs a problem once, not at every retry while it lasts. */
  private problem(line: string): void {
    if (line !== this.lastProblem) this.options.log(line)
    this.lastProblem = line
  }

  /**
   * One read of stream and consumer state; also starts, restarts or watches the follower. The follower
   * comes first: the consumers' state may be unreadable for minutes (CONSUMER.LIST times out while a dead
   * node holds one of them, such as this monitor's own previous consumer), and that must not stop counting.
   */
  private async refresh(): Promise<void> {
    // While disconnected every request would wait out its timeout: the last values stay until NATS is back.
    if (this.connection !== 'connected' || !this.jsm) return
    const {jetstream: js, lag} = this.m
    const {jsm} = this
    const {timeoutMs} = this.ctx
    const {metrics} = this
    const streams = await js.listStreams(jsm, this.address, timeoutMs)
    const events = streams.find((s) => s.name === this.options.stream)
    this.streamReadAt = Date.now()
    metrics.storageBytes.reset()
    for (const s of streams) metrics.storageBytes.set({stream: s.name}, s.bytes)
    metrics.activeStreams.set(streams.filter((s) => s.subjects.some((subject) => subject.startsWith('cim.') && !subject.startsWith('cim.ops.'))).length)
    metrics.streamLastSequence.reset()
    if (events) metrics.streamLastSequence.set({stream: events.name}, events.lastSeq)

    this.streamPresent = events !== undefined
    // Its own problem, retried at every refresh; the consumers' state is still read meanwhile.
    if (events) await this.follow(events).catch((error: unknown) => this.problem(`${FOLLOW_FAILED}: ${describe(error)}; retrying after sequence ${this.countedSeq}`))
    else {
      // Not there (yet, or any more): every event it will hold is stored after the monitor looked.
      if (!this.stream) this.countFrom = 'first'
      this.problem(`stream ${this.options.stream} not found (${streams.length > 0 ? `the streams are ${streams.map((s) => s.name).join(', ')}` : 'there are no streams'}); waiting for it`)
    }

    const now = new Date()
    const consumers = events ? await js.listConsumers(jsm, events.name, this.address, timeoutMs) : []
    const others = consumers.filter((c) => !c.name.startsWith(OWN_CONSUMER_PREFIX))
    const projections: Array<{consumer: ConsumerDetails; domain: string; projection: string; lag: number; pending: number}> = []
    for (const consumer of others) {
      const names = consumer.durable ? parseProjectionName(consumer.name) : undefined
      if (!names || !events) continue
      const oldest = await js.oldestUnackedTime(this.nc!, consumer, events, {jsApiPrefix: this.jsApiPrefix, timeoutMs})
      const measures = lag.measureConsumer(consumer, events, oldest, now)
      projections.push({consumer, ...names, lag: measures.lagSeconds, pending: measures.pending})
    }

    // Everything read: swap the values in one go, so a scrape never sees half a refresh.
    metrics.projectionLag.reset()
    metrics.projectionPending.reset()
    metrics.processingLag.reset()
    const byDomain = new Map<string, number>()
    for (const {domain, projection, lag: seconds, pending} of projections) {
      metrics.projectionLag.set({domain, projection}, seconds)
      metrics.projectionPending.set({domain, projection}, pending)
      byDomain.set(domain, Math.max(byDomain.get(domain) ?? 0, seconds))
    }
    for (const [domain, seconds] of byDomain) metrics.processingLag.set({domain}, seconds)
    metrics.queueDepth.reset()
    metrics.queueCapacity.reset()
    const queues = worstQueues(projections.map(({domain, consumer}) => ({domain, ackPending: consumer.ackPending, maxAckPending: consumer.maxAckPending})))
    for (const [domain, {depth, capacity}] of queues) {
      metrics.queueDepth.set({domain}, depth)
      metrics.queueCapacity.set({domain}, capacity)
    }
    // From the start, deliveries made before the monitor started count too; from now, they are the baseline.
    this.deliveries.observe(
      others.map((c) => ({name: c.name, filterSubjects: c.filterSubjects, delivered: c.delivered.consumerSeq})),
      !this.refreshed && !this.options.fromStart,
    )
    metrics.lastRefresh.set(Date.now() / 1000)
    this.refreshed = true
  }

  /** Starts the follower when the stream is first found, restarts it when it stopped, stalled, or the stream was recreated. */
  private async follow(events: StreamSummary): Promise<void> {
    const known = this.stream
    this.stream = events
    if (known && this.lastProblem?.startsWith(`stream ${events.name} not found`)) this.lastProblem = undefined
    if (!known) {
      const from = await this.startSeqFor(events)
      this.countedSeq = from - 1
      this.catchUpTo = from <= events.lastSeq ? events.lastSeq : 0
      if (this.lastProblem?.startsWith(`stream ${events.name} not found`)) {
        this.options.log(`stream ${events.name} found; counting from sequence ${from}`)
        this.lastProblem = undefined
      }
      this.progress = {delivered: this.delivered, at: Date.now()}
      await this.startFollower(from)
      return
    }
    if (known.created.getTime() !== events.created.getTime()) {
      this.options.log(`stream ${events.name} was created anew; counting its events from sequence ${events.firstSeq}`)
      await this.restartFollower(events.firstSeq, true)
      return
    }
    if (!this.follower) {
      await this.startFollower(this.countedSeq + 1)
      return
    }
    // Unread events and no progress for a while: nats.js did not recover the consumer; start afresh.
    if (this.delivered !== this.progress.delivered || events.lastSeq <= this.countedSeq) {
      this.progress = {delivered: this.delivered, at: Date.now()}
    } else if (Date.now() - Math.max(this.progress.at, this.followerStartedAt) > this.notCountingAfterMs()) {
      this.options.log(`no events read for ${Math.round((Date.now() - this.progress.at) / 1000)}s with ${events.lastSeq - this.countedSeq} unread; restarting the follower after sequence ${this.countedSeq}`)
      await this.restartFollower(this.countedSeq + 1, false)
    }
  }

  private async startSeqFor(events: StreamSummary): Promise<number> {
    if (this.countFrom === 'first') return events.firstSeq
    if (this.countFrom === 'next') return events.lastSeq + 1
    return this.m.messages.seqForTime(this.jsm!, events.name, this.countFrom.storedSince, this.address, this.ctx.timeoutMs)
  }

  private async restartFollower(fromSeq: number, anew: boolean): Promise<void> {
    const old = this.follower
    this.follower = undefined
    await old?.stop().catch(() => undefined)
    if (anew) {
      this.countedSeq = fromSeq - 1
      this.catchUpTo = 0
      this.progress = {delivered: this.delivered, at: Date.now()}
    }
    await this.startFollower(fromSeq)
  }

  private async startFollower(fromSeq: number): Promise<void> {
    if (this.followerStarting || this.options.signal.aborted || !this.js) return
    this.followerStarting = true
    try {
      const onMessage = (message: FollowedMessage) => {
        const seq = message.seq
        // The ordered consumer resumes after a gap from the last sequence it delivered, and a restarted
        // follower from the last one counted: never count one twice.
        if (seq <= this.countedSeq) return
        this.countedSeq = seq
        this.delivered++
        this.events.add(message)
      }
      const follower = await this.m.messages.startFollowing(
        this.js,
        {stream: this.options.stream, filterSubjects: []},
        {startSeq: fromSeq, batch: this.options.batch ?? DEFAULT_BATCH, namePrefix: this.namePrefix, onMessage},
        this.address,
        this.ctx.timeoutMs,
      )
      this.follower = follower
      this.followerStartedAt = Date.now()
      if (this.lastProblem?.startsWith(FOLLOW_FAILED)) {
        this.options.log(`following the events stream again after sequence ${this.countedSeq}`)
        this.lastProblem = undefined
      }
      void follower.stopped.then((reason) => {
        if (this.follower !== follower || this.options.signal.aborted) return
        this.follower = undefined
        this.options.log(`the follower stopped${reason instanceof Error ? ` (${reason.message})` : ''}; it resumes after sequence ${this.countedSeq}`)
      })
    } finally {
      this.followerStarting = false
    }
  }
}

function describe(error: unknown): string {
  if (isCimopsError(error)) return error.line
  return error instanceof Error ? error.message : String(error)
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
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

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

async function serve(options: MonitorOptions, metrics: MonitorMetrics, readiness: () => Readiness): Promise<Server> {
  const {createServer} = await import('node:http')
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {Allow: 'GET, HEAD'}).end()
      return
    }
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, {'Content-Type': metrics.registry.contentType}).end(text))
        .catch((error: unknown) => res.writeHead(500, {'Content-Type': 'text/plain'}).end(`${error instanceof Error ? error.message : String(error)}\n`))
    } else if (path === '/healthz') {
      res.writeHead(200, {'Content-Type': 'text/plain'}).end('ok\n')
    } else if (path === '/readyz') {
      const state = readiness()
      res.writeHead(state.ready ? 200 : 503, {'Content-Type': 'text/plain'}).end(state.ready ? 'ready\n' : `not ready: ${state.reason}\n`)
    } else {
      res.writeHead(404, {'Content-Type': 'text/plain'}).end('not found: try /metrics, /healthz, /readyz\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new OperationError(`cannot listen on ${options.host}:${options.port}`, error.code === 'EADDRINUSE' ? 'the address is in use' : error.message, {hint: 'pass another --listen address'})),
    )
    server.listen(options.port, options.host, () => resolve())
  })
  return server
}
