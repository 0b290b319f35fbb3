import {Flags} from '@oclif/core'

import {BaseCommand} from '../lib/core/base-command.js'
import {MAX_TIMER_MS, parseDuration} from '../lib/core/duration.js'
import {UsageError} from '../lib/core/errors.js'
import {parseListen} from '../lib/monitor/subject.js'

/** How often stream and consumer state (lag, queues, deliveries, storage) is read, by default. */
const DEFAULT_REFRESH = '5s'
const MIN_REFRESH_MS = 200
/** After SIGTERM, the monitor leaves within this long even if a close hangs. */
const STOP_GRACE_MS = 3000

export default class Monitor extends BaseCommand<typeof Monitor> {
  static summary = 'Export CIM metrics from NATS for Prometheus: /metrics, /healthz, /readyz'
  static description = `A long-running exporter, the event monitor of CIM's monitoring guide. It follows the events stream with an ordered consumer and counts every event stored from now on (every stored one with --from-start): cim_events_total{domain,event_type}, and cim_nats_messages_sent_total{subject}, the messages published into the events stream as JetStream stored them, by subject prefix (cim.<domain>).

A failed event is one whose type ends in "Failed" (StepFailed, WorkflowFailed): it counts in cim_events_total and in cim_events_failed_total{domain,event_type,error}, where error is the body's data.errorType, data.error_type or data.error (a string, or the type/code of an object), else "unknown"; at most 20 error values per event type, the rest as "_other".

Every --refresh (default ${DEFAULT_REFRESH}) it reads the streams and the projection consumers (durable consumers named <domain>-<projection>): cim_projection_lag_seconds and cim_event_processing_lag_seconds (age of the oldest unacknowledged event), cim_projection_pending_events; cim_event_queue_depth{domain} and cim_event_queue_capacity{domain}, the num_ack_pending and max_ack_pending of the domain's most saturated projection (at capacity JetStream stops delivering to it: backpressure; +Inf when unlimited); cim_nats_messages_received_total{subject}, the deliveries JetStream made to the stream's consumers (redeliveries included, the monitor's own left out) by filter prefix; cim_active_event_streams, cim_nats_jetstream_storage_bytes{stream}; cim_monitor_stream_last_sequence and cim_monitor_counted_sequence, how far behind the monitor is. Plus cim_nats_connections{state} and the process's own metrics.

It keeps serving through NATS outages: it reconnects without limit (at once, then after 0.5s, 1s, 2s, 4s, then every 5s) and resumes counting after the last sequence it counted, so nothing is counted twice or missed. It may start before NATS, or before the stream exists.

Listens on 127.0.0.1:9091 unless told otherwise. /readyz answers 200 while connected, once state has been read and the counters cover the stream as it was when found, and while it is counting; 503 with the reason otherwise, also when events wait unread or the stream cannot be read for 3 refreshes (at least 3s and twice --timeout: a cluster node holding the stream's leader or the monitor's consumer died), while the follower is restarted and retried. SIGTERM stops it cleanly with exit 0, Ctrl-C with 130.`
  static examples = [
    '<%= config.bin %> monitor',
    '<%= config.bin %> monitor --listen 0.0.0.0:9091 --from-start',
    '<%= config.bin %> monitor --refresh 1s',
    'curl -s 127.0.0.1:9091/metrics | grep ^cim_',
  ]
  static enableJsonFlag = false
  static flags = {
    listen: Flags.string({summary: 'Address to serve on, host:port.', default: '127.0.0.1:9091'}),
    stream: Flags.string({summary: "Events stream [default: the context's events stream (EVENTS)]."}),
    'from-start': Flags.boolean({summary: 'Count every stored event, not only those stored from now on.'}),
    refresh: Flags.string({summary: 'How often stream and consumer state is read, e.g. 1s.', default: DEFAULT_REFRESH}),
  }

  /** SIGTERM is how a supervisor stops a service: a normal stop (exit 0). Ctrl-C stays an interrupt (130). */
  private readonly terminate = new AbortController()

  async init(): Promise<void> {
    const before = new Set(process.listeners('SIGTERM'))
    await super.init()
    for (const listener of process.listeners('SIGTERM')) if (!before.has(listener)) process.off('SIGTERM', listener)
    process.once('SIGTERM', () => {
      this.terminate.abort()
      setTimeout(() => process.exit(0), STOP_GRACE_MS).unref()
      process.once('SIGTERM', () => process.exit(0))
    })
  }

  async run(): Promise<void> {
    const listen = parseListen(this.flags.listen)
    if (!listen) throw new UsageError(`invalid --listen "${this.flags.listen}"`, 'expected host:port, such as 127.0.0.1:9091')
    const refreshMs = parseDuration(this.flags.refresh, '--refresh', {max: MAX_TIMER_MS})
    if (refreshMs < MIN_REFRESH_MS) throw new UsageError(`invalid --refresh "${this.flags.refresh}"`, `must be at least ${MIN_REFRESH_MS}ms`)
    const ctx = await this.context()
    const {runMonitor} = await import('../lib/monitor/exporter.js')
    await runMonitor(ctx, {
      ...listen,
      stream: this.flags.stream ?? ctx.streams.events,
      fromStart: this.flags['from-start'],
      refreshMs,
      signal: AbortSignal.any([this.signal, this.terminate.signal]),
      log: (line) => this.note(`cimops monitor: ${line}`),
    })
  }
}
