/** Text views of the stream and consumer reports: the tables people read; --json returns the typed reports. */
import type {SourceState} from '../adapters/nats/jetstream.js'
import type {Style} from '../core/output/style.js'
import {renderTable, type Column} from '../core/output/table.js'
import {formatBytes, formatSeconds, plural} from '../core/output/units.js'
import type {ConsumerReport, ConsumerRow} from './consumer-report.js'
import type {SubjectCounts} from './events.js'
import {ago, renderReplicas} from './format.js'
import type {StreamReport, StreamRow} from './stream-report.js'
import {describeThresholds, thresholdsPhrase} from './thresholds.js'

export interface RenderOptions {
  style: Style
  width?: number
}

/** Lists of names (replicas, subjects, thresholds) wrap in a block this wide rather than run across the screen. */
const LIST_WIDTH = 40

/**
 * `consumer report`: a consumer is known by its stream and name together (two streams may each have a
 * `workflow-analytics`), so both are key columns; with one stream the title names it. `trend` adds
 * RATE and ETA (--watch).
 */
export function consumerColumns(report: ConsumerReport, style: Style, trend: boolean): Array<Column<ConsumerRow>> {
  const many = report.streams.length > 1
  return [
    ...(many ? [{header: 'STREAM', get: (r: ConsumerRow) => r.stream, key: true}] : []),
    {header: 'CONSUMER', get: (r) => (r.ephemeral ? `${r.name} (ephemeral)` : r.name), key: true},
    {header: 'MODE', get: (r) => r.mode, hide: 1},
    {header: 'ACK', get: (r) => r.ackPolicy, hide: 2},
    {header: 'UNPROCESSED', get: (r) => (r.unprocessed === 0 ? '0' : `${r.unprocessed} / ${r.unprocessedPercent}%`), align: 'right'},
    {header: 'ACK PENDING', get: (r) => String(r.ackPending), align: 'right', hide: 7},
    {header: 'REDELIVERED', get: (r) => String(r.redelivered), align: 'right', hide: 5},
    {header: 'WAITING', get: (r) => String(r.waiting), align: 'right', hide: 3},
    {header: 'ACK FLOOR', get: (r) => String(r.ackFloor.streamSeq), align: 'right', hide: 4},
    {header: 'LAST DELIVERY', get: (r) => ago(r.lastDeliverySeconds), align: 'right'},
    {header: 'LAST ACK', get: (r) => ago(r.lastAckSeconds), align: 'right', hide: 6},
    {header: 'LAG', get: (r) => lagText(r), align: 'right'},
    ...(report.consumers.some((r) => r.paused) ? [{header: 'PAUSED', get: (r: ConsumerRow) => pausedText(r), align: 'right' as const}] : []),
    ...(trend
      ? [
          {header: 'RATE', get: (r: ConsumerRow) => rateText(r.pendingRate), align: 'right' as const},
          {header: 'ETA', get: (r: ConsumerRow) => etaText(r), align: 'right' as const},
        ]
      : []),
    {header: 'STATUS', get: (r) => r.status, paint: (text, r) => style.status(r.status, text)},
    // A consumer's own natscli thresholds, over the ones in the title.
    ...(report.consumers.some((r) => ownThresholds(r))
      ? [{header: 'OWN THRESHOLDS', get: (r: ConsumerRow) => ownThresholds(r) || '-', wrap: true, giveWay: 1, maxWidth: LIST_WIDTH}]
      : []),
    {header: 'REPLICAS', get: (r) => renderReplicas(r.cluster ?? undefined), wrap: true, giveWay: 1, maxWidth: LIST_WIDTH},
  ]
}

