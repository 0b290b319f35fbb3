import {UsageError} from './errors.js'

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** Node's timers hold a signed 32-bit millisecond count: anything longer fires at once (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** Per network call (--timeout, a context's `timeout`): callers derive longer timers from it (4 x for replay), which must still fit. */
export const MAX_NETWORK_TIMEOUT_MS = 3_600_000
/** Any duration: a window back from now must stay a valid date; a century is more than any use. */
const MAX_DURATION_MS = 36_500 * 86_400_000

/**
 * Parses a Prometheus/Go style duration (`500ms`, `10s`, `1h30m`, `2d`) or a bare number of seconds.
 * Returns milliseconds; throws UsageError naming `what` on a bad value or one above `max`
 * (MAX_TIMER_MS for anything that becomes a timer).
 */
export function parseDuration(input: string | number, what = 'duration', {max = MAX_DURATION_MS}: {max?: number} = {}): number {
  const ms = durationMs(input, what)
  if (!(ms <= max)) {
    throw new UsageError(`invalid ${what} "${input}"`, `must be at most ${formatDuration(max)}${max === MAX_TIMER_MS ? ' (the longest timer Node.js can set)' : ''}`)
  }
  return ms
}

function durationMs(input: string | number, what: string): number {
  if (typeof input === 'number') return input * 1000
  const text = input.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g
  let total = 0
  let consumed = 0
  for (const match of text.matchAll(part)) {
    if (match.index !== consumed) break
    total += Number(match[1]) * UNIT_MS[match[2]]
    consumed += match[0].length
  }
  if (text.length === 0 || consumed !== text.length) {
    throw new UsageError(`invalid ${what} "${input}"`, 'expected a duration such as 500ms, 10s, 2m, 1h30m or a number of seconds')
  }
  return total
}

/** Human form of a duration in milliseconds: 400µs, 850ms, 1.5s, 3m20s, 2h5m, 3d4h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-'
  const negative = ms < 0
  let rest = Math.abs(ms)
  if (rest < 1) return `${negative ? '-' : ''}${Math.round(rest * 1000)}µs`
  if (rest < 1000) return `${negative ? '-' : ''}${Math.round(rest)}ms`
  if (rest < 10_000) return `${negative ? '-' : ''}${(rest / 1000).toFixed(1)}s`
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]]
  const parts: string[] = []
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
    if (parts.length === 2) break
  }
  return (negative ? '-' : '') + parts.join('')
}
