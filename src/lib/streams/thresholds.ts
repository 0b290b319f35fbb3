import type {ConsumerSummary} from '../adapters/nats/jetstream.js'
import {CONSUMER_MONITOR_KEYS, type ConsumerMonitorThresholds, type InvalidMonitorValue} from '../adapters/nats/monitor-metadata.js'
import {worstStatus} from '../core/check/status.js'
import type {ResolvedContext} from '../core/context-types.js'
import {parseDuration} from '../core/duration.js'
import {UsageError} from '../core/errors.js'
import {formatSeconds, plural} from '../core/output/units.js'
import {type ConsumerMeasures, type ConsumerThresholds, type ConsumerThresholdSources, type ConsumerVerdict, consumerVerdict, type ThresholdSource} from './lag.js'

export interface ThresholdFlags {
  lagWarn?: string
  lagCrit?: string
  pendingWarn?: string
  pendingCrit?: string
  stallAfter?: string
}

/** Thresholds with where each came from, and the natscli metadata key behind those taken from metadata. */
export interface ConsumerThresholdSet {
  values: ConsumerThresholds
  sources: ConsumerThresholdSources
  metadataKeys: Partial<Record<keyof ConsumerThresholds, string>>
}

/** One threshold as --json shows it. */
export interface SourcedThreshold {
  value: number
  source: ThresholdSource
  /** The `io.nats.monitor.*` key, when the source is metadata. */
  key?: string
}

/**
 * natscli's consumer keys and the cimops threshold each sets. cimops's pending is unprocessed + ack pending,
 * never less than natscli's num_pending, so `unprocessed-critical` turns CRITICAL no later than natscli does;
 * a stall needs work pending, where natscli's `last-delivery-critical` also flags an idle consumer with none.
 */
const CONSUMER_KEYS: Array<[keyof ConsumerMonitorThresholds, keyof ConsumerThresholds]> = [
  ['unprocessedCritical', 'pendingCrit'],
  ['lastDeliveryCritical', 'stallAfter'],
]

const LABEL: Record<keyof ConsumerThresholds, string> = {
  lagWarn: 'lag warn',
  lagCrit: 'lag crit',
  pendingWarn: 'pending warn',
  pendingCrit: 'pending crit',
  stallAfter: 'stall after',
}

/** Flags win over the context's thresholds; pending thresholds are off unless given. */
export function consumerThresholds(ctx: Pick<ResolvedContext, 'thresholds' | 'thresholdSources'>, flags: ThresholdFlags): ConsumerThresholdSet {
  const sources: ConsumerThresholdSources = {}
  const seconds = (key: 'lagWarn' | 'lagCrit' | 'stallAfter', flag: string, value: string | undefined) => {
    sources[key] = value === undefined ? ctx.thresholdSources[key] : 'flag'
    return value === undefined ? ctx.thresholds[key] : parseDuration(value, `--${flag}`) / 1000
  }
  const count = (key: 'pendingWarn' | 'pendingCrit', flag: string, value: string | undefined) => {
    if (value === undefined) return undefined
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`invalid --${flag} "${value}"`, 'expected a whole number of events')
    sources[key] = 'flag'
    return Number(value)
  }
  const values: ConsumerThresholds = {
    lagWarn: seconds('lagWarn', 'lag-warn', flags.lagWarn),
    lagCrit: seconds('lagCrit', 'lag-crit', flags.lagCrit),
    stallAfter: seconds('stallAfter', 'stall-after', flags.stallAfter),
    ...withDefined({pendingWarn: count('pendingWarn', 'pending-warn', flags.pendingWarn), pendingCrit: count('pendingCrit', 'pending-crit', flags.pendingCrit)}),
  }
  if (values.lagWarn > values.lagCrit) {
    throw new UsageError('inconsistent --lag-warn/--lag-crit', `warning ${formatSeconds(values.lagWarn)} must be at most critical ${formatSeconds(values.lagCrit)}`)
  }
  if (values.pendingWarn !== undefined && values.pendingCrit !== undefined && values.pendingWarn > values.pendingCrit) {
    throw new UsageError('inconsistent --pending-warn/--pending-crit', `warning ${plural(values.pendingWarn, 'event')} must be at most critical ${plural(values.pendingCrit, 'event')}`)
  }
  return {values, sources, metadataKeys: {}}
}

