import {BaseCommand} from '../../lib/core/base-command.js'
import {renderStreamReport} from '../../lib/streams/render.js'
import {STREAM_REPORT_FLAGS} from '../../flags/streams.js'
import type {StreamReport} from '../../lib/streams/stream-report.js'

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
    this.print(renderStreamReport(report, {style: this.style, width: this.width}))
    return report
  }
}
