import {Args} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {formatSeconds} from '../../lib/core/output/units.js'
import type {ConsumerRow} from '../../lib/streams/consumer-report.js'
import {ago, renderFields, renderReplicas} from '../../lib/streams/format.js'
import {consumerThresholds, thresholdsPhrase} from '../../lib/streams/thresholds.js'

export default class ConsumerInfo extends BaseCommand<typeof ConsumerInfo> {
  static summary = 'One consumer in detail: configuration, backlog, ack state, lag and replicas'
  static description = `The same figures as a row of \`consumer report\` (see its help for what each means), with the configuration behind them.
The status uses the context's thresholds (lag warn/crit, stall after), or the consumer's own natscli metadata thresholds where it sets them (see \`consumer report --help\`); this command always exits 0 when it could read the consumer. Use \`consumer report STREAM\` for an exit code that follows the status.
With one argument it is the consumer, on the context's events stream (EVENTS).
A stream or consumer that does not exist exits 2, naming the ones that do.`
  // oclif cannot declare an optional argument before a required one: run() requires CONSUMER.
  static usage = '<%= command.id %> [STREAM] CONSUMER [flags]'
  static examples = [
    '<%= config.bin %> consumer info workflow-analytics',
    '<%= config.bin %> consumer info EVENTS workflow-analytics',
    '<%= config.bin %> consumer info EVENTS workflow-analytics --json | jq \'{lagSeconds, pending, oldestUnacked}\'',
  ]
  static args = {
    stream: Args.string({description: 'Stream of the consumer [default: the context\'s events stream].'}),
    consumer: Args.string({description: 'Consumer to show.'}),
  }

  async run(): Promise<ConsumerRow> {
    const named = [this.args.stream, this.args.consumer].filter((arg) => arg !== undefined)
    if (named.length === 0) throw this.missingArgument('consumer')
    const ctx = await this.context()
    const [stream, consumer] = named.length === 2 ? named : [ctx.streams.events, named[0]]
    const [{sessionReader}, {consumerInfo}] = await Promise.all([
      import('../../lib/streams/reader.js'),
      import('../../lib/streams/consumer-report.js'),
    ])
    const reader = await sessionReader(await (await this.nats()).jetstream())
    const row = await consumerInfo(reader, stream, consumer, {thresholds: consumerThresholds(ctx, {})})
    this.print(this.render(row))
    return row
  }

  private render(row: ConsumerRow): string {
    const {style} = this
    const max = (value: number | null) => (value === null ? '' : ` (max ${value})`)
    const lag = row.lagSeconds === null ? 'unknown' : row.pending === 0 ? '0s (caught up)' : formatSeconds(row.lagSeconds)
    return [
      style.bold(`Consumer ${row.name} on ${row.stream}`),
      renderFields(
        [
          ['Status', `${style.status(row.status)}${row.reasons.length > 0 ? ` (${row.reasons.join(', ')})` : ''}`],
          ['Description', row.description],
          ['Kind', `${row.durable ? 'durable' : 'ephemeral'} ${row.mode}${row.pushBound === null ? '' : row.pushBound ? ', subscriber bound' : ', no subscriber bound'}`],
          ['Ack', `${row.ackPolicy}, wait ${formatSeconds(row.ackWaitSeconds)}${row.maxDeliver === null ? '' : `, max deliver ${row.maxDeliver}`}`],
          ['Deliver policy', row.deliverPolicy],
          ['Filter', row.filterSubjects.length > 0 ? row.filterSubjects.join(', ') : '(whole stream)'],
          ['Paused', row.paused ? pausedText(row.paused) : undefined],
          ['Priority', row.priorityPolicy ? priorityText(row) : undefined],
          ['Created', `${row.created} (${ago(secondsSince(row.created))})`],
          ['Unprocessed', row.unprocessed === 0 ? '0' : `${row.unprocessed} / ${row.unprocessedPercent}% of the stream`],
          ['Ack pending', `${row.ackPending}${max(row.maxAckPending)}`],
          ['Redelivered', String(row.redelivered)],
          ['Waiting pulls', row.mode === 'pull' ? `${row.waiting}${max(row.maxWaiting)}` : undefined],
          ['Pending', `${row.pending} (unprocessed + ack pending)`],
          ['Last delivery', `consumer seq ${row.delivered.consumerSeq}, stream seq ${row.delivered.streamSeq}, ${ago(row.lastDeliverySeconds)}`],
          ['Ack floor', `consumer seq ${row.ackFloor.consumerSeq}, stream seq ${row.ackFloor.streamSeq}, last ack ${ago(row.lastAckSeconds)}`],
          ['Oldest unacked', row.oldestUnacked ?? (row.lagSeconds === null ? 'unknown' : 'none')],
          ['Lag', lag],
          ['Thresholds', thresholdsPhrase(row.thresholds)],
          ['Replicas', renderReplicas(row.cluster ?? undefined)],
          ['API level', row.apiLevel > 0 ? String(row.apiLevel) : undefined],
        ],
        style.dim,
      ),
    ].join('\n')
  }
}

function pausedText(paused: NonNullable<ConsumerRow['paused']>): string {
  const left = paused.remainingSeconds === null ? '' : `, ${formatSeconds(paused.remainingSeconds)} left`
  return `yes${paused.until ? `, until ${paused.until}` : ''}${left}`
}

function priorityText(row: ConsumerRow): string {
  const groups = row.priorityGroups.map((g) => (g.pinnedClientId ? `${g.group} (pinned to ${g.pinnedClientId})` : g.group))
  return `${row.priorityPolicy}${groups.length > 0 ? `, groups ${groups.join(', ')}` : ''}`
}

function secondsSince(iso: string): number {
  return Math.max(0, (Date.now() - Date.parse(iso)) / 1000)
}
