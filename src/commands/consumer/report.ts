import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {MAX_TIMER_MS, parseDuration} from '../../lib/core/duration.js'
import {redact} from '../../lib/core/redact.js'
import {NAGIOS_CODE} from '../../lib/core/check/status.js'
import {CONSUMER_SORTS, type ConsumerReport} from '../../lib/streams/consumer-report.js'
import {renderConsumerReport} from '../../lib/streams/render.js'
import {consumerThresholds} from '../../lib/streams/thresholds.js'

const THRESHOLDS = 'THRESHOLD'

export default class ConsumerReportCommand extends BaseCommand<typeof ConsumerReportCommand> {
  static isCheck = true
  static summary = 'Which consumers are behind: backlog, ack state, lag in seconds and a status per consumer'
  static description = `One row per durable consumer of STREAM (every stream when omitted): the projections. Ephemeral consumers (no durable name: natscli sessions, the event monitor's cimops_monitor_…) are left out, counted under the table, and judged by no threshold; --all adds them, marked "(ephemeral)". --json has the same rows, each with "ephemeral": true|false, and "ephemeralHidden", the number left out.
  MODE pull/push, ACK policy, UNPROCESSED matching messages not yet delivered (num_pending, and % of the stream), ACK PENDING delivered but not acknowledged, REDELIVERED being redelivered now, WAITING pull requests waiting, ACK FLOOR (stream sequence), LAST DELIVERY and LAST ACK (how long ago), LAG, STATUS and REPLICAS (leader *, offline or lagging replica !).
LAG is the age of the oldest unacknowledged message: now minus the storage time of the first message after the ack floor that matches the consumer's filter, read by sequence (STREAM.MSG.GET next_by_subj). 0 when nothing is outstanding.
PENDING (for --pending-warn/--pending-crit and --sort pending) is unprocessed + ack pending: the work still to do.
STATUS is the worst of: lag against --lag-warn/--lag-crit (default: the context's, 10s/60s); pending against --pending-warn/--pending-crit (off unless given); CRITICAL when work is pending and nothing was delivered for --stall-after (default 5m). UNKNOWN when a consumer's lag could not be read.
A consumer's natscli metadata sets its own thresholds (servers >= 2.10): io.nats.monitor.unprocessed-critical sets its pending critical, io.nats.monitor.last-delivery-critical its stall time; a flag wins over them, they win over the context and defaults. OWN THRESHOLDS shows them; each reason names the source of the threshold crossed (flag, metadata, context, default); an unreadable value is a WARNING naming the key, and the other threshold applies.
Exit code: always the Nagios code of the worst consumer — 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN — because thresholds always apply (the context's when no flag is given); also with --json. A stream or consumer that does not exist is CRITICAL (2); when the report cannot be made at all (NATS unreachable, bad configuration) the exit code is 3.
--watch refreshes every --interval and adds RATE (change of pending per second since the previous refresh, + growing, - shrinking) and ETA (time to catch up at that rate); live on a terminal; otherwise one report after another, each under a line with the local time of its refresh (\`── 2026-12-05 21:04:05 ──\`), or JSON lines with --json. Ctrl-C exits 130.`
  static examples = [
    {description: 'Every consumer on the events stream, worst lag first', command: '<%= config.bin %> consumer report EVENTS'},
    {description: 'All streams, most pending work first, stricter lag thresholds', command: '<%= config.bin %> consumer report --sort pending --lag-warn 5s --lag-crit 30s'},
    {description: 'Also alert on backlog size (e.g. from Nagios: the exit code is the status)', command: '<%= config.bin %> consumer report EVENTS --pending-warn 1000 --pending-crit 10000'},
    {description: 'Ephemeral consumers too (natscli sessions, the event monitor)', command: '<%= config.bin %> consumer report EVENTS --all'},
    {description: 'Watch projections catch up: rate and ETA per consumer', command: '<%= config.bin %> consumer report EVENTS --watch --interval 2s'},
    '<%= config.bin %> consumer report EVENTS --json | jq \'.consumers[] | select(.status != "OK") | {name, lagSeconds, pending}\'',
  ]
  static args = {
    stream: Args.string({description: 'Stream whose consumers to report; every stream when omitted.'}),
  }
  static flags = {
    all: Flags.boolean({summary: 'Also ephemeral consumers (no durable name: natscli sessions, the event monitor), marked "(ephemeral)".'}),
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
    const report = () => consumerReport(reader, {stream: this.args.stream, thresholds, sort: f.sort, ephemeral: f.all, signal: this.signal})
    if (!f.watch) {
      const result = await report()
      this.print(renderConsumerReport(result, {style: this.style, width: this.width}))
      process.exitCode = NAGIOS_CODE[result.status]
      return result
    }
    const [{watchLoop}, {withTrends}] = await Promise.all([import('../../lib/ui/watch-loop.js'), import('../../lib/streams/rates.js')])
    const json = this.jsonEnabled()
    await watchLoop<ConsumerReport>(async (previous) => withTrends(previous, await report()), {
      intervalMs,
      signal: this.signal,
      live: Boolean(process.stdout.isTTY) && !json,
      json,
      header: (last) => `cimops consumer report${this.args.stream ? ` ${this.args.stream}` : ''} — every ${f.interval}${last ? ` — ${new Date(last.checkedAt).toLocaleTimeString()}` : ''} — Ctrl-C to stop`,
      render: (result) => (json ? JSON.stringify(redact(result)) : renderConsumerReport(result, {style: this.style, width: this.width, trend: true})),
      onResult: (result) => {
        process.exitCode = NAGIOS_CODE[result.status]
      },
    })
    return undefined
  }
}
