import {Flags} from '@oclif/core'

import {BaseCommand} from '../lib/core/base-command.js'
import {UsageError} from '../lib/core/errors.js'
import {parseListen} from '../lib/monitor/subject.js'

/** How often stream and consumer state (lag, storage) is read. */
const REFRESH_MS = 5000

export default class Monitor extends BaseCommand<typeof Monitor> {
  static summary = 'Export CIM metrics from NATS for Prometheus: /metrics, /healthz, /readyz'
  static description = `A long-running exporter. Counts domain events on the events stream by domain and event type (cim_events_total, an ordered consumer from now, or from the first stored event with --from-start), and every ${REFRESH_MS / 1000}s reads projection consumers (durable consumers named <domain>-<projection>) and streams for cim_projection_lag_seconds, cim_event_processing_lag_seconds, cim_active_event_streams, cim_nats_jetstream_storage_bytes; plus cim_nats_connections{state} and the process's own metrics.
Listens on 127.0.0.1:9091 unless told otherwise. /readyz answers 200 once state has been read and, with --from-start, the counters cover the stream as it was at start. Stops cleanly on SIGTERM or Ctrl-C.`
  static examples = ['<%= config.bin %> monitor', '<%= config.bin %> monitor --listen 0.0.0.0:9091 --from-start', 'curl -s 127.0.0.1:9091/metrics | grep ^cim_']
  static enableJsonFlag = false
  static flags = {
    listen: Flags.string({summary: 'Address to serve on, host:port.', default: '127.0.0.1:9091'}),
    stream: Flags.string({summary: "Events stream [default: the context's events stream (EVENTS)]."}),
    'from-start': Flags.boolean({summary: 'Count every stored event, not only those stored from now on.'}),
  }

  async run(): Promise<void> {
    const listen = parseListen(this.flags.listen)
    if (!listen) throw new UsageError(`invalid --listen "${this.flags.listen}"`, 'expected host:port, such as 127.0.0.1:9091')
    const ctx = await this.context()
    const {runMonitor} = await import('../lib/monitor/exporter.js')
    await runMonitor(ctx, {
      ...listen,
      stream: this.flags.stream ?? ctx.streams.events,
      fromStart: this.flags['from-start'],
      refreshMs: REFRESH_MS,
      signal: this.signal,
      log: (line) => this.note(`cimops monitor: ${line}`),
    })
  }
}