export function renderConsumerReport(report: ConsumerReport, {style, width, trend = false}: RenderOptions & {trend?: boolean}): string {
  const many = report.streams.length > 1
  const limits = thresholdsPhrase(describeThresholds({values: report.thresholds, sources: report.thresholdSources, metadataKeys: {}}))
  const where = many ? plural(report.streams.length, 'stream') : report.streams.map((s) => `${s.name} (${plural(s.messages, 'message')})`).join('')
  const title = style.bold(`Consumer report for ${where} with ${plural(report.consumers.length, 'consumer')}`) + style.dim(` — ${limits}`)
  const table = report.consumers.length > 0 ? renderTable(report.consumers, consumerColumns(report, style, trend), {width, paintHeader: style.dim}) : ''
  const hidden = report.ephemeralHidden > 0 ? [style.dim(`${plural(report.ephemeralHidden, 'ephemeral consumer')} not shown (--all shows them)`)] : []
  return [title, ...(table ? ['', table] : []), '', `${style.status(report.status)} ${report.summary}`, ...hidden].join('\n')
}

function ownThresholds(row: ConsumerRow): string {
  return thresholdsPhrase(row.thresholds, ['metadata'])
}

function lagText(row: ConsumerRow): string {
  if (row.lagSeconds === null) return '?'
  return row.pending === 0 ? '-' : formatSeconds(row.lagSeconds)
}

/** Time left of a pause ('yes' when the server does not say), '-' when delivering. */
function pausedText(row: ConsumerRow): string {
  if (!row.paused) return '-'
  return row.paused.remainingSeconds === null ? 'yes' : `${formatSeconds(row.paused.remainingSeconds)} left`
}

function rateText(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '…'
  const rounded = Math.abs(rate) >= 10 ? Math.round(rate) : Math.round(rate * 10) / 10
  return `${rounded > 0 ? '+' : ''}${rounded}/s`
}

function etaText(row: ConsumerRow): string {
  if (row.etaSeconds === 0) return 'caught up'
  if (row.etaSeconds === null || row.etaSeconds === undefined) return row.pendingRate === null || row.pendingRate === undefined ? '…' : '∞'
  return formatSeconds(row.etaSeconds)
}

/** `stream list`: a short line per stream. */
export function renderStreamList(report: StreamReport, {style, width}: RenderOptions): string {
  if (report.streams.length === 0) return `No streams${report.subject ? ` with subjects overlapping ${report.subject}` : ''}.`
  const now = Date.parse(report.checkedAt)
  return renderTable<StreamRow>(
    report.streams,
    [
      {header: 'STREAM', get: (s) => s.name, key: true},
      {header: 'SUBJECTS', get: (s) => s.subjects.join(', '), wrap: true, giveWay: 1, maxWidth: LIST_WIDTH},
      {header: 'STORAGE', get: (s) => s.storage},
      {header: 'REPLICAS', get: (s) => String(s.replicas), align: 'right'},
      {header: 'MESSAGES', get: (s) => String(s.messages), align: 'right'},
      {header: 'BYTES', get: (s) => formatBytes(s.bytes), align: 'right'},
      {header: 'CONSUMERS', get: (s) => String(s.consumers), align: 'right'},
      {header: 'LAST MESSAGE', get: (s) => ago(s.lastTime === null ? null : Math.max(0, (now - Date.parse(s.lastTime)) / 1000)), align: 'right'},
    ],
    {width, paintHeader: style.dim},
  )
}

