import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {MAX_TIMER_MS, parseDuration} from '../../lib/core/duration.js'
import {renderTable, type Column} from '../../lib/core/output/table.js'
import {formatSeconds, plural} from '../../lib/core/output/units.js'
import {redact} from '../../lib/core/redact.js'
import {NAGIOS_CODE} from '../../lib/core/check/status.js'
import {CONSUMER_SORTS, type ConsumerReport, type ConsumerRow} from '../../lib/streams/consumer-report.js'
import {ago, renderReplicas} from '../../lib/streams/format.js'
import {consumerThresholds, describeThresholds, thresholdsPhrase} from '../../lib/streams/thresholds.js'

const THRESHOLDS = 'THRESHOLD'

export default class ConsumerReportCommand extends BaseCommand<typeof ConsumerReportCommand> {
  static isCheck = true
  static summary = 'Which consumers are behind: backlog, ack state, lag in seconds and a status per consumer'
  static description = `One row per consumer of STREAM (every stream when omitted):
  MODE pull/push, ACK policy, UNPROCESSED matching messages not yet delivered (num_pending, and % of the stream), ACK PENDING delivered but not acknowledged, REDELIVERED being redelivered now, WAITING pull requests waiting, ACK FLOOR (stream sequence), LAST DELIVERY and LAST ACK (how long ago), LAG, STATUS and REPLICAS (leader *, offline or lagging replica !).
LAG is the age of the oldest unacknowledged message: now minus the storage time of the first message after the ack floor that matches the consumer's filter, read by sequence (STREAM.MSG.GET next_by_subj). 0 when nothing is outstanding.
PENDING (for --pending-warn/--pending-crit and --sort pending) is unprocessed + ack pending: the work still to do.
STATUS is the worst of: lag against --lag-warn/--lag-crit (default: the context's, 10s/60s); pending against --pending-warn/--pending-crit (off unless given); CRITICAL when work is pending and nothing was delivered for --stall-after (default 5m). UNKNOWN when a consumer's lag could not be read.
A consumer's natscli metadata sets its own thresholds (servers >= 2.10): io.nats.monitor.unprocessed-critical sets its pending critical, io.nats.monitor.last-delivery-critical its stall time; a flag wins over them, they win over the context and defaults. OWN THRESHOLDS shows them; each reason names the source of the threshold crossed (flag, metadata, context, default); an unreadable value is a WARNING naming the key, and the other threshold applies.
Exit code: always the Nagios code of the worst consumer — 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN — because thresholds always apply (the context's when no flag is given); also with --json. A stream or consumer that does not exist is CRITICAL (2); when the report cannot be made at all (NATS unreachable, bad configuration) the exit code is 3.
--watch refreshes every --interval and adds RATE (change of pending per second since the previous refresh, + growing, - shrinking) and ETA (time to catch up at that rate); live on a terminal, one report after another otherwise (JSON lines with --json). Ctrl-C exits 130.`
  static examples = [
    {description: 'Every consumer on the events stream, worst lag first', command: '<%= config.bin %> consumer report EVENTS'},
    {description: 'All streams, most pending work first, stricter lag thresholds', command: '<%= config.bin %> consumer report --sort pending --lag-warn 5s --lag-crit 30s'},
    {description: 'Also alert on backlog size (e.g. from Nagios: the exit code is the status)', command: '<%= config.bin %> consumer report EVENTS --pending-warn 1000 --pending-crit 10000'},
    {description: 'Watch projections catch up: rate and ETA per consumer', command: '<%= config.bin %> consumer report EVENTS --watch --interval 2s'},
    '<%= config.bin %> consumer report EVENTS --json | jq \'.consumers[] | select(.status != "OK") | {name, lagSeconds, pending}\'',
  ]
  static args = {
    stream: Args.string({description: 'Stream whose consumers to report; every stream when omitted.'}),
  }
  static flags = {
    sort: Flags.option({options: CONSUMER_SORTS, default: 'lag' as const, summary: 'lag: oldest work first; pending: most work first; name: A-Z.'})(),
    watch: Flags.boolean({summary: 'Refresh every --interval until Ctrl-C, with backlog rate and ETA.'}),
    interval: Flags.string({summary: 'Pause between refreshes with --watch.', default: '5s'}),
    'lag-warn': Flags.string({summary: 'Lag warning threshold [context, default 10s].', helpGroup: THRESHOLDS}),
    'lag-crit': Flags.string({summary: 'Lag critical threshold [context, default 60s].', helpGroup: THRESHOLDS}),
    'pending-warn': Flags.string({summary: 'Pending events (unprocessed + ack pending) warning threshold [off].', helpGroup: THRESHOLDS}),
    'pending-crit': Flags.string({summary: 'Pending events critical threshold [off].', helpGroup: THRESHOLDS}),
    'stall-after': Flags.string({summary: 'Work pending and no delivery for this long = stalled, CRITICAL [context, default 5m].', helpGroup: THRESHOLDS}),
  }

