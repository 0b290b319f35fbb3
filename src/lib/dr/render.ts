/** Text and Nagios views of `dr status`; --json returns the typed report. */
import {type Status, STATUS_ORDER} from '../core/check/status.js'
import type {Style} from '../core/output/style.js'
import {renderTable} from '../core/output/table.js'
import {formatSeconds, plural} from '../core/output/units.js'
import type {DrStatusReport, PromotedPrimary, ReplicationLink} from './status.js'

/** A row of the table: a mirror/source, or a promoted primary. */
interface Row {
  context: string
  stream: string
  role: string
  origin: string
  messages: string
  seconds: string
  contact: string
  status: Status
  note: string
}

/** The links and primaries, worst first; split brains and unreadable sites under it; a one-line verdict. */
export function renderDrStatus(report: DrStatusReport, style: Style, {width}: {width?: number} = {}): string {
  const rows = [...report.links.map(linkRow), ...report.primaries.map(primaryRow)].sort(
    (a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status] || a.context.localeCompare(b.context) || a.stream.localeCompare(b.stream),
  )
  const table =
    rows.length > 0
      ? renderTable(
          rows,
          [
            {header: 'CONTEXT', get: (r) => r.context, key: true},
            {header: 'STREAM', get: (r) => r.stream, key: true},
            {header: 'ROLE', get: (r) => r.role, hide: 2},
            {header: 'ORIGIN', get: (r) => r.origin, flexible: true},
            {header: 'MSGS BEHIND', get: (r) => r.messages, align: 'right'},
            {header: 'SECONDS BEHIND', get: (r) => r.seconds, align: 'right'},
            {header: 'LAST CONTACT', get: (r) => r.contact, align: 'right', hide: 1},
            {header: 'STATUS', get: (r) => r.status, paint: (text, r) => style.status(r.status, text)},
            {header: 'NOTE', get: (r) => r.note, wrap: true, giveWay: 1},
          ],
          {width, paintHeader: style.dim},
        )
      : ''
  const problems = [
    ...report.splitBrain.map((brain) => `${style.status('CRITICAL')} ${brain.summary}`),
    ...report.contexts.filter((site) => site.error).map((site) => `${style.status('CRITICAL')} ${site.context}: ${site.error}`),
  ]
  const verdict = `${style.status(report.status, style.bold(report.status))}  ${report.summary}  ${style.dim(`(${plural(report.contexts.length, 'site')} in ${report.durationSeconds.toFixed(2)}s)`)}`
  return [...(table ? [table, ''] : []), ...(problems.length > 0 ? [...problems, ''] : []), verdict].join('\n')
}

function linkRow(link: ReplicationLink): Row {
  return {
    context: link.context,
    stream: link.stream,
    role: link.kind,
    origin: `${link.originDomain ? `${link.origin}@${link.originDomain}` : link.origin}${link.filterSubject ? ` (${link.filterSubject})` : ''}`,
    messages: link.messagesBehind === undefined ? '-' : String(link.messagesBehind),
    seconds: link.secondsBehind === undefined ? '?' : `${link.secondsBehindIsBound ? '≤' : ''}${behindText(link.secondsBehind)}`,
    contact: link.activeSeconds === undefined ? 'never' : `${formatSeconds(link.activeSeconds)} ago`,
    status: link.status,
    // The summary without `mirror of ORIGIN: `, which the row says already.
    note: link.status === 'OK' && link.originReachable ? '-' : link.summary.replace(/^(mirror|source) of [^:]+: /, ''),
  }
}

/** Zero is in sync, not a very short time. */
function behindText(seconds: number): string {
  return seconds === 0 ? '0s' : formatSeconds(seconds)
}

function primaryRow(primary: PromotedPrimary): Row {
  return {context: primary.context, stream: primary.stream, role: 'primary', origin: '-', messages: '-', seconds: '-', contact: '-', status: 'OK', note: primary.summary}
}

/**
 * `STATUS summary | perfdata`: per link natscli's `lag` and `active` (s) plus `seconds_behind` (with the RPO
 * thresholds) and `messages_behind`, labelled `<stream>_` (`<context>_<stream>_` with several sites).
 */
export function formatDrNagios(report: DrStatusReport): string {
  const sites = new Set(report.links.map((link) => link.context)).size > 1 || report.contexts.length > 1
  const thresholds = new Map(report.contexts.map((site) => [site.context, site.thresholds]))
  const perfdata = report.links.flatMap((link) => {
    const prefix = `${sites ? `${link.context}_` : ''}${link.stream}${link.kind === 'source' ? `_${link.origin}` : ''}_`
    const limits = thresholds.get(link.context)
    return [
      perf(`${prefix}lag`, String(link.lag)),
      ...(link.activeSeconds === undefined ? [] : [perf(`${prefix}active`, `${plain(link.activeSeconds)}s`)]),
      ...(link.secondsBehind === undefined ? [] : [perf(`${prefix}seconds_behind`, `${plain(link.secondsBehind)}s;${limits?.rpoWarnSeconds ?? ''};${limits?.rpoCritSeconds ?? ''}`)]),
      ...(link.messagesBehind === undefined ? [] : [perf(`${prefix}messages_behind`, String(link.messagesBehind))]),
    ]
  })
  perfdata.push(perf('split_brain', String(report.splitBrain.length)))
  return `${report.status} ${report.summary.replaceAll('|', '/').replaceAll('\n', ' ')} | ${perfdata.join(' ')}`
}

function perf(label: string, value: string): string {
  const quoted = /[\s='"]/.test(label) ? `'${label.replaceAll("'", "''")}'` : label
  return `${quoted}=${value}`
}

/** Nagios forbids scientific notation. */
function plain(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '')
}