/** `stream report`: the streams, unlisted ones as warnings, then a replication table when any stream mirrors or sources. */
export function renderStreamReport(report: StreamReport, {style, width}: RenderOptions): string {
  const now = Date.parse(report.checkedAt)
  const since = (iso: string | null) => (iso === null ? null : Math.max(0, (now - Date.parse(iso)) / 1000))
  const anyLost = report.streams.some((s) => s.lost !== null)
  const anyLevel = report.streams.some((s) => s.apiLevel > 0)
  const table = renderTable<StreamRow>(
    report.streams,
    [
      {header: 'STREAM', get: (s) => s.name, key: true},
      {header: 'STORAGE', get: (s) => s.storage},
      {header: 'MESSAGES', get: (s) => String(s.messages), align: 'right'},
      {header: 'BYTES', get: (s) => formatBytes(s.bytes), align: 'right'},
      {header: 'CONSUMERS', get: (s) => String(s.consumers), align: 'right'},
      {header: 'FIRST', get: (s) => (s.messages === 0 ? '-' : `${s.firstSeq} (${ago(since(s.firstTime))})`), align: 'right'},
      {header: 'LAST', get: (s) => (s.messages === 0 ? `${s.lastSeq}` : `${s.lastSeq} (${ago(since(s.lastTime))})`), align: 'right'},
      {header: 'DELETED', get: (s) => String(s.deleted), align: 'right'},
      ...(anyLost ? [{header: 'LOST', get: (s: StreamRow) => (s.lost ? `${s.lost.messages} (${formatBytes(s.lost.bytes)})` : '0'), align: 'right' as const}] : []),
      ...(anyLevel ? [{header: 'API LEVEL', get: (s: StreamRow) => String(s.apiLevel), align: 'right' as const}] : []),
      {header: 'REPLICAS', get: (s) => renderReplicas(s.cluster ?? undefined) || `R${s.replicas}`, wrap: true, giveWay: 1, maxWidth: LIST_WIDTH},
    ],
    {width, paintHeader: style.dim},
  )
  const t = report.totals
  const title = style.bold(`Stream report: ${plural(t.streams, 'stream')}, ${plural(t.messages, 'message')}, ${formatBytes(t.bytes)}, ${plural(t.consumers, 'consumer')}`) + (report.subject ? style.dim(` — subject ${report.subject}`) : '')
  const parts = [title, '', t.streams > 0 ? table : 'No streams.']
  // Named by the server but not described: said, never left out silently.
  for (const entry of report.unlisted) parts.push(`${style.status('WARNING')} stream ${entry.name} is ${entry.state}: ${entry.reason}`)
  const sources = report.streams.flatMap((s) => s.sources.map((source) => ({stream: s.name, source})))
  if (sources.length > 0) {
    parts.push(
      '',
      style.bold('Replication'),
      '',
      renderTable<{stream: string; source: SourceState}>(
        sources,
        [
          {header: 'STREAM', get: (r) => r.stream, key: true},
          {header: 'KIND', get: (r) => r.source.kind},
          {header: 'SOURCE', get: (r) => r.source.name, key: true},
          {header: 'FILTER', get: (r) => r.source.filterSubject ?? '', wrap: true, giveWay: 2},
          {header: 'LAG', get: (r) => String(r.source.lag), align: 'right'},
          {header: 'ACTIVE', get: (r) => (r.source.activeSeconds === undefined ? 'never' : `${formatSeconds(r.source.activeSeconds)} ago`), align: 'right'},
          {header: 'ERROR', get: (r) => r.source.error ?? '', wrap: true, giveWay: 1},
        ],
        {width, paintHeader: style.dim},
      ),
    )
  }
  return parts.join('\n')
}

/** `events subjects`: the subject is the key; `shown` may be the first --limit of them. */
export function renderSubjects(result: SubjectCounts, shown: SubjectCounts['subjects'], {style, width}: RenderOptions): string {
  if (result.subjects.length === 0) return `No subjects in ${result.stream} match ${result.filter}.`
  const table = renderTable(
    shown,
    [
      {header: 'SUBJECT', get: (s) => s.subject, key: true},
      {header: 'MESSAGES', get: (s) => String(s.messages), align: 'right'},
    ],
    {width, paintHeader: style.dim},
  )
  const more = shown.length < result.subjects.length ? ` (showing ${shown.length})` : ''
  const total = `${plural(result.subjects.length, 'subject')}${more}, ${plural(result.total, 'message')} in ${result.stream} matching ${result.filter}`
  return `${table}\n\n${style.dim(total)}`
}