  async run(): Promise<ConsumerReport | undefined> {
    const ctx = await this.context()
    const f = this.flags
    const thresholds = consumerThresholds(ctx, {lagWarn: f['lag-warn'], lagCrit: f['lag-crit'], pendingWarn: f['pending-warn'], pendingCrit: f['pending-crit'], stallAfter: f['stall-after']})
    const intervalMs = parseDuration(f.interval, '--interval', {max: MAX_TIMER_MS})
    const [{sessionReader}, {consumerReport}] = await Promise.all([import('../../lib/streams/reader.js'), import('../../lib/streams/consumer-report.js')])
    const reader = await sessionReader(await (await this.nats({reconnect: f.watch})).jetstream())
    const report = () => consumerReport(reader, {stream: this.args.stream, thresholds, sort: f.sort, signal: this.signal})
    if (!f.watch) {
      const result = await report()
      this.print(this.renderReport(result, false))
      process.exitCode = NAGIOS_CODE[result.status]
      return result
    }
    const [{watchLoop}, {withTrends}] = await Promise.all([import('../../lib/ui/watch-loop.js'), import('../../lib/streams/rates.js')])
    const json = this.jsonEnabled()
    await watchLoop<ConsumerReport>(async (previous) => withTrends(previous, await report()), {
      intervalMs,
      signal: this.signal,
      live: Boolean(process.stdout.isTTY) && !json,
      header: (last) => `cimops consumer report${this.args.stream ? ` ${this.args.stream}` : ''} — every ${f.interval}${last ? ` — ${new Date(last.checkedAt).toLocaleTimeString()}` : ''} — Ctrl-C to stop`,
      render: (result) => (json ? JSON.stringify(redact(result)) : this.renderReport(result, true)),
      onResult: (result) => {
        process.exitCode = NAGIOS_CODE[result.status]
      },
    })
    return undefined
  }

  private renderReport(report: ConsumerReport, trend: boolean): string {
    const {style} = this
    const many = report.streams.length > 1
    const columns: Array<Column<ConsumerRow>> = [
      ...(many ? [{header: 'STREAM', get: (r: ConsumerRow) => r.stream}] : []),
      {header: 'CONSUMER', get: (r) => r.name, flexible: true},
      {header: 'MODE', get: (r) => r.mode},
      {header: 'ACK', get: (r) => r.ackPolicy},
      {header: 'UNPROCESSED', get: (r) => (r.unprocessed === 0 ? '0' : `${r.unprocessed} / ${r.unprocessedPercent}%`), align: 'right'},
      {header: 'ACK PENDING', get: (r) => String(r.ackPending), align: 'right'},
      {header: 'REDELIVERED', get: (r) => String(r.redelivered), align: 'right'},
      {header: 'WAITING', get: (r) => String(r.waiting), align: 'right'},
      {header: 'ACK FLOOR', get: (r) => String(r.ackFloor.streamSeq), align: 'right'},
      {header: 'LAST DELIVERY', get: (r) => ago(r.lastDeliverySeconds), align: 'right'},
      {header: 'LAST ACK', get: (r) => ago(r.lastAckSeconds), align: 'right'},
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
        ? [{header: 'OWN THRESHOLDS', get: (r: ConsumerRow) => ownThresholds(r) || '-', flexible: true}]
        : []),
      {header: 'REPLICAS', get: (r) => renderReplicas(r.cluster ?? undefined), flexible: true},
    ]
    const limits = thresholdsPhrase(describeThresholds({values: report.thresholds, sources: report.thresholdSources, metadataKeys: {}}))
    const where = many ? plural(report.streams.length, 'stream') : report.streams.map((s) => `${s.name} (${plural(s.messages, 'message')})`).join('')
    const title = style.bold(`Consumer report for ${where} with ${plural(report.consumers.length, 'consumer')}`) + style.dim(` — ${limits}`)
    const table = report.consumers.length > 0 ? renderTable(report.consumers, columns, {width: this.width, paintHeader: style.dim}) : ''
    return [title, ...(table ? ['', table] : []), '', `${style.status(report.status)} ${report.summary}`].join('\n')
  }
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
