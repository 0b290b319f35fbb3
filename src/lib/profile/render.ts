/** Text view of `profile-service`: what was profiled, the series (sparklines on a terminal), the verdict. */
import {formatDuration} from '../core/duration.js'
import type {Style} from '../core/output/style.js'
import {sparkline} from '../core/output/sparkline.js'
import {renderTable} from '../core/output/table.js'
import {formatBytes, plural} from '../core/output/units.js'
import type {ProfileReport, ProfileSample} from './service.js'

/** The command draws its live chart with the same sparkline. */
export {sparkline}

export interface RenderOptions {
  style: Style
  width?: number
  /** Draw each series as a sparkline (a terminal). */
  chart?: boolean
}

/** A sparkline wider than this says no more than a shorter one. */
const MAX_CHART_WIDTH = 60
/** What the numbers of the table take at most, with their gaps: the chart gets the rest of the width. */
const NUMBERS_WIDTH = 56
const MIN_CHART_WIDTH = 8

interface SeriesRow {
  name: string
  values: number[]
  format: (value: number) => string
}

export function renderProfile(report: ProfileReport, {style, width, chart = false}: RenderOptions): string {
  const blocks = [describeTarget(report)]
  const {samples} = report
  if (samples.length > 0) {
    const fds = samples.map((s) => s.fds).filter((n): n is number => n !== null)
    const pending = samples.flatMap((s) => (s.nats ? [s.nats.pendingBytes] : []))
    const rows: SeriesRow[] = [
      {name: 'RSS', values: samples.map((s) => s.rssBytes), format: formatBytes},
      {name: 'CPU', values: samples.map((s) => s.cpuPercent), format: (v) => `${v.toFixed(1)}%`},
      ...(fds.length > 0 ? [{name: 'FDS', values: fds, format: String}] : []),
      ...(pending.length > 0 ? [{name: 'NATS PENDING', values: pending, format: formatBytes}] : []),
    ]
    const chartWidth = Math.min(MAX_CHART_WIDTH, width === undefined ? MAX_CHART_WIDTH : Math.max(MIN_CHART_WIDTH, width - NUMBERS_WIDTH))
    blocks.push(
      renderTable(
        rows,
        [
          {header: 'SERIES', get: (r) => r.name, key: true},
          {header: 'FIRST', get: (r) => r.format(r.values[0]), align: 'right'},
          {header: 'LAST', get: (r) => r.format(r.values.at(-1)!), align: 'right'},
          {header: 'MIN', get: (r) => r.format(Math.min(...r.values)), align: 'right'},
          {header: 'MAX', get: (r) => r.format(Math.max(...r.values)), align: 'right'},
          ...(chart ? [{header: 'CHART', get: (r: SeriesRow) => sparkline(r.values, chartWidth), hide: 1}] : []),
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  const lines = [`${style.status(report.status, report.verdict.toUpperCase())}: ${growthPhrase(report)}${report.summary}`]
  if (report.partial) lines.push(`${style.bold('PARTIAL')}: ${report.reason}; the verdict covers ${plural(samples.length, 'sample')} only`)
  for (const note of report.notes) lines.push(style.dim(`note: ${note}`))
  blocks.push(lines.join('\n'))
  return blocks.join('\n\n')
}

function describeTarget(report: ProfileReport): string {
  const {target, samples} = report
  // To a tenth of a second: a window of 20s read as 19.99s would say "19s".
  const span = samples.length > 1 ? ` over ${formatDuration(Math.round((Date.parse(samples.at(-1)!.at) - Date.parse(samples[0].at)) / 100) * 100)}` : ''
  const unit =
    target.foundBy === 'systemd' ? ` (main process of systemd unit ${target.service})` : target.natsClient ? ` (NATS client ${target.natsClient.name}, connection ${target.natsClient.cid})` : ''
  return `Process ${target.pid} ${target.name}${unit}: ${plural(samples.length, 'sample')}${span}, every ${formatDuration(report.intervalMs)}${target.cmdline && target.cmdline !== target.name ? `\n${target.cmdline}` : ''}`
}

function growthPhrase(report: ProfileReport): string {
  const {growth} = report
  if (!growth || report.verdict === 'stable' || report.verdict === 'unknown') return ''
  return `+${formatBytes(growth.bytesPerHour)}/h (r² ${growth.r2.toFixed(2)}, confidence ${Math.floor(growth.confidence * 100)}%); `
}

/** One progress line: `12 samples, 3.0s: RSS 45.2 MiB, CPU 1.2%, 14 fds`. */
export function progressLine(sample: ProfileSample, all: readonly ProfileSample[]): string {
  const elapsed = all.length > 1 ? `, ${formatDuration(Date.parse(sample.at) - Date.parse(all[0].at))}` : ''
  return `${plural(all.length, 'sample')}${elapsed}: RSS ${formatBytes(sample.rssBytes)}, CPU ${sample.cpuPercent.toFixed(1)}%${sample.fds === null ? '' : `, ${plural(sample.fds, 'fd')}`}`
}
