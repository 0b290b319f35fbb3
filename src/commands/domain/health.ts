import {Flags} from '@oclif/core'

import {BaseCommand} from '../../lib/core/base-command.js'
import {NAGIOS_CODE} from '../../lib/core/check/status.js'
import {MAX_TIMER_MS, parseDuration} from '../../lib/core/duration.js'
import {UsageError} from '../../lib/core/errors.js'
import {redact} from '../../lib/core/redact.js'
import {DEFAULT_DOMAIN_THRESHOLDS, type DomainHealthReport, MIN_EVENTS_FOR_GAP} from '../../lib/domains/model.js'
import {consumerThresholds} from '../../lib/streams/thresholds.js'

const THRESHOLDS = 'THRESHOLD'
const DEFAULT_COUNT_LIMIT = 20_000

export default class DomainHealth extends BaseCommand<typeof DomainHealth> {
  static isCheck = true
  static strict = false
  static summary = 'One view per CIM domain: event rates, failed events, its projections, the newest event, storage and firing alerts'
  static description = `Every domain of the context's events stream (cim.<domain>.> subjects and <domain>-<projection> consumers), or those named:
  NOW, LAST 1H  events stored in the last 5 minutes and the last hour, counted in the stream itself (exact: each matching message is read, headers only; past --count-limit it says "> N"); PROM NOW, PROM 1H: the monitor's cim_events_total in Prometheus, when it has it;
  NEWEST        age of the domain's newest event;
  FAILED        stored events whose type ends in "Failed" (the server's per-subject counts), and in brackets cim_events_failed_total over the last hour;
  PROJECTIONS   the durable consumers <domain>-<projection>, each ok, behind (lag past --lag-warn), stalled (work pending and no delivery for --stall-after), paused (servers >= 2.11) or unknown (lag unreadable), with its lag;
  STORAGE ≈     an estimate: JetStream counts bytes per stream, not per subject, so the stream's bytes × the domain's share of its messages;
  ALERTS        alerts firing now (neither silenced nor inhibited) with the label domain=<domain>.
Verdict per domain, worst wins: a stalled projection or one past --lag-crit, or a critical alert, is CRITICAL; a projection behind or paused, a warning alert, a silent domain, or failed events at --failed-warn of the last hour's (Prometheus) are WARNING; Alertmanager unreadable is UNKNOWN.
Silent: the domain's usual gap between events is the mean over its stored events (newest minus oldest over their number less one; at least ${MIN_EVENTS_FOR_GAP} events, else never silent); it is silent when its newest event is older than --silence-factor such gaps and at least --silence-min old.
Exit code: the Nagios code of the worst domain (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), also with --json; a domain that does not exist is a usage error (64); NATS unreachable or the stream missing: 3 and 2 as for consumer report.
--watch refreshes every --interval until Ctrl-C: live on a terminal; otherwise one report after another, or JSON lines with --json.`
  static examples = [
    '<%= config.bin %> domain health',
    {description: 'Two domains, from Nagios: the exit code is the verdict', command: '<%= config.bin %> domain health workflow graph'},
    {description: 'Watch a domain recover', command: '<%= config.bin %> domain health workflow --watch --interval 10s'},
    '<%= config.bin %> domain health --json | jq \'.domains[] | select(.status != "OK") | {domain, reasons}\'',
  ]
  static flags = {
    watch: Flags.boolean({summary: 'Refresh every --interval until Ctrl-C.'}),
    interval: Flags.string({summary: 'Pause between refreshes with --watch.', default: '10s'}),
    'count-limit': Flags.integer({summary: 'Most events counted per domain and window (each is read).', default: DEFAULT_COUNT_LIMIT, min: 1}),
    'lag-warn': Flags.string({summary: 'Projection lag warning threshold [context, default 10s].', helpGroup: THRESHOLDS}),
    'lag-crit': Flags.string({summary: 'Projection lag critical threshold [context, default 60s].', helpGroup: THRESHOLDS}),
    'stall-after': Flags.string({summary: 'Work pending and no delivery for this long = stalled, CRITICAL [context, default 5m].', helpGroup: THRESHOLDS}),
    'silence-factor': Flags.integer({summary: 'Silent after this many usual gaps between events...', default: DEFAULT_DOMAIN_THRESHOLDS.silenceFactor, min: 1, helpGroup: THRESHOLDS}),
    'silence-min': Flags.string({summary: '...and no sooner than this.', default: '15m', helpGroup: THRESHOLDS}),
    'failed-warn': Flags.string({summary: 'Failed share of the last hour\'s events (Prometheus) that is a WARNING, in percent.', default: '5', helpGroup: THRESHOLDS}),
  }

  async run(): Promise<DomainHealthReport | undefined> {
    const {argv} = await this.parse(DomainHealth)
    const domains = (argv as string[]).filter(Boolean)
    const ctx = await this.context()
    const f = this.flags
    const failedPercent = Number(f['failed-warn'])
    if (!/^\d+(\.\d+)?$/.test(f['failed-warn'].trim()) || failedPercent > 100) throw new UsageError(`invalid --failed-warn "${f['failed-warn']}"`, 'expected a percentage from 0 to 100')
    const thresholds = {silenceFactor: f['silence-factor'], silenceMinSeconds: parseDuration(f['silence-min'], '--silence-min') / 1000, failedShareWarn: failedPercent / 100}
    const lag = consumerThresholds(ctx, {lagWarn: f['lag-warn'], lagCrit: f['lag-crit'], stallAfter: f['stall-after']})
    const intervalMs = parseDuration(f.interval, '--interval', {max: MAX_TIMER_MS})
    const [{domainHealth}, {renderDomainHealth}] = await Promise.all([import('../../lib/domains/service.js'), import('../../lib/domains/render.js')])
    const nats = await this.nats({reconnect: f.watch})
    const report = () => domainHealth(ctx, {domains, consumerThresholds: lag, thresholds, countLimit: f['count-limit'], nats, signal: this.signal})
    if (!f.watch) {
      const result = await report()
      this.print(renderDomainHealth(result, {style: this.style, width: this.width}))
      process.exitCode = NAGIOS_CODE[result.status]
      return result
    }
    const {watchLoop} = await import('../../lib/ui/watch-loop.js')
    const json = this.jsonEnabled()
    await watchLoop<DomainHealthReport>(() => report(), {
      intervalMs,
      signal: this.signal,
      live: Boolean(process.stdout.isTTY) && !json,
      json,
      header: (last) => `cimops domain health${domains.length > 0 ? ` ${domains.join(' ')}` : ''} — every ${f.interval}${last ? ` — ${new Date(last.checkedAt).toLocaleTimeString()}` : ''} — Ctrl-C to stop`,
      render: (result) => (json ? JSON.stringify(redact(result)) : renderDomainHealth(result, {style: this.style, width: this.width})),
      onResult: (result) => {
        process.exitCode = NAGIOS_CODE[result.status]
      },
    })
    return undefined
  }
}
