import {joinAddresses} from '../../adapters/redact.js'
import {type Status, worstStatus} from '../../core/check/status.js'
import type {StreamSummary} from '../../adapters/nats/jetstream.js'
import {STREAM_MONITOR_KEYS} from '../../adapters/nats/monitor-metadata.js'
import type {OpsLogLocation} from '../../adapters/nats/ops-events.js'
import {RESTORE_MARKER} from '../../backup/manifest.js'
import type {CheckOutcome} from '../../core/check/result.js'
import type {CheckContext, HealthCheck} from '../runner.js'
import {formatBytes, formatSeconds, plural} from '../../core/output/units.js'
import {invalidMetadataPhrase, type SourcedThreshold} from '../../streams/thresholds.js'

/** Mirrors and sources silent for longer than this are reported, whatever their lag. */
const SOURCE_SILENT_SECONDS = 60

/**
 * The CIM streams of the context exist (the events stream is required; the ops log's stream is created
 * on first use, unless another stream captures cim.ops.>), with their counts, and the lag of any mirror
 * or source feeding them. natscli's `io.nats.monitor.lag-critical` and `seen-critical` in a stream's metadata
 * make a mirror or source that far behind, or silent that long, CRITICAL (no context threshold exists for them).
 */
export const streamsCheck: HealthCheck = {
  name: 'streams',
  component: 'streams',
  target: (ctx) => ({system: 'nats', address: joinAddresses(ctx.nats.servers)}),
  async run({ctx, nats}: CheckContext): Promise<CheckOutcome[]> {
    const jsm = await nats.jsm()
    const [{findStream}, {findOpsLog}] = await Promise.all([import('../../adapters/nats/jetstream.js'), import('../../adapters/nats/ops-events.js')])
    const {events, ops} = ctx.streams
    const [eventsStream, opsLocation] = await Promise.all([findStream(jsm, events, nats.address, ctx.timeoutMs), findOpsLog(jsm, ops, nats.address, ctx.timeoutMs)])
    const opsLogStream = opsLocation.state === 'found' && opsLocation.configured ? await findStream(jsm, ops, nats.address, ctx.timeoutMs) : undefined
    return [
      eventsStream ? streamOutcome(eventsStream) : missing(events, 'CRITICAL', `stream ${events} does not exist: domain events have nowhere to go`),
      opsLogStream ? streamOutcome(opsLogStream) : opsLogOutcome(ops, opsLocation),
    ]
  },
}

/** The ops log when it is not the configured stream itself: stored elsewhere, not created yet, or impossible. */
function opsLogOutcome(ops: string, location: OpsLogLocation): CheckOutcome {
  const outcome =
    location.state === 'found'
      ? missing(ops, 'OK', `ops events are stored in stream ${location.stream}, which captures cim.ops.>`)
      : location.state === 'missing'
        ? missing(ops, 'OK', `stream ${ops} not created yet (cimops creates it on first use)`)
        : missing(ops, 'WARNING', `ops events cannot be stored: ${location.reason} (fix: ${location.hint})`)
  // ops_log: whether ops events can be stored at all, wherever that is.
  return {...outcome, metrics: [...outcome.metrics, {name: 'ops_log', value: location.state === 'blocked' ? 0 : 1}]}
}

function missing(name: string, status: Status, summary: string): CheckOutcome {
  return {name: `stream:${name}`, component: 'streams', status, summary, metrics: [{name: 'exists', value: 0}]}
}

export function streamOutcome(stream: StreamSummary): CheckOutcome {
  const sourceStatus = (source: StreamSummary['sources'][number]): Status =>
    source.error ? 'CRITICAL' : source.lag > 0 && (source.activeSeconds === undefined || source.activeSeconds > SOURCE_SILENT_SECONDS) ? 'WARNING' : 'OK'
  const sources = stream.sources.map((source) => {
    const active = source.activeSeconds === undefined ? 'never active' : `active ${formatSeconds(source.activeSeconds)} ago`
    return `${source.kind} ${source.name}: ${source.error ? `error ${source.error}` : `lag ${source.lag}, ${active}`}`
  })
  const lastEvent = stream.lastTime ? `, last ${formatSeconds(Math.max(0, (Date.now() - stream.lastTime.getTime()) / 1000))} ago` : ''
  // A stream a restore is still filling holds only part of its events, however real it looks.
  const unfinished = stream.description?.startsWith(RESTORE_MARKER) ? [`unfinished restore: ${stream.description}`] : []
  const monitor = monitorFindings(stream)
  return {
    name: `stream:${stream.name}`,
    component: 'streams',
    status: worstStatus([...stream.sources.map(sourceStatus), ...(unfinished.length > 0 ? (['CRITICAL'] as const) : []), ...monitor.statuses]),
    summary: [...unfinished, `${plural(stream.messages, 'message')}, ${formatBytes(stream.bytes)}, ${plural(stream.consumers, 'consumer')}${lastEvent}`, ...sources, ...monitor.reasons].join('; '),
    metrics: [
      {name: 'exists', value: 1},
      {name: 'messages', value: stream.messages},
      {name: 'bytes', value: stream.bytes, unit: 'B'},
      {name: 'consumers', value: stream.consumers},
      ...stream.sources.map((source) => ({name: `${source.kind}_${source.name}_lag`, value: source.lag, ...(monitor.thresholds.lagCritical ? {crit: monitor.thresholds.lagCritical.value} : {})})),
    ],
    ...(stream.monitor ? {details: {thresholds: monitor.thresholds}} : {}),
  }
}

/** The stream's own natscli thresholds on its mirror and sources (jsm.go: at or above is CRITICAL); unreadable values are a WARNING. */
function monitorFindings(stream: StreamSummary): {statuses: Status[]; reasons: string[]; thresholds: {lagCritical?: SourcedThreshold; seenCritical?: SourcedThreshold}} {
  const set = stream.monitor?.thresholds ?? {}
  const statuses: Status[] = []
  const reasons: string[] = []
  for (const source of stream.sources) {
    if (set.lagCritical !== undefined && source.lag >= set.lagCritical) {
      statuses.push('CRITICAL')
      reasons.push(`${source.kind} ${source.name}: lag ${source.lag} >= ${set.lagCritical} (metadata)`)
    }
    if (set.seenCritical !== undefined && source.activeSeconds !== undefined && source.activeSeconds >= set.seenCritical) {
      statuses.push('CRITICAL')
      reasons.push(`${source.kind} ${source.name}: last active ${formatSeconds(source.activeSeconds)} ago >= ${formatSeconds(set.seenCritical)} (metadata)`)
    }
  }
  for (const entry of stream.monitor?.invalid ?? []) {
    statuses.push('WARNING')
    reasons.push(invalidMetadataPhrase(`stream ${stream.name}`, entry, 'ignored'))
  }
  const thresholds: {lagCritical?: SourcedThreshold; seenCritical?: SourcedThreshold} = {}
  if (set.lagCritical !== undefined) thresholds.lagCritical = {value: set.lagCritical, source: 'metadata', key: STREAM_MONITOR_KEYS.lagCritical}
  if (set.seenCritical !== undefined) thresholds.seenCritical = {value: set.seenCritical, source: 'metadata', key: STREAM_MONITOR_KEYS.seenCritical}
  return {statuses, reasons, thresholds}
}
