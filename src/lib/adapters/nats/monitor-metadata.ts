/**
 * Health thresholds that natscli and jsm.go read from a stream's or consumer's metadata
 * (`io.nats.monitor.*`, servers >= 2.10; 2.9 keeps no metadata, so nothing is found there).
 * Only the keys cimops's checks can judge are read; the others (msgs-*, subjects-*, peer-*, *-sources,
 * outstanding-ack-, waiting-, redelivery-, last-ack-critical, pinned, enabled) are left to natscli.
 * Values follow jsm.go: counts as Go integers, durations as jsm's ParseDuration; a value <= 0 turns
 * the check off there, so here it is as if the key were absent.
 */

/** Consumer keys: num_pending at or above (jsm Atoi); seconds since the last delivery at or above. */
export const CONSUMER_MONITOR_KEYS = {
  unprocessedCritical: 'io.nats.monitor.unprocessed-critical',
  lastDeliveryCritical: 'io.nats.monitor.last-delivery-critical',
} as const

/** Stream keys: a mirror's or source's lag at or above (jsm ParseUint); seconds since it was last active at or above. */
export const STREAM_MONITOR_KEYS = {
  lagCritical: 'io.nats.monitor.lag-critical',
  seenCritical: 'io.nats.monitor.seen-critical',
} as const

export interface ConsumerMonitorThresholds {
  unprocessedCritical?: number
  /** Seconds. */
  lastDeliveryCritical?: number
}

export interface StreamMonitorThresholds {
  lagCritical?: number
  /** Seconds. */
  seenCritical?: number
}

/** A key whose value natscli could not read either. */
export interface InvalidMonitorValue {
  key: string
  value: string
  expected: string
}

export interface MonitorMetadata<T> {
  thresholds: T
  invalid: InvalidMonitorValue[]
}

type Parser = {expected: string; parse: (value: string) => number | undefined}

const INTEGER: Parser = {expected: 'a whole number', parse: (v) => (/^[+-]?\d+$/.test(v) ? Number(v) : undefined)}
const UNSIGNED: Parser = {expected: 'a whole number without sign', parse: (v) => (/^\d+$/.test(v) ? Number(v) : undefined)}
const DURATION: Parser = {expected: 'a duration such as 30s, 5m, 1h30m or 1d', parse: durationSeconds}

const SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  M: 2_592_000,
  y: 31_536_000,
  Y: 31_536_000,
}

/** jsm.go's ParseDuration: `1h30m`, `1.5d`, `2w`, `1M` (30 days), `1y` (365 days), or a bare `0`. */
function durationSeconds(value: string): number | undefined {
  if (value === '0') return 0
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|M|y|Y))+$/.test(value)) return undefined
  let total = 0
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|M|y|Y)/g)) total += Number(amount) * SECONDS[unit]
  return total
}

export function consumerMonitorMetadata(metadata: Record<string, string> | undefined): MonitorMetadata<ConsumerMonitorThresholds> | undefined {
  return readKeys<ConsumerMonitorThresholds>(metadata, {
    unprocessedCritical: [CONSUMER_MONITOR_KEYS.unprocessedCritical, INTEGER],
    lastDeliveryCritical: [CONSUMER_MONITOR_KEYS.lastDeliveryCritical, DURATION],
  })
}

export function streamMonitorMetadata(metadata: Record<string, string> | undefined): MonitorMetadata<StreamMonitorThresholds> | undefined {
  return readKeys<StreamMonitorThresholds>(metadata, {
    lagCritical: [STREAM_MONITOR_KEYS.lagCritical, UNSIGNED],
    seenCritical: [STREAM_MONITOR_KEYS.seenCritical, DURATION],
  })
}

/** Undefined when none of the keys is set (always so on 2.9), so most objects carry nothing. */
function readKeys<T extends object>(metadata: Record<string, string> | undefined, keys: Record<keyof T & string, [string, Parser]>): MonitorMetadata<T> | undefined {
  if (!metadata) return undefined
  const thresholds: Record<string, number> = {}
  const invalid: InvalidMonitorValue[] = []
  let found = false
  for (const [field, [key, parser]] of Object.entries(keys) as Array<[string, [string, Parser]]>) {
    const value = metadata[key]
    if (value === undefined) continue
    found = true
    const parsed = parser.parse(value)
    if (parsed === undefined || !Number.isFinite(parsed)) invalid.push({key, value, expected: parser.expected})
    else if (parsed > 0) thresholds[field] = parsed
  }
  return found ? {thresholds: thresholds as T, invalid} : undefined
}
