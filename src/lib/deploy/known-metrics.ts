/**
 * The metric names CIM's monitoring assets may use, in one place: the dashboards and alert rules in
 * deploy/ are checked against it (`cimops deploy lint`, test/integration/deploy-*.test.ts), so a typo or
 * a metric nobody exports is caught before a panel stays empty at 3 a.m.
 *
 * Sources: `cimops monitor` (DESIGN.md "CIM conventions", src/lib/monitor/metrics.ts) and the prom-client
 * defaults it keeps; series Prometheus makes itself; node_exporter, including the textfile collector's
 * `cimops … --format prometheus --textfile` output; prometheus-nats-exporter (-varz, -jsz); NVIDIA DCGM
 * exporter (default counters). Only names some asset uses, or an operator is likely to, are listed:
 * add one here when a dashboard or rule needs it.
 */

export type MetricSource = 'cim-monitor' | 'prom-client' | 'prometheus' | 'node_exporter' | 'cimops-textfile' | 'nats-exporter' | 'dcgm-exporter'
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary'

export interface KnownMetric {
  name: string
  source: MetricSource
  type: MetricType
  help: string
}

const monitor = (name: string, type: MetricType, help: string): KnownMetric => ({name, source: 'cim-monitor', type, help})
const promClient = (name: string, type: MetricType, help: string): KnownMetric => ({name, source: 'prom-client', type, help})
const prometheus = (name: string, type: MetricType, help: string): KnownMetric => ({name, source: 'prometheus', type, help})
const node = (name: string, type: MetricType, help: string): KnownMetric => ({name, source: 'node_exporter', type, help})
const textfile = (name: string, help: string): KnownMetric => ({name, source: 'cimops-textfile', type: 'gauge', help})
const nats = (name: string, type: MetricType, help: string): KnownMetric => ({name, source: 'nats-exporter', type, help})
const dcgm = (name: string, type: MetricType, help: string): KnownMetric => ({name, source: 'dcgm-exporter', type, help})

