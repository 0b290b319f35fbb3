import {BaseCommand} from '../../lib/core/base-command.js'
import {renderTable} from '../../lib/core/output/table.js'
import {formatBytes} from '../../lib/core/output/units.js'
import {ago} from '../../lib/streams/format.js'
import {STREAM_REPORT_FLAGS} from '../../flags/streams.js'
import type {StreamReport, StreamRow} from '../../lib/streams/stream-report.js'

export default class StreamList extends BaseCommand<typeof StreamList> {
  static summary = 'List streams: subjects, storage, replicas, messages, bytes, consumers, last message'
  static description = `A short line per stream; \`stream report\` has sequences, deletes, replica state and replication lag, \`stream info NAME\` everything about one. --json gives the same data as \`stream report --json\`.`
  static examples = ['<%= config.bin %> stream list', "<%= config.bin %> stream list --subject 'cim.ops.>'", '<%= config.bin %> stream list --sort messages --json']
  static flags = STREAM_REPORT_FLAGS

  async run(): Promise<StreamReport> {
    const {fetchStreamReport} = await import('../../lib/streams/stream-report.js')
    const report = await fetchStreamReport(await this.nats(), {subject: this.flags.subject, sort: this.flags.sort})
    const now = Date.parse(report.checkedAt)
    this.print(
      report.streams.length === 0
        ? `No streams${report.subject ? ` with subjects overlapping ${report.subject}` : ''}.`
        : renderTable<StreamRow>(
            report.streams,
            [
              {header: 'STREAM', get: (s) => s.name},
              {header: 'SUBJECTS', get: (s) => s.subjects.join(', '), flexible: true},
              {header: 'STORAGE', get: (s) => s.storage},
              {header: 'REPLICAS', get: (s) => String(s.replicas), align: 'right'},
              {header: 'MESSAGES', get: (s) => String(s.messages), align: 'right'},
              {header: 'BYTES', get: (s) => formatBytes(s.bytes), align: 'right'},
              {header: 'CONSUMERS', get: (s) => String(s.consumers), align: 'right'},
              {header: 'LAST MESSAGE', get: (s) => ago(s.lastTime === null ? null : Math.max(0, (now - Date.parse(s.lastTime)) / 1000)), align: 'right'},
            ],
            {width: this.width, paintHeader: this.style.dim},
          ),
    )
    return report
  }
}
