import {formatDuration} from '../core/duration.js'
import {formatBytes} from '../core/output/units.js'
import type {ProgressMode} from '../ui/live.js'

/** What long backup/restore work reports as it goes; services emit, commands render. */
export interface ProgressEvent {
  /** backup, restore, verify, read (drill digests) */
  phase: string
  /** The stream being worked on. */
  item: string
  /** 1-based position of the item among `items`. */
  index: number
  items: number
  bytes: number
  /** Known for restores and verifies (file sizes); unknown for snapshots (compressed on the fly). */
  totalBytes?: number
  messages?: number
  totalMessages?: number
}

export type ProgressListener = (event: ProgressEvent) => void

export interface ProgressRendererOptions {
  mode: ProgressMode
  write: (text: string) => void
  /** Lines mode: one line per this many ms. Default 3000. */
  intervalMs?: number
  now?: () => number
}

export interface ProgressRenderer {
  update: ProgressListener
  /** Clears the live line. */
  done(): void
}

const LIVE_REDRAW_MS = 100

/** A live line redrawn in place on a terminal, a plain line every few seconds otherwise, or nothing. */
export function createProgressRenderer({mode, write, intervalMs = 3000, now = () => Date.now()}: ProgressRendererOptions): ProgressRenderer {
  if (mode === 'quiet') return {update: () => {}, done: () => {}}
  let itemKey = ''
  let itemStart = now()
  let lastDraw = 0
  let drawn = false
  return {
    update(event) {
      const key = `${event.phase}:${event.item}:${event.index}`
      const t = now()
      if (key !== itemKey) {
        itemKey = key
        itemStart = t
        if (mode === 'lines') lastDraw = t // the first line comes after an interval, not at once
      }
      const every = mode === 'live' ? LIVE_REDRAW_MS : intervalMs
      if (t - lastDraw < every) return
      lastDraw = t
      const line = progressLine(event, (t - itemStart) / 1000)
      if (mode === 'live') {
        write(`\r\u001B[2K${line}`)
        drawn = true
      } else {
        write(`${line}\n`)
      }
    },
    done() {
      if (mode === 'live' && drawn) write('\r\u001B[2K')
      drawn = false
    },
  }
}

/** `backup EVENTS (1/3): 45.2 MiB at 120.3 MiB/s` + `, 12,000/40,000 messages` + `, ETA 3.1s` */
export function progressLine(event: ProgressEvent, elapsedSeconds: number): string {
  const rate = elapsedSeconds > 0 ? event.bytes / elapsedSeconds : 0
  const parts = [`${event.phase} ${event.item}${event.items > 1 ? ` (${event.index}/${event.items})` : ''}:`]
  parts.push(event.totalBytes ? `${formatBytes(event.bytes)} of ${formatBytes(event.totalBytes)}` : formatBytes(event.bytes))
  if (rate > 0) parts.push(`at ${formatBytes(rate)}/s`)
  let text = parts.join(' ')
  if (event.totalMessages !== undefined && event.messages !== undefined) text += `, ${event.messages.toLocaleString('en-US')}/${event.totalMessages.toLocaleString('en-US')} messages`
  const eta = estimate(event, elapsedSeconds)
  if (eta !== undefined) text += `, ETA ${formatDuration(eta * 1000)}`
  return text
}

function estimate(event: ProgressEvent, elapsedSeconds: number): number | undefined {
  if (elapsedSeconds <= 0) return undefined
  if (event.totalBytes && event.bytes > 0) return Math.max(0, ((event.totalBytes - event.bytes) * elapsedSeconds) / event.bytes)
  if (event.totalMessages && event.messages) return Math.max(0, ((event.totalMessages - event.messages) * elapsedSeconds) / event.messages)
  return undefined
}

/** Live when stderr is a terminal, lines otherwise, quiet with --json or --quiet (unlike ui/live's, which gives --json lines). */
export function progressMode({json, quiet, stderrIsTTY}: {json: boolean; quiet: boolean; stderrIsTTY: boolean}): ProgressMode {
  if (json || quiet) return 'quiet'
  return stderrIsTTY ? 'live' : 'lines'
}