/** The thresholds one consumer is judged by: its natscli metadata over the context and defaults; a flag of this command over all. */
export function consumerThresholdsFor(base: ConsumerThresholdSet, monitor: ConsumerSummary['monitor']): ConsumerThresholdSet {
  const set: ConsumerThresholdSet = {values: {...base.values}, sources: {...base.sources}, metadataKeys: {}}
  for (const [field, threshold] of CONSUMER_KEYS) {
    const value = monitor?.thresholds[field]
    if (value === undefined || base.sources[threshold] === 'flag') continue
    set.values[threshold] = value
    set.sources[threshold] = 'metadata'
    set.metadataKeys[threshold] = CONSUMER_MONITOR_KEYS[field]
  }
  return set
}

/** The verdict on a consumer by its own thresholds; a metadata value that cannot be read is a WARNING naming it. */
export function judgeConsumer(
  consumer: Pick<ConsumerSummary, 'stream' | 'name' | 'monitor'>,
  measures: Omit<ConsumerMeasures, 'lagSeconds'> & {lagSeconds?: number},
  base: ConsumerThresholdSet,
): {verdict: ConsumerVerdict; thresholds: ConsumerThresholdSet} {
  const thresholds = consumerThresholdsFor(base, consumer.monitor)
  const verdict = consumerVerdict(measures, thresholds.values, thresholds.sources)
  const invalid = (consumer.monitor?.invalid ?? []).map((entry) => {
    const threshold = CONSUMER_KEYS.find(([field]) => CONSUMER_MONITOR_KEYS[field] === entry.key)?.[1]
    return invalidMetadataPhrase(`consumer ${consumer.stream} > ${consumer.name}`, entry, threshold ? fallbackPhrase(threshold, thresholds) : 'ignored')
  })
  if (invalid.length === 0) return {verdict, thresholds}
  return {verdict: {...verdict, status: worstStatus([verdict.status, 'WARNING']), reasons: [...verdict.reasons, ...invalid]}, thresholds}
}

/** `invalid metadata on stream ORDERS: io.nats.monitor.lag-critical="lots" is not a whole number without sign; ignored`. */
export function invalidMetadataPhrase(object: string, entry: InvalidMonitorValue, consequence: string): string {
  return `invalid metadata on ${object}: ${entry.key}=${JSON.stringify(entry.value)} is not ${entry.expected}; ${consequence}`
}

/** Each threshold with its value and source, for --json; thresholds that are off are left out. */
export function describeThresholds(set: ConsumerThresholdSet): Partial<Record<keyof ConsumerThresholds, SourcedThreshold>> {
  const entries = (Object.keys(LABEL) as Array<keyof ConsumerThresholds>).flatMap((key) => {
    const value = set.values[key]
    const source = set.sources[key]
    if (value === undefined || source === undefined) return []
    return [[key, {value, source, ...(set.metadataKeys[key] ? {key: set.metadataKeys[key]} : {})}] as const]
  })
  return Object.fromEntries(entries)
}

/** `pending crit 5 (metadata), stall after 2m (metadata)`: the thresholds from these sources (all when not said), for the text views. */
export function thresholdsPhrase(thresholds: Partial<Record<keyof ConsumerThresholds, SourcedThreshold>>, only?: ThresholdSource[]): string {
  return (Object.entries(thresholds) as Array<[keyof ConsumerThresholds, SourcedThreshold]>)
    .filter(([, t]) => !only || only.includes(t.source))
    .map(([key, t]) => `${LABEL[key]} ${thresholdText(key, t.value)} (${t.source})`)
    .join(', ')
}

function fallbackPhrase(threshold: keyof ConsumerThresholds, set: ConsumerThresholdSet): string {
  const value = set.values[threshold]
  return value === undefined ? `${LABEL[threshold]} stays off` : `${LABEL[threshold]} ${thresholdText(threshold, value)} (${set.sources[threshold]}) applies`
}

/** Counts as they are, durations as 1m30s. */
function thresholdText(key: keyof ConsumerThresholds, value: number): string {
  return key === 'pendingWarn' || key === 'pendingCrit' ? String(value) : formatSeconds(value)
}

function withDefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
