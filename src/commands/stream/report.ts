import {BaseCommand} from '../../lib/core/base-command.js'
import {renderTable} from '../../lib/core/output/table.js'
import {formatBytes, formatSeconds, plural} from '../../lib/core/output/units.js'
import {ago, renderReplicas} from '../../lib/streams/format.js'
import {STREAM_REPORT_FLAGS} from '../../flags/streams.js'
import type {StreamReport, StreamRow} from '../../lib/streams/stream-report.js'
import type {SourceState} from '../../lib/adapters/nats/jetstream.js'

export default class StreamReportCommand extends BaseCommand<typeof StreamReportCommand> {
  static summary = 'Every stream with storage, replicas, consumers, messages, bytes, sequences, deletes and replication lag'
  static description = `One row per stream: STORAGE, REPLICAS (the leader marked *, a replica that is offline or not current marked !), CONSUMERS, MESSAGES, BYTES, FIRST and LAST sequence with the age of those messages, DELETED (interior deletes), and LOST or API LEVEL when any stream has them.
When a stream mirrors or sources another, a replication table follows: source, filter, LAG (messages behind), ACTIVE (last contact) and any error.
--sort name is A-Z; messages, bytes and consumers sort biggest first. --subject keeps the streams whose subjects overlap the filter.
Exit 0 when the report was made; 69 when NATS is unreachable.`
  static examples = [
    '<%= config.bin %> stream report',
    {description: 'Biggest streams first', command: '<%= config.bin %> stream report --sort bytes'},
    {description: 'Only the streams that hold CIM domain events', command: "<%= config.bin %> stream report --subject 'cim.>'"},
    '<%= config.bin %> stream report --json | jq \'.streams[] | {name, messages, replicas: [.cluster.replicas[] | select(.offline)]}\'',
  ]
  static flags = STREAM_REPORT_FLAGS

  async run(): Promise<StreamReport> {
    const {fetchStreamReport} = await import('../../lib/streams/stream-report.js')
    const report = await fetchStreamReport(await this.nats(), {subject: this.flags.subject, sort: this.flags.sort})
    this.print(this.render(report))
    return report
  }

  private render(report: StreamReport): string {
    const {style, width} = this
    const now = Date.parse(report.checkedAt)
    const since = (iso: string | null) => (iso === null ? null : Math.max(0, (now - Date.parse(iso)) / 1000))
    const anyLost = report.streams.some((s) => s.lost !== null)
    const anyLevel = report.streams.some((s) => s.apiLevel > 0)
    const table = renderTable<StreamRow>(
      report.streams,
      [
        {header: 'STREAM', get: (s) => s.name, flexible: true},
        {header: 'STORAGE', get: (s) => s.storage},
        {header: 'MESSAGES', get: (s) => String(s.messages), align: 'right'},
        {header: 'BYTES', get: (s) => formatBytes(s.bytes), align: 'right'},
        {header: 'CONSUMERS', get: (s) => String(s.consumers), align: 'right'},
        {header: 'FIRST', get: (s) => (s.messages === 0 ? '-' : `${s.firstSeq} (${ago(since(s.firstTime))})`), align: 'right'},
        {header: 'LAST', get: (s) => (s.messages === 0 ? `${s.lastSeq}` : `${s.lastSeq} (${ago(since(s.lastTime))})`), align: 'right'},
        {header: 'DELETED', get: (s) => String(s.deleted), align: 'right'},
        ...(anyLost ? [{header: 'LOST', get: (s: StreamRow) => (s.lost ? `${s.lost.messages} (${formatBytes(s.lost.bytes)})` : '0'), align: 'right' as const}] : []),
        ...(anyLevel ? [{header: 'API LEVEL', get: (s: StreamRow) => String(s.apiLevel), align: 'right' as const}] : []),
        {header: 'REPLICAS', get: (s) => renderReplicas(s.cluster ?? undefined) || `R${s.replicas}`, flexible: true},
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
            {header: 'STREAM', get: (r) => r.stream},
            {header: 'KIND', get: (r) => r.source.kind},
            {header: 'SOURCE', get: (r) => r.source.name},
            {header: 'FILTER', get: (r) => r.source.filterSubject ?? ''},
            {header: 'LAG', get: (r) => String(r.source.lag), align: 'right'},
            {header: 'ACTIVE', get: (r) => (r.source.activeSeconds === undefined ? 'never' : `${formatSeconds(r.source.activeSeconds)} ago`), align: 'right'},
            {header: 'ERROR', get: (r) => r.source.error ?? '', flexible: true},
          ],
          {width, paintHeader: style.dim},
        ),
      )
    }
    return parts.join('\n')
  }
}
