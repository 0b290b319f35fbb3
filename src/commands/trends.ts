import {Flags} from '@oclif/core'

import {BaseCommand} from '../lib/core/base-command.js'
import {NAGIOS_CODE} from '../lib/core/check/status.js'
import {parseDuration} from '../lib/core/duration.js'
import {UsageError} from '../lib/core/errors.js'
import {parseTimeFlag} from '../lib/core/time-flag.js'
import type {TrendsReport} from '../lib/trends/model.js'

const DAY_MS = 86_400_000

export default class Trends extends BaseCommand<typeof Trends> {
  static isCheck = true
  static summary = 'The weekly review: event trends per domain, busiest hours, errors, lag, storage growth and capacity against the seed\'s guidelines'
  static description = `Reads --weeks of the monitor's metrics from Prometheus, in days of 24 hours ending at the last full hour (UTC):
  events      per day per domain (cim_events_total), this week against the weeks before, the busiest day against the 10M/day sharding guideline;
  errors      cim_events_failed_total / cim_events_total per domain, per day and week;
  hours       the busiest hours of this week (UTC);
  lag         p50/p95/p99/max of cim_projection_lag_seconds per projection, per week;
  storage     cim_nats_jetstream_storage_bytes per stream: growth per day (least squares over 7 days) and the date that line reaches the stream's max_bytes or the account's JetStream limit (both from NATS); per domain an estimate against the plan of ~10 GB/month (the events stream's growth shared by the domains' events: there is no per-domain byte metric);
  series      prometheus_tsdb_head_series against the 1M guideline for adding replicas.
Days before Prometheus' history (15 days by default retention) are counted on the events stream where that is available, else shown as not available.
Status: a stream or the account reaching its limit within --full-crit is CRITICAL, within --full-warn WARNING; a domain past 10M events/day or Prometheus past 1M active series is WARNING; no cim_events_total in Prometheus is UNKNOWN.
Exit code = Nagios code of the status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, also when Prometheus cannot be read), in every format and with --output.`
  static examples = [
    '<%= config.bin %> trends',
    {description: 'The weekly review page, from cron', command: '<%= config.bin %> trends --format md --output /var/lib/cimops/trends-$(date +%F).md'},
    {description: 'A self-contained HTML report with charts', command: '<%= config.bin %> trends --format html --output report.html'},
    {description: 'Last week\'s review, eight weeks back', command: '<%= config.bin %> trends --weeks 8 --until 2026-11-30T00:00:00Z'},
    '<%= config.bin %> trends --json | jq \'.storage.streams[] | {stream, fullAt: .forecast.fullAt}\'',
  ]
  static flags = {
    weeks: Flags.integer({summary: 'Weeks to compare; the last one is "this week".', default: 4, min: 1, max: 26}),
    format: Flags.option({options: ['text', 'md', 'html', 'json'] as const, default: 'text', summary: 'Report format (json = --json).'})(),
    output: Flags.string({char: 'o', aliases: ['out'], summary: 'Write the report to this file (atomically) instead of stdout; stdout gets the one-line status.'}),
    until: Flags.string({summary: 'End of the window: RFC 3339, or a duration back from now [default: now].'}),
    'full-warn': Flags.string({summary: 'A stream or the account reaching its limit within this: WARNING.', default: '30d'}),
    'full-crit': Flags.string({summary: 'A stream or the account reaching its limit within this: CRITICAL.', default: '7d'}),
  }

  async run(): Promise<TrendsReport> {
    const f = this.flags
    const until = f.until === undefined ? new Date() : parseTimeFlag('--until', f.until, new Date())
    const fullWarnDays = parseDuration(f['full-warn'], '--full-warn') / DAY_MS
    const fullCritDays = parseDuration(f['full-crit'], '--full-crit') / DAY_MS
    if (fullCritDays > fullWarnDays) throw new UsageError('inconsistent --full-warn/--full-crit', `warning ${f['full-warn']} must be at least critical ${f['full-crit']}`)
    if (f.output) await (await import('../lib/core/atomic-write.js')).checkUserFile(f.output, '--output')

    const ctx = await this.context()
    const [{buildTrends}, {trendSources}] = await Promise.all([import('../lib/trends/service.js'), import('../lib/trends/sources.js')])
    const report = await buildTrends(await trendSources(ctx, await this.nats()), {weeks: f.weeks, until, eventsStream: ctx.streams.events, fullWarnDays, fullCritDays})
    process.exitCode = NAGIOS_CODE[report.status]

    const {redact, redactString} = await import('../lib/core/redact.js')
    const text = async (): Promise<string> => {
      if (this.jsonEnabled() || f.format === 'json') return `${JSON.stringify(redact(report), null, 2)}\n`
      if (f.format === 'md') return `${redactString((await import('../lib/trends/render-md.js')).renderTrendsMarkdown(report))}\n`
      if (f.format === 'html') return redactString((await import('../lib/trends/render-html.js')).renderTrendsHtml(report))
      const plain = f.output ? (await import('../lib/core/output/style.js')).createStyle({noColor: true}) : this.style
      return `${redactString((await import('../lib/trends/render-text.js')).renderTrendsText(report, plain, f.output ? undefined : this.width))}\n`
    }
    if (f.output) {
      const {writeUserFile} = await import('../lib/core/atomic-write.js')
      await writeUserFile(f.output, await text(), '--output', 0o644)
      this.print(`${this.style.status(report.status, report.status)} ${report.summary} (report in ${f.output})`)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(await text())
    }
    return report
  }
}
