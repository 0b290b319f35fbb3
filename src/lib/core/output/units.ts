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
