import {BaseCommand} from '../../lib/core/base-command.js'
import {renderStreamList} from '../../lib/streams/render.js'
import {STREAM_REPORT_FLAGS} from '../../flags/streams.js'
import type {StreamReport} from '../../lib/streams/stream-report.js'

export default class StreamList extends BaseCommand<typeof StreamList> {
  static summary = 'List streams: subjects, storage, replicas, messages, bytes, consumers, last message'
  static description = `A short line per stream; \`stream report\` has sequences, deletes, replica state and replication lag, \`stream info NAME\` everything about one. --json gives the same data as \`stream report --json\`.`
  static examples = ['<%= config.bin %> stream list', "<%= config.bin %> stream list --subject 'cim.ops.>'", '<%= config.bin %> stream list --sort messages --json']
  static flags = STREAM_REPORT_FLAGS

  async run(): Promise<StreamReport> {
    const {fetchStreamReport} = await import('../../lib/streams/stream-report.js')
    const report = await fetchStreamReport(await this.nats(), {subject: this.flags.subject, sort: this.flags.sort})
    this.print(renderStreamList(report, {style: this.style, width: this.width}))
    return report
  }
}