export const KNOWN_METRICS: readonly KnownMetric[] = [
  // cimops monitor (job cim-monitor, :9091)
  monitor('cim_events_total', 'counter', 'Domain events on the events stream {domain, event_type}.'),
  monitor('cim_events_failed_total', 'counter', 'Events whose processing failed {domain, event_type, error}.'),
  monitor('cim_events_invalid_subject_total', 'counter', 'Messages whose subject is not cim.<domain>.<aggregateType>.<aggregateId>.<eventType> {stream}.'),
  monitor('cim_event_processing_lag_seconds', 'gauge', 'Age of the oldest unacknowledged event of any projection of the domain {domain}.'),
  monitor('cim_projection_lag_seconds', 'gauge', 'Age of the oldest event the projection has not acknowledged {domain, projection}.'),
  monitor('cim_projection_pending_events', 'gauge', 'Events the projection still has to process {domain, projection}.'),
  monitor('cim_event_queue_depth', 'gauge', 'Queued events waiting {domain}.'),
  monitor('cim_event_queue_capacity', 'gauge', 'Maximum queue size {domain}.'),
  monitor('cim_active_event_streams', 'gauge', 'JetStream streams carrying CIM domain events.'),
  monitor('cim_nats_connections', 'gauge', "The monitor's NATS connection, 1 for its current state {state}."),
  monitor('cim_nats_messages_sent_total', 'counter', 'Messages published {subject}.'),
  monitor('cim_nats_messages_received_total', 'counter', 'Messages consumed {subject}.'),
  monitor('cim_nats_jetstream_storage_bytes', 'gauge', 'Bytes stored by each JetStream stream {stream}.'),
  monitor('cim_monitor_last_refresh_timestamp_seconds', 'gauge', 'When consumer and stream state was last read (Unix time).'),
  monitor('cim_monitor_counted_sequence', 'gauge', 'Stream sequence of the last event the monitor counted {stream}.'),
  monitor('cim_monitor_stream_last_sequence', 'gauge', "The events stream's last sequence at the last refresh {stream}."),

  // prom-client default metrics of the monitor process (its *_total gauges are dropped: promtool rejects them)
  promClient('process_cpu_user_seconds_total', 'counter', 'User CPU time.'),
  promClient('process_cpu_system_seconds_total', 'counter', 'System CPU time.'),
  promClient('process_cpu_seconds_total', 'counter', 'User and system CPU time.'),
  promClient('process_start_time_seconds', 'gauge', 'Process start time (Unix time).'),
  promClient('process_resident_memory_bytes', 'gauge', 'Resident memory.'),
  promClient('process_virtual_memory_bytes', 'gauge', 'Virtual memory.'),
  promClient('process_heap_bytes', 'gauge', 'Process heap.'),
  promClient('process_open_fds', 'gauge', 'Open file descriptors.'),
  promClient('process_max_fds', 'gauge', 'Maximum open file descriptors.'),
  promClient('nodejs_eventloop_lag_seconds', 'gauge', 'Event loop lag.'),
  promClient('nodejs_eventloop_lag_min_seconds', 'gauge', 'Minimum event loop lag.'),
  promClient('nodejs_eventloop_lag_max_seconds', 'gauge', 'Maximum event loop lag.'),
  promClient('nodejs_eventloop_lag_mean_seconds', 'gauge', 'Mean event loop lag.'),
  promClient('nodejs_eventloop_lag_stddev_seconds', 'gauge', 'Standard deviation of event loop lag.'),
  promClient('nodejs_eventloop_lag_p50_seconds', 'gauge', 'Median event loop lag.'),
  promClient('nodejs_eventloop_lag_p90_seconds', 'gauge', '90th percentile event loop lag.'),
  promClient('nodejs_eventloop_lag_p99_seconds', 'gauge', '99th percentile event loop lag.'),
  promClient('nodejs_active_resources', 'gauge', 'Active resources keeping the event loop alive {type}.'),
  promClient('nodejs_active_handles', 'gauge', 'Active libuv handles {type}.'),
  promClient('nodejs_active_requests', 'gauge', 'Active libuv requests {type}.'),
  promClient('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size.'),
  promClient('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used.'),
  promClient('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory.'),
  promClient('nodejs_heap_space_size_total_bytes', 'gauge', 'V8 heap space size {space}.'),
  promClient('nodejs_heap_space_size_used_bytes', 'gauge', 'V8 heap space used {space}.'),
  promClient('nodejs_heap_space_size_available_bytes', 'gauge', 'V8 heap space available {space}.'),
  promClient('nodejs_version_info', 'gauge', 'Node.js version {version, major, minor, patch}.'),
  promClient('nodejs_gc_duration_seconds', 'histogram', 'Garbage collection duration {kind}.'),

  // Made by Prometheus itself
  prometheus('up', 'gauge', '1 when the last scrape of the target succeeded {job, instance}.'),
  prometheus('scrape_duration_seconds', 'gauge', 'Duration of the last scrape.'),
  prometheus('scrape_samples_scraped', 'gauge', 'Samples the target exposed.'),
  prometheus('ALERTS', 'gauge', 'Pending and firing alerts {alertname, alertstate, ...}.'),
  prometheus('ALERTS_FOR_STATE', 'gauge', 'When each pending or firing alert became active.'),

  // node_exporter (job node, :9100)
  node('node_memory_MemAvailable_bytes', 'gauge', 'Memory available.'),
  node('node_memory_MemTotal_bytes', 'gauge', 'Memory total.'),
  node('node_filesystem_avail_bytes', 'gauge', 'Filesystem space available to non-root users.'),
  node('node_filesystem_free_bytes', 'gauge', 'Filesystem free space.'),
  node('node_filesystem_size_bytes', 'gauge', 'Filesystem size.'),
  node('node_cpu_seconds_total', 'counter', 'CPU time {cpu, mode}.'),
  node('node_load1', 'gauge', '1-minute load average.'),
  node('node_network_receive_bytes_total', 'counter', 'Network bytes received {device}.'),
  node('node_network_transmit_bytes_total', 'counter', 'Network bytes sent {device}.'),
  node('node_textfile_scrape_error', 'gauge', '1 when a textfile collector file could not be read.'),

  // cimops health-check / gpu status --format prometheus --textfile, read by node_exporter's textfile collector
  textfile('cimops_health_status', 'Overall status of the last run (0=OK, 1=WARNING, 2=CRITICAL, 3=UNKNOWN).'),
  textfile('cimops_health_duration_seconds', 'Wall time of the last run.'),
  textfile('cimops_check_status', 'Status of one check {check, component} (Nagios code).'),
  textfile('cimops_gpu_gpus', 'GPUs found on the host.'),
  textfile('cimops_gpu_utilization_percent', 'GPU utilization, NVIDIA or Apple Silicon {check}.'),
  textfile('cimops_gpu_temperature', 'GPU temperature, °C {check}.'),
  textfile('cimops_gpu_memory_used_bytes', 'GPU memory used {check}.'),
  textfile('cimops_gpu_power', 'GPU power draw, W {check}.'),
  textfile('cimops_gpu_ecc_uncorrected', 'Uncorrected volatile ECC errors {check}.'),

  // prometheus-nats-exporter (job nats, :7777): -varz
  nats('gnatsd_varz_connections', 'gauge', 'Current client connections {server_id}.'),
  nats('gnatsd_varz_total_connections', 'counter', 'Client connections since start.'),
  nats('gnatsd_varz_subscriptions', 'gauge', 'Subscriptions.'),
  nats('gnatsd_varz_slow_consumers', 'counter', 'Slow consumers since start.'),
  nats('gnatsd_varz_in_msgs', 'counter', 'Messages received.'),
  nats('gnatsd_varz_out_msgs', 'counter', 'Messages sent.'),
  nats('gnatsd_varz_in_bytes', 'counter', 'Bytes received.'),
  nats('gnatsd_varz_out_bytes', 'counter', 'Bytes sent.'),
  nats('gnatsd_varz_routes', 'gauge', 'Cluster routes.'),
  nats('gnatsd_varz_mem', 'gauge', 'Server memory, bytes.'),
  nats('gnatsd_varz_cpu', 'gauge', 'Server CPU, percent.'),
  nats('gnatsd_varz_jetstream_stats_storage', 'gauge', 'JetStream file storage used, bytes.'),
  nats('gnatsd_varz_jetstream_stats_memory', 'gauge', 'JetStream memory storage used, bytes.'),
  nats('gnatsd_varz_jetstream_config_max_storage', 'gauge', 'JetStream file storage limit, bytes.'),
  nats('gnatsd_varz_jetstream_config_max_memory', 'gauge', 'JetStream memory storage limit, bytes.'),
  // -jsz
  nats('jetstream_server_total_streams', 'gauge', 'Streams in JetStream {server_name}.'),
  nats('jetstream_server_total_consumers', 'gauge', 'Consumers in JetStream.'),
  nats('jetstream_server_total_messages', 'gauge', 'Messages stored in JetStream.'),
  nats('jetstream_server_total_message_bytes', 'gauge', 'Bytes stored in JetStream.'),
  nats('jetstream_server_max_storage', 'gauge', 'JetStream storage limit, bytes.'),
  nats('jetstream_stream_total_messages', 'gauge', 'Messages in a stream {stream_name}.'),
  nats('jetstream_stream_total_bytes', 'gauge', 'Bytes in a stream {stream_name}.'),
  nats('jetstream_stream_consumer_count', 'gauge', 'Consumers of a stream {stream_name}.'),
  nats('jetstream_consumer_num_pending', 'gauge', 'Messages not yet delivered to a consumer {stream_name, consumer_name}.'),
  nats('jetstream_consumer_num_ack_pending', 'gauge', 'Messages delivered to a consumer and not acknowledged.'),
  nats('jetstream_consumer_num_redelivered', 'gauge', 'Messages redelivered to a consumer.'),

  // NVIDIA DCGM exporter (job dcgm, :9400), default counters {gpu, UUID, device, modelName, Hostname}
  dcgm('DCGM_FI_DEV_GPU_UTIL', 'gauge', 'GPU utilization, %.'),
  dcgm('DCGM_FI_DEV_MEM_COPY_UTIL', 'gauge', 'Memory utilization, %.'),
  dcgm('DCGM_FI_DEV_FB_USED', 'gauge', 'Framebuffer memory used, MiB.'),
  dcgm('DCGM_FI_DEV_FB_FREE', 'gauge', 'Framebuffer memory free, MiB.'),
  dcgm('DCGM_FI_DEV_GPU_TEMP', 'gauge', 'GPU temperature, °C.'),
  dcgm('DCGM_FI_DEV_MEMORY_TEMP', 'gauge', 'Memory temperature, °C.'),
  dcgm('DCGM_FI_DEV_POWER_USAGE', 'gauge', 'Power draw, W.'),
  dcgm('DCGM_FI_DEV_SM_CLOCK', 'gauge', 'SM clock, MHz.'),
  dcgm('DCGM_FI_DEV_MEM_CLOCK', 'gauge', 'Memory clock, MHz.'),
  dcgm('DCGM_FI_DEV_XID_ERRORS', 'gauge', 'Value of the last Xid error.'),
  dcgm('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'counter', 'PCIe retries.'),
  dcgm('DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', 'counter', 'Rows remapped for uncorrectable errors.'),
  dcgm('DCGM_FI_DEV_ROW_REMAP_FAILURE', 'gauge', '1 when row remapping failed.'),
]

const SERIES_SUFFIXES: Record<MetricType, string[]> = {counter: [''], gauge: [''], histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count']}

/** Every series name the known metrics produce (a histogram is its _bucket, _sum and _count series). */
export function knownSeriesNames(metrics: readonly KnownMetric[] = KNOWN_METRICS): Set<string> {
  return new Set(metrics.flatMap((metric) => SERIES_SUFFIXES[metric.type].map((suffix) => metric.name + suffix)))
}

/** Names in `names` that are neither known nor in `extra` (e.g. recording rules of the same assets), sorted, once each. */
export function unknownMetrics(names: Iterable<string>, extra: Iterable<string> = []): string[] {
  const known = knownSeriesNames()
  for (const name of extra) known.add(name)
  return [...new Set([...names].filter((name) => !known.has(name)))].sort()
}
