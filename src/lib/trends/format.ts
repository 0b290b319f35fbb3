/** Numbers of the trends report as the text, Markdown and HTML views write them. */
import {formatBytes} from '../core/output/units.js'

/** 10800000 -> 10.8M, 2160 -> 2.2k. */
export function compact(value: number): string {
  const units: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ]
  for (const [size, suffix] of units) if (Math.abs(value) >= size) return `${+(value / size).toFixed(1)}${suffix}`
  return `${+value.toFixed(1)}`
}

/** 0.25 -> +25%, -0.1 -> -10%. */
export function percent(fraction: number): string {
  const value = +(fraction * 100).toFixed(1)
  return `${value > 0 ? '+' : ''}${value}%`
}

/** An error rate: 0.0523 -> 5.23%. */
export function rate(fraction: number | null): string {
  return fraction === null ? '-' : `${+(fraction * 100).toFixed(2)}%`
}

export function count(value: number | null): string {
  return value === null ? '-' : compact(value)
}

export function bytes(value: number | null): string {
  return value === null ? '-' : formatBytes(value)
}

/** Seconds of lag: 0.5 -> 0.5s, 95 -> 95s. */
export function seconds(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${+value.toFixed(1)}s`
}

/** `2026-11-30 00:00 UTC` */
export function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
}

/** `Mon 11-23` for a day's start. */
export function dayLabel(iso: string): string {
  return `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][new Date(iso).getUTCDay()]} ${iso.slice(5, 10)}`
}

export function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`
}
