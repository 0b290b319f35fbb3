/**
 * `cimops monitor`: follows the events stream with an ordered consumer (counting events by domain and
 * type), reads stream and projection-consumer state every few seconds (lag, storage), and serves it
 * all as Prometheus metrics on /metrics, with /healthz (process up) and /readyz (connected, state read,
 * and - with --from-start - caught up with the stream as it was at start).
 */
import type {Server} from 'node:http'

import type {ResolvedContext} from '../core/context-types.js'
import {OperationError} from '../core/errors.js'
import type {JetStreamSession} from '../streams/session.js'
import type {MonitorMetrics} from './metrics.js'
import {parseCimSubject, parseProjectionName} from './subject.js'

export interface MonitorOptions {
  host: string
  port: number
  stream: string
  fromStart: boolean
  /** How often stream and consumer state is read. */
  refreshMs: number
  signal: AbortSignal
  log: (line: string) => void
}

export async function runMonitor(ctx: ResolvedContext, options: MonitorOptions): Promise<void> {
  const [{createMetrics, setConnectionState}, {openJetStream}, js, {followMessages}, {measureConsumer}, {checkReadSupport}] = await Promise.all([
    import('./metrics.js'),
    import('../streams/session.js'),
    import('../adapters/nats/jetstream.js'),
    import('../adapters/nats/messages.js'),
    import('../streams/lag.js'),
    import('../streams/events.js'),
  ])
  if (options.signal.aborted) return
  const metrics = await createMetrics()
  const session = await openJetStream(ctx, {reconnect: true})
  let server: Server | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    checkReadSupport(session.features)
    const {jsm, address, timeoutMs} = session
    const stream = await js.findStream(jsm, options.stream, address, timeoutMs)
    if (!stream) {
      const names = await js.listStreamNames(jsm, address, timeoutMs)
      throw new OperationError(`stream ${options.stream} not found`, names.length > 0 ? `the streams are ${names.join(', ')}` : 'there are no streams', {hint: 'pass --stream'})
    }
    setConnectionState(metrics, 'connected')
    void watchStatus(session, metrics, setConnectionState)

    // Ready once state has been read and the counters cover the stream as it was at start.
    const catchUpTo = options.fromStart ? stream.lastSeq : 0
    let lastSeq = options.fromStart ? stream.firstSeq - 1 : stream.lastSeq
    let refreshed = false
    const ready = () => refreshed && lastSeq >= catchUpTo && !session.nc.isClosed()

    const refresh = async () => {
      const now = new Date()
      const streams = await js.listStreams(jsm, address, timeoutMs)
      const events = streams.find((s) => s.name === options.stream)
      const consumers = events ? await js.listConsumers(jsm, options.stream, address, timeoutMs) : []
      const lags: Array<{domain: string; projection: string; lag: number; pending: number}> = []
      for (const consumer of consumers) {
        const names = consumer.durable ? parseProjectionName(consumer.name) : undefined
        if (!names || !events) continue
        const oldest = await js.oldestUnackedTime(session.nc, consumer, events, {jsApiPrefix: session.jsApiPrefix, timeoutMs})
        const measures = measureConsumer(consumer, events, oldest, now)
        lags.push({...names, lag: measures.lagSeconds, pending: measures.pending})
      }
      // Everything read: swap the values in one go, so a scrape never sees half a refresh.
      metrics.storageBytes.reset()
      for (const s of streams) metrics.storageBytes.set({stream: s.name}, s.bytes)
      metrics.activeStreams.set(streams.filter((s) => s.subjects.some((subject) => subject.startsWith('cim.') && !subject.startsWith('cim.ops.'))).length)
      metrics.projectionLag.reset()
      metrics.projectionPending.reset()
      metrics.processingLag.reset()
      const byDomain = new Map<string, number>()
      for (const {domain, projection, lag, pending} of lags) {
        metrics.projectionLag.set({domain, projection}, lag)
        metrics.projectionPending.set({domain, projection}, pending)
        byDomain.set(domain, Math.max(byDomain.get(domain) ?? 0, lag))
      }
      for (const [domain, lag] of byDomain) metrics.processingLag.set({domain}, lag)
      metrics.lastRefresh.set(Date.now() / 1000)
      refreshed = true
    }
    await refresh()
    const tick = () => {
      timer = setTimeout(() => {
        refresh()
          .catch((error: unknown) => options.log(`refresh failed: ${error instanceof Error ? error.message : String(error)}`))
          .finally(() => {
            if (!options.signal.aborted) tick()
          })
      }, options.refreshMs)
    }
    tick()

    server = await serve(options, metrics, ready)
    options.log(`serving http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}/metrics (stream ${options.stream}, ${options.fromStart ? 'from the start' : 'from now'})`)

    await followMessages(
      await session.js(),
      {stream: options.stream, filterSubjects: []},
      {
        signal: options.signal,
        startSeq: options.fromStart ? stream.firstSeq : stream.lastSeq + 1,
        onMessage: (message) => {
          // The ordered consumer resumes after a gap from the last sequence it delivered: never count one twice.
          if (message.seq <= lastSeq) return
          lastSeq = message.seq
          const parsed = parseCimSubject(message.subject)
          if (parsed) metrics.eventsTotal.inc({domain: parsed.domain, event_type: parsed.eventType})
          else metrics.eventsInvalid.inc({stream: options.stream})
        },
      },
      address,
      timeoutMs,
    )
  } finally {
    clearTimeout(timer)
    await new Promise<void>((resolve) => {
      if (!server) return resolve()
      server.close(() => resolve())
      server.closeAllConnections()
    })
    await session.close()
  }
}

async function watchStatus(session: JetStreamSession, metrics: MonitorMetrics, set: (m: MonitorMetrics, state: 'connected' | 'reconnecting' | 'disconnected' | 'closed') => void): Promise<void> {
  void session.nc.closed().then(() => set(metrics, 'closed'))
  for await (const status of session.nc.status()) {
    if (status.type === 'disconnect') set(metrics, 'disconnected')
    else if (status.type === 'reconnecting') set(metrics, 'reconnecting')
    else if (status.type === 'reconnect') set(metrics, 'connected')
  }
}

async function serve(options: MonitorOptions, metrics: MonitorMetrics, ready: () => boolean): Promise<Server> {
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
      const ok = ready()
      res.writeHead(ok ? 200 : 503, {'Content-Type': 'text/plain'}).end(ok ? 'ready\n' : 'not ready\n')
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
