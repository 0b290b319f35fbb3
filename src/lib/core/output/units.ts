import {formatDuration} from '../duration.js'

/** Units for people: durations, sizes, counts. Shared by every command's tables and summaries. */

export function round(value: number, digits = 4): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** 0.0004 -> 400µs, 0.012 -> 12ms, 3.2 -> 3.2s, 125 -> 2m5s */
export function formatSeconds(seconds: number): string {
  return formatDuration(seconds * 1000)
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`
}

/** Events per second for people: 2.5/s, 120/s, or per minute below 0.1/s (0.02/s -> 1.2/min). */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0/s'
  if (perSecond < 0.1) return `${(perSecond * 60).toFixed(1)}/min`
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)}/s`
}
